"""What a person standing at a kiosk sees: one summary per operation, screens, error screens (pure).

Each canonical operation's result is first *summarised*: a title, sections of
labelled rows, and, when the result is something to keep (a filing receipt, a
payment notice, a case-progress summary, a template list), a :class:`Keepsake`
naming what the printed receipt is and which id its QR code carries. The
screen is that summary in large type (short lines, at most
``layout.SCREEN_COLUMNS`` columns, a few rows per section); the receipt
(``receipts.py``) is the same summary at 48 columns with a header and footer.

Personal data never reaches a screen unmasked: person names become ``张*``,
ID numbers ``440***********0014``, phone numbers ``138****1234``; the
person's own data arrives here already masked (:class:`Holder`). Canonical
results are rendered defensively: courts may add fields or leave optional
ones out, and nothing here may fail because a court was terse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.kiosk import layout
from gateway import (
    ErrorCode,
    GatewayError,
    application_kind_label,
    hearing_mode_label,
    mask_id_number,
    mask_name,
    mask_phone,
    operation_label,
)
from gateway import status_label as vocabulary_status

MAX_LIST_ROWS = 20  # receipts list at most this many items; the screen fewer

# --------------------------------------------------------------------------- building blocks


@dataclass(frozen=True)
class Row:
    """One labelled value (``label：value``) or, without a label, a sentence."""

    value: str
    label: str | None = None


@dataclass(frozen=True)
class Section:
    heading: str | None
    rows: tuple[Row, ...]
    #: how many rows the screen shows (the receipt shows all); None = all
    screen_rows: int | None = None


@dataclass(frozen=True)
class Keepsake:
    """A summary worth printing: the receipt's title and the reference its QR code carries."""

    title: str
    ref_kind: str  # FILING, SUBMISSION, PAYMENT ... (ASCII, in the QR payload)
    ref: str


@dataclass(frozen=True)
class Summary:
    title: str
    sections: tuple[Section, ...]
    keep: Keepsake | None = None
    tone: str = "success"  # success | info | warning | error
    hint: str | None = None  # the next step, shown last


@dataclass(frozen=True)
class Action:
    id: str
    label: str


PRINT = Action("print", "打印回执")
BACK = Action("back", "返回")
HOME = Action("home", "返回首页")
EJECT = Action("eject", "退卡")
RETRY = Action("retry", "重试")
HELP = Action("help", "呼叫工作人员")


@dataclass(frozen=True)
class Block:
    lines: tuple[str, ...]
    heading: str | None = None


@dataclass(frozen=True)
class Screen:
    title: str
    blocks: tuple[Block, ...]
    actions: tuple[Action, ...]
    tone: str = "info"


@dataclass(frozen=True)
class Holder:
    """The signed-in person as screens and receipts may show them: masked at construction."""

    name: str | None = None
    id_number: str | None = None
    phone: str | None = None

    @classmethod
    def masked(cls, name: str | None, id_number: str | None, phone: str | None) -> Holder:
        return cls(mask_name(name) if name else None, mask_id_number(id_number) if id_number else None,
                   mask_phone(phone) if phone else None)


# --------------------------------------------------------------------------- wording

# Statuses, operations, application kinds and hearing modes: gateway.vocabulary, as on every channel.

CREATING_OPERATIONS: dict[str, str] = {
    "refunds.apply": "refund", "certificates.request": "certificate", "file_reviews.request": "file_review",
    "appeals.file": "appeal", "enforcement.apply": "enforcement", "petitions.submit": "petition",
}
MATERIAL_KINDS = {"evidence": "证据材料", "supplement": "补充材料"}
ROLE_LABELS = {"plaintiff": "原告", "defendant": "被告", "third_party": "第三人", "agent": "委托诉讼代理人",
               "legal_representative": "法定代表人", "defender": "辩护人"}
_ORGANISATION = re.compile(r"(公司|厂|中心|集团|银行|委员会|事务所|合作社|协会|学校|医院|局|院|所|站|店|行|社|部|会)$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def status_label(item: Mapping[str, Any]) -> str:
    """The court's own wording when it sent one, else ours, else the code itself."""
    label = item.get("status_label")
    if isinstance(label, str) and label.strip():
        return label
    status = str(item.get("status") or "")
    return vocabulary_status(str(item.get("kind") or "") or None, status) if status else "—"


def _mode(hearing: Mapping[str, Any]) -> str | None:
    mode = hearing.get("mode")
    return hearing_mode_label(str(mode)) if mode else None


def when(value: object) -> str:
    """``2026-03-15T10:32:00+08:00`` -> ``2026-03-15 10:32``; dates stay dates."""
    text = "" if value is None else str(value)
    match = re.match(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}))?", text)
    if not match:
        return text or "—"
    return match.group(1) + (" " + match.group(2) if match.group(2) else "")


def money(value: object) -> str:
    return f"{value}元" if value not in (None, "") else "—"


def party_name(value: object) -> str:
    """Organisations are named in full; a person's name is masked (a screen faces the room)."""
    name = str(value or "").strip()
    if not name:
        return "—"
    return name if _ORGANISATION.search(name) else mask_name(name)


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


# --------------------------------------------------------------------------- summaries per operation


Renderer = Callable[[Mapping[str, Any], Any], Summary]


def _d(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(result: Any) -> list[Mapping[str, Any]]:
    items = _d(result).get("items")
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []


def _rows(*pairs: tuple[str, object]) -> tuple[Row, ...]:
    """Labelled rows, leaving out values a court did not send."""
    return tuple(Row(str(value), label) for label, value in pairs if value not in (None, "", []))


def _case_no(args: Mapping[str, Any], result: Any) -> object:
    return _d(result).get("case_no") or args.get("case_no")


def progress(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    case_no = str(body.get("case_no") or args.get("case_no") or "")
    facts = Section(None, _rows(
        ("案号", case_no), ("法院", body.get("court_name") or body.get("court")), ("案由", body.get("cause")),
        ("当前阶段", body.get("stage_label") or body.get("stage")), ("承办法官", body.get("judge")),
        ("立案日期", when(body.get("filed_at")) if body.get("filed_at") else None),
    ))
    sections = [facts]
    hearing = _d(body.get("next_hearing"))
    if hearing:
        sections.append(Section("下次开庭", _rows(
            ("时间", when(hearing.get("at"))), ("地点", hearing.get("place")),
            ("方式", _mode(hearing)),
        )))
    nodes = [n for n in body.get("nodes") or [] if isinstance(n, Mapping)]
    latest = list(reversed(nodes))[:MAX_LIST_ROWS]
    if latest:
        rows = tuple(Row(f"{when(n.get('at'))[:10]} {n.get('label') or n.get('code') or ''}") for n in latest)
        sections.append(Section("最近进展", rows, screen_rows=3))
    return Summary("案件进度", tuple(sections), Keepsake("案件进度查询单", "CASE", case_no), tone="info")


def cases_list(args: Mapping[str, Any], result: Any) -> Summary:
    rows = []
    for item in _items(result)[:MAX_LIST_ROWS]:
        rows.append(Row(f"{item.get('case_no', '')} {item.get('stage_label') or item.get('stage') or ''}"))
    sections = [Section("您参与的案件", tuple(rows) or (Row("暂未查询到您参与的案件。"),), screen_rows=5)]
    sections.extend(_partial(result))
    return Summary("我的案件", tuple(sections), tone="info", hint="选择案号可查看进度。")


def _partial(result: Any) -> list[Section]:
    missing = _d(result).get("partial")
    if isinstance(missing, list) and missing:
        return [Section(None, (Row("部分法院暂时无法查询，结果可能不完整，请稍后再试。"),))]
    return []


def filing(submitted: bool) -> Renderer:
    """``filings.submit`` (just filed: a receipt) and ``filings.get`` (where it stands)."""

    def render(args: Mapping[str, Any], result: Any) -> Summary:
        body = _d(result)
        filing_id = str(body.get("filing_id") or args.get("filing_id") or "")
        rows = _rows(
            ("立案申请编号", filing_id), ("法院", body.get("court") or args.get("court")),
            ("案由", body.get("cause") or args.get("cause")), ("状态", status_label(body)),
            ("提交时间", when(body.get("submitted_at")) if body.get("submitted_at") else None),
            ("案号", body.get("case_no")), ("说明", body.get("reason")),
        )
        if submitted:
            return Summary("立案申请已提交", (Section(None, rows),), Keepsake("网上立案回执", "FILING", filing_id),
                           hint="法院将依法审查，请留意法院通知。")
        return Summary("立案申请详情", (Section(None, rows),), Keepsake("立案进度单", "FILING", filing_id),
                       tone="info")

    return render


def filings_list(args: Mapping[str, Any], result: Any) -> Summary:
    rows = tuple(Row(f"{i.get('filing_id', '')} {i.get('cause') or ''} {status_label(i)}")
                 for i in _items(result)[:MAX_LIST_ROWS])
    sections = [Section("立案申请", rows or (Row("暂无立案申请。"),), screen_rows=5), *_partial(result)]
    return Summary("我的立案申请", tuple(sections), tone="info")


def filing_cancel(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    rows = _rows(("立案申请编号", body.get("filing_id") or args.get("filing_id")), ("状态", status_label(body)))
    return Summary("立案申请已撤回", (Section(None, rows),))


def materials(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    submission_id = str(body.get("submission_id") or "")
    documents = [d for d in args.get("documents") or [] if isinstance(d, Mapping)]
    rows = _rows(
        ("提交编号", submission_id), ("案号", _case_no(args, result)),
        ("材料类型", MATERIAL_KINDS.get(str(args.get("kind")), args.get("kind"))),
        ("份数", f"{len(documents)}份" if documents else None), ("状态", status_label(body)),
        ("提交时间", when(body.get("submitted_at")) if body.get("submitted_at") else None),
    )
    names = tuple(Row(f"{index}. {d.get('name', '')}") for index, d in enumerate(documents[:MAX_LIST_ROWS], 1))
    sections = [Section(None, rows)]
    if names:
        sections.append(Section("材料清单", names, screen_rows=3))
    return Summary("材料已提交", tuple(sections), Keepsake("材料提交回执", "SUBMISSION", submission_id),
                   hint="承办法官将审查您提交的材料。")


def payments_list(args: Mapping[str, Any], result: Any) -> Summary:
    sections = []
    for fee in _items(result)[:MAX_LIST_ROWS]:
        rows = _rows(("金额", money(fee.get("amount"))), ("状态", status_label(fee)),
                     ("缴费期限", when(fee.get("due")) if fee.get("due") else None),
                     ("缴费人", party_name(fee.get("payer")) if fee.get("payer") else None),
                     ("费用编号", fee.get("fee_id")))
        sections.append(Section(str(fee.get("item") or "费用"), rows))
    if not sections:
        sections.append(Section(None, (Row("本案暂无需要缴纳的费用。"),)))
    case_no = str(args.get("case_no") or "")
    keep = Keepsake("案件费用清单", "FEES", case_no) if _items(result) else None
    return Summary("案件费用", (Section(None, _rows(("案号", case_no))), *sections), keep, tone="info")


def payment_notice(args: Mapping[str, Any], result: Any) -> Summary:
    """A payment notice: amount, notice number, where to pay officially; never a link or a private account."""
    body = _d(result)
    notice = _d(body.get("pay_notice"))
    notice_no = str(notice.get("notice_no") or body.get("notice_no") or body.get("payment_id") or "")
    rows = _rows(
        ("缴款通知书编号", notice_no), ("案号", _case_no(args, result)),
        ("金额", money(notice.get("amount") or body.get("amount"))),
        ("收款单位", notice.get("payee")),
        ("缴费期限", when(notice.get("pay_before")) if notice.get("pay_before") else None),
        ("费用编号", body.get("fee_id") or args.get("fee_id")),
    )
    how = str(notice.get("how") or "请凭缴款通知书编号，通过官方非税缴费渠道或到法院诉讼服务中心缴纳。")
    ways = [Row(how)]
    if "个人账户" not in how:
        # Anti-fraud practice (DOMAIN.md section 6): every notice says no one pays into a personal account.
        ways.append(Row("法院不会要求向任何个人账户转账。"))
    sections = (Section(None, rows), Section("缴费方式", tuple(ways)))
    return Summary("缴费通知", sections, Keepsake("诉讼费用缴费通知", "PAYMENT", notice_no),
                   hint="请打印通知后按上述方式缴费。")


def templates_list(args: Mapping[str, Any], result: Any) -> Summary:
    items = _items(result)[:MAX_LIST_ROWS]
    rows = tuple(Row(str(t.get("title") or t.get("template_id") or ""), str(t.get("template_id") or "") or None)
                 for t in items)
    if not rows:
        return Summary("诉讼文书模板", (Section(None, (Row("没有找到相关模板，请换个关键词。"),)),), tone="info")
    ids = ",".join(str(t.get("template_id")) for t in items[:10] if t.get("template_id"))
    return Summary("诉讼文书模板", (Section(f"共{len(items)}个模板", rows, screen_rows=6),),
                   Keepsake("文书模板清单", "TEMPLATES", ids), tone="info", hint="可凭模板编号在本机打印模板。")


def template(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    rows = _rows(("名称", body.get("title")), ("编号", body.get("template_id") or args.get("template_id")),
                 ("说明", body.get("description")), ("更新日期", when(body.get("updated_at"))
                                                    if body.get("updated_at") else None))
    return Summary("文书模板说明", (Section(None, rows, screen_rows=3),), tone="info")


def template_file(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    size = body.get("size")
    rows = _rows(("文件", body.get("file_name")), ("大小", f"{max(1, int(size) // 1024)}KB"
                                                  if isinstance(size, int) else None))
    return Summary("模板已准备好", (Section(None, rows),), hint="请点击“打印”在本机打印模板。")


def fee_quote(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    total = money(body.get("total"))
    if body.get("total_max"):
        total = f"{body.get('total')}至{body.get('total_max')}元"
    items = tuple(Row(money(i.get("amount")), str(i.get("name") or i.get("item") or "费用"))
                  for i in body.get("items") or [] if isinstance(i, Mapping))
    sections = (Section(None, _rows(("案件类型", body.get("case_type") or args.get("case_type")),
                                    ("标的额", money(body.get("amount")) if body.get("amount") else None),
                                    ("合计", total))),
                Section("明细", items, screen_rows=3))
    return Summary("诉讼费计算", sections, tone="info", hint="以法院实际收费通知为准。")


def application(op_id: str) -> Renderer:
    kind = CREATING_OPERATIONS[op_id]

    def render(args: Mapping[str, Any], result: Any) -> Summary:
        body = _d(result)
        application_id = str(body.get("application_id") or "")
        label = application_kind_label(str(body.get("kind") or kind))
        rows = _rows(("申请编号", application_id), ("事项", label), ("案号", _case_no(args, result)),
                     ("状态", status_label(body)),
                     ("提交时间", when(body.get("submitted_at")) if body.get("submitted_at") else None))
        return Summary(f"{label}申请已提交", (Section(None, rows),), Keepsake(f"{label}申请回执", "APPLICATION",
                                                                          application_id),
                       hint="法院将依法审查，请留意法院通知。")

    return render


def application_detail(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    application_id = str(body.get("application_id") or args.get("application_id") or "")
    label = body.get("kind_label") or (application_kind_label(str(body["kind"])) if body.get("kind") else "申请")
    rows = _rows(("申请编号", application_id), ("事项", label), ("案号", body.get("case_no")),
                 ("状态", status_label(body)), ("更新时间", when(body.get("updated_at"))
                                               if body.get("updated_at") else None))
    return Summary("申请详情", (Section(None, rows),), Keepsake("申请进度单", "APPLICATION", application_id),
                   tone="info")


def applications_list(args: Mapping[str, Any], result: Any) -> Summary:
    rows = tuple(Row(f"{i.get('application_id', '')} "
                     f"{i.get('kind_label') or application_kind_label(str(i.get('kind') or ''))} {status_label(i)}")
                 for i in _items(result)[:MAX_LIST_ROWS])
    sections = [Section("申请事项", rows or (Row("暂无申请。"),), screen_rows=5), *_partial(result)]
    return Summary("我的申请", tuple(sections), tone="info")


def judge_message(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    message_id = str(body.get("message_id") or "")
    rows = _rows(("留言编号", message_id), ("案号", _case_no(args, result)), ("状态", status_label(body)),
                 ("答复期限", when(body.get("reply_due")) if body.get("reply_due") else None))
    hint = "法官将在答复期限前回复。"
    if args.get("callback_phone"):
        hint = f"法官将回电{mask_phone(str(args['callback_phone']))}。"
    return Summary("留言已送达", (Section(None, rows),), Keepsake("联系法官留言回执", "MESSAGE", message_id), hint=hint)


def judge_messages_list(args: Mapping[str, Any], result: Any) -> Summary:
    sections = []
    for item in _items(result)[:MAX_LIST_ROWS]:
        rows = _rows(("留言", item.get("text")), ("时间", when(item.get("sent_at")) if item.get("sent_at") else None),
                     ("状态", status_label(item)), ("回复", item.get("reply")))
        sections.append(Section(str(item.get("message_id") or "留言"), rows, screen_rows=3))
    return Summary("我的留言", tuple(sections) or (Section(None, (Row("暂无留言。"),)),), tone="info")


def hearings(args: Mapping[str, Any], result: Any) -> Summary:
    sections = []
    for hearing in _items(result)[:MAX_LIST_ROWS]:
        rows = _rows(("时间", when(hearing.get("at"))), ("地点", hearing.get("place")),
                     ("方式", _mode(hearing)),
                     ("状态", status_label(hearing)))
        sections.append(Section(f"庭审 {hearing.get('hearing_id', '')}", rows))
    case_no = str(args.get("case_no") or "")
    if not sections:
        return Summary("开庭信息", (Section(None, _rows(("案号", case_no)) + (Row("本案暂无开庭安排。"),)),),
                       tone="info")
    return Summary("开庭信息", (Section(None, _rows(("案号", case_no))), *sections),
                   Keepsake("开庭信息单", "HEARINGS", case_no), tone="info", hint="请按时到庭，携带身份证件。")


def hearing_join(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    rows = _rows(("庭审", body.get("hearing_id") or args.get("hearing_id")), ("开庭时间", when(body.get("at"))),
                 ("进入期限", when(body.get("valid_until")) if body.get("valid_until") else None))
    return Summary("可以进入在线庭审", (Section(None, rows),), hint="请在本机点击“进入庭审”，保持面部在镜头内。")


def consultation(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    consultation_id = str(body.get("consultation_id") or "")
    rows = _rows(("咨询编号", consultation_id), ("状态", status_label(body)),
                 ("答复期限", when(body.get("answer_due")) if body.get("answer_due") else None))
    return Summary("咨询已提交", (Section(None, rows),), Keepsake("12368咨询回执", "CONSULTATION", consultation_id),
                   hint="答复后可在本机凭编号查询。")


def consultation_detail(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    rows = _rows(("咨询编号", body.get("consultation_id") or args.get("consultation_id")),
                 ("问题", body.get("question")), ("状态", status_label(body)), ("答复", body.get("answer")))
    return Summary("咨询答复", (Section(None, rows, screen_rows=4),), tone="info")


def mediation(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    mediation_id = str(body.get("mediation_id") or "")
    rows = _rows(("调解编号", mediation_id), ("法院", args.get("court")), ("状态", status_label(body)),
                 ("调解期限", when(body.get("due")) if body.get("due") else None))
    return Summary("调解申请已提交", (Section(None, rows),), Keepsake("诉前调解申请回执", "MEDIATION", mediation_id),
                   hint="调解员将与您联系。")


def mediation_detail(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    rows = _rows(("调解编号", body.get("mediation_id") or args.get("mediation_id")), ("状态", status_label(body)),
                 ("调解期限", when(body.get("due")) if body.get("due") else None),
                 ("更新时间", when(body.get("updated_at")) if body.get("updated_at") else None))
    return Summary("调解进展", (Section(None, rows),), tone="info")


def witness(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    witness_id = str(body.get("witness_id") or args.get("witness_id") or "")
    rows = _rows(("预约编号", witness_id), ("时间", when(body.get("at")) if body.get("at") else None),
                 ("方式", body.get("place")), ("状态", status_label(body)))
    return Summary("授权见证已预约", (Section(None, rows, screen_rows=3),),
                   Keepsake("授权见证预约回执", "WITNESS", witness_id), hint="请按预约时间准备好身份证件。")


def upload(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    size = body.get("size")
    rows = _rows(("文件编号", body.get("upload_id")),
                 ("大小", f"{max(1, int(size) // 1024)}KB" if isinstance(size, int) else None))
    return Summary("文件已上传", (Section(None, rows),), hint="请继续选择“提交材料”完成提交。")


def courts(args: Mapping[str, Any], result: Any) -> Summary:
    rows = tuple(Row(str(c.get("name") or ""), str(c.get("code") or "") or None) for c in _items(result))
    return Summary("法院名录", (Section(None, rows, screen_rows=8),), tone="info")


def delivery(args: Mapping[str, Any], result: Any) -> Summary:
    body = _d(result)
    operation = operation_label(str(body["operation"])) if body.get("operation") else None
    rows = _rows(("受理编号", body.get("delivery_id")), ("业务", operation), ("状态", status_label(body)))
    return Summary("提交进度", (Section(None, rows),), tone="info")


def queued(op_id: str, result: Any) -> Summary:
    """A write the court could not take right now: accepted, delivered later, the person told."""
    delivery_id = str(_d(result).get("delivery_id") or "")
    rows = _rows(("业务", operation_label(op_id)), ("受理编号", delivery_id))
    return Summary("已受理，正在转交法院", (Section(None, rows),), Keepsake("受理回执", "DELIVERY", delivery_id),
                   tone="info", hint="法院系统繁忙，将自动转交，请勿重复提交。")


#: labels of common result fields, for operations without their own summary
GENERIC_LABELS: dict[str, str] = {
    "filing_id": "立案申请编号", "application_id": "申请编号", "submission_id": "提交编号", "message_id": "留言编号",
    "mediation_id": "调解编号", "consultation_id": "咨询编号", "witness_id": "预约编号", "payment_id": "缴费编号",
    "delivery_id": "受理编号", "case_no": "案号", "court_name": "法院", "status_label": "状态",
    "submitted_at": "提交时间", "updated_at": "更新时间", "amount": "金额",
}


def generic(op_id: str, args: Mapping[str, Any], result: Any) -> Summary:
    """Any operation without its own summary: the ids and statuses it returned, in plain words."""
    body = dict(_d(result))
    if "status" in body and "status_label" not in body:
        body["status_label"] = status_label(body)
    rows = []
    for key, label in GENERIC_LABELS.items():
        value = body.get(key)
        if isinstance(value, (str, int, float)) and value != "":
            text = when(value) if key.endswith("_at") else money(value) if key == "amount" else str(value)
            rows.append(Row(text, label))
    if not rows:
        rows.append(Row("办理完成。"))
    return Summary(operation_label(op_id) if op_id else "办理结果", (Section(None, tuple(rows)),))


SUMMARIES: dict[str, Renderer] = {
    "cases.progress": progress,
    "cases.list": cases_list,
    "filings.submit": filing(submitted=True),
    "filings.get": filing(submitted=False),
    "filings.list": filings_list,
    "filings.cancel": filing_cancel,
    "materials.submit": materials,
    "payments.list": payments_list,
    "payments.create": payment_notice,
    "templates.list": templates_list,
    "templates.get": template,
    "templates.download": template_file,
    "fees.calculate": fee_quote,
    **{op_id: application(op_id) for op_id in CREATING_OPERATIONS},
    "applications.get": application_detail,
    "applications.list": applications_list,
    "judge_messages.send": judge_message,
    "judge_messages.list": judge_messages_list,
    "hearings.list": hearings,
    "hearings.join": hearing_join,
    "consultations.create": consultation,
    "consultations.get": consultation_detail,
    "mediations.apply": mediation,
    "mediations.get": mediation_detail,
    "witness.book": witness,
    "witness.get": witness,
    "uploads.create": upload,
    "courts.list": courts,
    "deliveries.get": delivery,
}


def summarise(op_id: str, args: Mapping[str, Any], result: Any, *, is_queued: bool = False) -> Summary:
    if is_queued:
        return queued(op_id, result)
    renderer = SUMMARIES.get(op_id)
    if renderer is None:
        return generic(op_id, args, result)
    return renderer(args, result)


# --------------------------------------------------------------------------- screens


def _block(section: Section, columns: int) -> Block:
    rows = section.rows if section.screen_rows is None else section.rows[: section.screen_rows]
    lines: list[str] = []
    for row in rows:
        lines.extend(layout.labelled(row.label, row.value, columns) if row.label else layout.wrap(row.value, columns))
    if section.screen_rows is not None and len(section.rows) > section.screen_rows:
        lines.append(f"……另有{len(section.rows) - section.screen_rows}项，可打印查看")
    return Block(tuple(lines), section.heading)


def screen_of(summary: Summary, *, can_print: bool = True) -> Screen:
    blocks = [_block(section, layout.SCREEN_COLUMNS) for section in summary.sections if section.rows]
    if summary.hint:
        blocks.append(Block(tuple(layout.wrap(summary.hint, layout.SCREEN_COLUMNS))))
    actions = (PRINT, BACK, EJECT) if summary.keep is not None and can_print else (BACK, EJECT)
    return Screen(summary.title, tuple(blocks), actions, summary.tone)


def welcome_screen(holder: Holder, idle_timeout_s: int) -> Screen:
    lines = [f"{holder.name or ''}，您好", "身份核验已通过。", f"{idle_timeout_s}秒无操作将自动退出。"]
    services = ("查询案件进度", "提交诉讼材料", "缴纳诉讼费用", "联系法官", "下载文书模板")
    return Screen("请选择业务", (Block(tuple(lines)), Block(services, "可办理业务")), (HOME, EJECT), "success")


def goodbye_screen() -> Screen:
    return Screen("已安全退出", (Block(("请取回您的身份证", "和打印的回执。", "本机已清除您的信息。")),), (HOME,), "info")


# --------------------------------------------------------------------------- errors

@dataclass(frozen=True)
class Advice:
    """An error screen: what happened and, always, what to do next."""

    title: str
    lines: tuple[str, ...]
    actions: tuple[Action, ...] = (BACK, HELP)

    @property
    def message(self) -> str:
        return f"{self.title}：{''.join(self.lines)}"


#: the reason a SESSION_EXPIRED carries when the card was taken out (adapters/kiosk/adapter.py)
CARD_REMOVED = "CARD_REMOVED"

ERROR_ADVICE: dict[ErrorCode, Advice] = {
    ErrorCode.VALIDATION_FAILED: Advice("信息有误", ("填写的信息不完整或格式不对。", "请返回修改后再提交。")),
    ErrorCode.INVALID_CASE_NUMBER: Advice("案号有误", ("案号格式不对，应类似", "（2024）粤0106民初88号。", "请返回重新输入。")),
    ErrorCode.INVALID_ID_NUMBER: Advice("证件号码有误", ("证件号码校验未通过。", "请核对后重新输入；", "身份证无法识别请到人工窗口。")),
    ErrorCode.PAYLOAD_TOO_LARGE: Advice("文件太大", ("单个文件不能超过20MB。", "请分几次扫描后重试。")),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: Advice("文件格式不支持", ("请扫描为PDF或图片后重试。",)),
    ErrorCode.UNAUTHENTICATED: Advice("无法确认身份", ("请取回身份证，重新刷证。", "仍不行请联系现场工作人员。"),
                                      (EJECT, HELP)),
    ErrorCode.SIGNATURE_INVALID: Advice("本机暂停服务", ("设备校验未通过。", "请联系现场工作人员，", "或到其他终端办理。"),
                                        (HELP,)),
    ErrorCode.REPLAYED_REQUEST: Advice("操作已过期", ("请返回首页重新操作。", "多次出现请联系工作人员。"), (HOME, HELP)),
    ErrorCode.SESSION_EXPIRED: Advice("已自动退出", ("长时间未操作，已安全退出。", "请取回身份证，", "重新刷证后办理。"),
                                      (EJECT, HOME)),
    ErrorCode.IDENTITY_REJECTED: Advice("身份核验未通过", ("请确认身份证在有效期内，", "正对镜头重新识别。",
                                                           "仍不通过请联系工作人员。"), (RETRY, EJECT, HELP)),
    ErrorCode.ASSURANCE_TOO_LOW: Advice("需要核验身份", ("该业务需刷身份证并人脸识别。", "请退卡后重新刷证。"), (EJECT, HELP)),
    ErrorCode.SERVICE_NOT_ENABLED: Advice("本机暂不办理该业务", ("请到诉讼服务中心窗口办理，", "或拨打12368咨询。"), (BACK, HELP)),
    ErrorCode.NOT_FOUND: Advice("未查询到信息", ("请核对案号等信息后重试。", "只能查询您本人参与的案件。"), (BACK, HELP)),
    ErrorCode.IDEMPOTENCY_IN_PROGRESS: Advice("正在处理", ("上一次提交正在处理中。", "请稍候查看结果，", "不要重复提交。"), (BACK,)),
    ErrorCode.DEADLINE_PASSED: Advice("已超过办理期限", ("如有疑问请咨询现场工作人员，", "或拨打12368。"), (BACK, HELP)),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: Advice("提交编号重复", ("请返回首页重新办理。",), (HOME, HELP)),
    ErrorCode.BACKEND_REJECTED: Advice("法院未受理", ("请按提示修改后重试，", "或咨询现场工作人员。")),
    ErrorCode.RATE_LIMITED: Advice("操作太频繁", ("请稍等一分钟后再试。",), (BACK,)),
    ErrorCode.INTERNAL: Advice("系统繁忙", ("请稍后再试。", "多次失败请联系工作人员，", "或拨打12368。"), (RETRY, HELP)),
    ErrorCode.BACKEND_UNAVAILABLE: Advice("法院系统暂不可用", ("请稍后再试，", "或到人工窗口办理。"), (RETRY, HELP)),
    ErrorCode.SERVICE_UNAVAILABLE: Advice("服务暂不可用", ("请稍后再试，", "或到人工窗口办理。"), (RETRY, HELP)),
    ErrorCode.BACKEND_TIMEOUT: Advice("法院系统响应超时", ("请稍后再试。", "提交类业务请先查询结果，", "避免重复提交。"),
                                      (RETRY, HELP)),
}

#: refusals when a session is opened: each says exactly what is wrong with the card or the face check
IDENTITY_ADVICE: dict[str, Advice] = {
    "CARD_EXPIRED": Advice("身份证已过有效期", ("过期证件不能办理业务。", "请取回身份证，", "到人工窗口办理。"), (EJECT, HELP)),
    "CARD_NOT_YET_VALID": Advice("身份证尚未生效", ("该证件还未到有效期。", "请取回身份证，", "到人工窗口办理。"), (EJECT, HELP)),
    "CARD_UNREADABLE": Advice("身份证信息有误", ("证件信息无法核对。", "请取回身份证，", "到人工窗口办理。"), (EJECT, HELP)),
    "FACE_MISMATCH": Advice("人脸识别未通过", ("请摘下帽子、口罩，", "正对镜头重新识别。", "仍不通过请联系工作人员。"),
                            (RETRY, EJECT, HELP)),
    "ID_NUMBER": Advice("身份证号码无法识别", ("证件号码校验未通过。", "请取回身份证，", "到人工窗口办理。"), (EJECT, HELP)),
    # The session ended because the card was taken out, not because nobody touched the screen.
    CARD_REMOVED: Advice("已退出：身份证已取出", ("身份证已取出，本次办理已结束，", "您的信息已清除。", "请重新刷证后办理。"),
                         (HOME,)),
}


def advice_for(error: GatewayError) -> Advice:
    reason = error.extra.get("reason")
    if isinstance(reason, str) and reason in IDENTITY_ADVICE:
        return IDENTITY_ADVICE[reason]
    return ERROR_ADVICE[error.code]


def error_screen(error: GatewayError) -> Screen:
    advice = advice_for(error)
    blocks = [Block(tuple(line for text in advice.lines for line in layout.wrap(text, layout.SCREEN_COLUMNS)))]
    told = list(_court_words(error))
    if told:
        blocks.append(Block(tuple(told), "法院提示"))
    return Screen(advice.title, tuple(blocks), advice.actions, "error")


def _court_words(error: GatewayError) -> Iterable[str]:
    """What the court itself said, when it said it in Chinese for the citizen (a rejected write's reason,
    a field to correct); developer detail in English is never shown."""
    texts: list[str] = []
    if error.code in (ErrorCode.BACKEND_REJECTED, ErrorCode.DEADLINE_PASSED) and has_chinese(error.detail):
        texts.append(error.detail)
    texts.extend(e.message for e in error.errors if has_chinese(e.message))
    for text in _unique(texts)[:3]:
        yield from layout.wrap(text, layout.SCREEN_COLUMNS)


def _unique(texts: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for text in texts:
        if text not in seen:
            seen.append(text)
    return seen
