"""The words citizens read for a status, an operation, an application kind and a hearing mode.

Every channel (screens, spoken prompts, subscribe messages, cards) and every notification
(SMS) uses these, so a filing reviewed as ``ACCEPTED`` reads 审核通过 on a kiosk, in WeChat and in
the SMS alike. Statuses are those of DOMAIN.md section 4 (whose wording, 审核通过/审核不通过,
follows the national 人民法院在线服务) plus the gateway's own delivery statuses of a queued write.

Labels stay short: the most common ones fit a WeChat ``phrase`` field (5 characters). A value
without a label is shown as it is, never dropped. Pure data and functions: importing this
loads nothing else.
"""

from __future__ import annotations

#: status -> label, whatever kind of item it belongs to (DOMAIN.md section 4)
_STATUSES: dict[str, str] = {
    # applications (filing, appeal, enforcement, certificate, file review)
    "SUBMITTED": "已提交", "UNDER_REVIEW": "审核中", "CORRECTION_REQUIRED": "需补正材料", "ACCEPTED": "审核通过",
    "REJECTED": "审核不通过", "CANCELLED": "已撤回", "DOCKETED": "已立案", "NOT_ACCEPTED": "不予立案",
    # tickets (12368 consultation, judge message, petition)
    "RECEIVED": "已接收", "ANSWERED": "已答复", "DISPATCHED": "已转办", "REPLIED": "已回复", "CLOSED": "已办结",
    # payments and refunds
    "ASSESSED": "待缴费", "PENDING": "待缴费", "PAID": "已缴费", "OVERDUE": "已逾期",
    "APPLIED": "已申请", "RETURNED_FOR_CORRECTION": "退回补正", "APPROVED": "已批准", "REFUNDED": "已退费",
    "FAILED": "未成功",
    # mediations
    "ASSIGNED": "已分派", "IN_MEDIATION": "调解中", "SETTLED": "调解成功", "CONVERTED_TO_FILING": "已转立案",
    # hearings and witness bookings
    "SCHEDULED": "已排期", "NOTIFIED": "已通知", "CHECKED_IN": "已签到", "IN_SESSION": "庭审中", "ADJOURNED": "休庭",
    "CONCLUDED": "已结束", "BOOKED": "已预约",
    # a queued write on its way to the court (deliveries.get, delivery.finished)
    "queued": "等待转交", "delivering": "正在转交", "delivered": "法院已接收", "failed": "转交未成功",
}
#: (item kind, status) -> label, where a kind says it better than the shared word
_KIND_STATUSES: dict[tuple[str, str], str] = {
    ("refund", "FAILED"): "退费失败",
    ("mediation", "FAILED"): "调解未成功",
}

_OPERATIONS: dict[str, str] = {
    "courts.list": "法院名录", "templates.list": "诉讼文书模板", "templates.get": "文书模板说明",
    "templates.download": "下载文书模板", "fees.calculate": "诉讼费计算", "uploads.create": "上传材料",
    "filings.submit": "网上立案", "filings.list": "我的立案申请", "filings.get": "立案申请详情",
    "filings.cancel": "撤回立案申请", "cases.list": "我的案件", "cases.progress": "案件进度",
    "materials.submit": "提交诉讼材料", "payments.list": "案件费用", "payments.create": "缴纳诉讼费",
    "refunds.apply": "申请退费", "certificates.request": "申请生效证明", "file_reviews.request": "申请阅卷",
    "appeals.file": "提起上诉", "enforcement.apply": "申请执行", "applications.list": "我的申请",
    "applications.get": "申请详情", "judge_messages.send": "联系法官", "judge_messages.list": "我的留言",
    "hearings.list": "开庭信息", "hearings.join": "在线庭审", "mediations.apply": "申请诉前调解",
    "mediations.get": "调解进展", "consultations.create": "12368咨询", "consultations.get": "咨询答复",
    "petitions.submit": "信访事项", "witness.book": "预约授权见证", "witness.get": "授权见证预约",
    "deliveries.get": "提交进度",
}

_APPLICATION_KINDS: dict[str, str] = {
    "appeal": "上诉", "certificate": "生效证明", "file_review": "阅卷", "enforcement": "申请执行", "refund": "退费",
    "petition": "信访",
}

_HEARING_MODES: dict[str, str] = {"in_person": "现场开庭", "online": "在线庭审"}


def status_label(kind: str | None, status: str) -> str:
    """The citizen's word for ``status`` of an item of ``kind`` (``filing``, ``refund``, ``mediation``,
    ``delivery`` ...; None when unknown); the status itself when it has no label."""
    if kind is not None and (kind, status) in _KIND_STATUSES:
        return _KIND_STATUSES[kind, status]
    return _STATUSES.get(status, status)


def operation_label(op_id: str) -> str:
    """What a canonical operation is called for citizens (``filings.submit`` -> 网上立案)."""
    return _OPERATIONS.get(op_id, op_id)


def application_kind_label(kind: str) -> str:
    """An application's kind (``file_review`` -> 阅卷)."""
    return _APPLICATION_KINDS.get(kind, kind)


def hearing_mode_label(mode: str) -> str:
    """A hearing's mode (``online`` -> 在线庭审)."""
    return _HEARING_MODES.get(mode, mode)


__all__ = ["application_kind_label", "hearing_mode_label", "operation_label", "status_label"]
