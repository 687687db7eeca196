"""Status and kind labels in plain words, in one place.

The project is gathering every channel's labels into one vocabulary module;
until that lands, the 5G channel keeps its wording here, in :func:`status_label`
and :func:`kind_label` only, so switching over is a change of these two bodies.
The words follow the ones notifications already use.
"""

from __future__ import annotations

_STATUS = {
    "SUBMITTED": "已提交", "UNDER_REVIEW": "审核中", "CORRECTION_REQUIRED": "需补正材料", "ACCEPTED": "审核通过",
    "REJECTED": "审核不通过", "CANCELLED": "已撤回", "DOCKETED": "已立案", "NOT_ACCEPTED": "不予立案",
    "APPLIED": "已申请", "RETURNED_FOR_CORRECTION": "退回补正", "APPROVED": "已批准", "REFUNDED": "已退费",
    "FAILED": "办理失败", "RECEIVED": "已接收", "ANSWERED": "已答复", "DISPATCHED": "已转办", "REPLIED": "已回复",
    "CLOSED": "已办结", "ASSESSED": "待缴纳", "PENDING": "待缴纳", "PAID": "已缴纳", "OVERDUE": "已逾期未缴纳",
    "SCHEDULED": "已排期", "POSTPONED": "已延期", "HELD": "已开庭",
}
_KIND = {
    "appeal": "上诉", "certificate": "生效证明", "file_review": "阅卷", "enforcement": "强制执行", "refund": "退费",
    "petition": "信访", "evidence": "证据", "supplement": "补充材料",
}


def status_label(code: str) -> str:
    """A status code (``UNDER_REVIEW``) in plain words; an unknown one as it came."""
    return _STATUS.get(code, code)


def kind_label(kind: str) -> str:
    return _KIND.get(kind, kind)
