"""What the chatbot says: the menu, its questions, and canonical results as cards in plain words.

Pure functions over canonical results (no I/O). Every card ends with chips for
the next step, so a person never has to guess what to type.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from adapters.rcs5g.labels import kind_label, status_label
from adapters.rcs5g.protocol import Reply, chip, dial_chip
from gateway import ErrorCode, GatewayError

CST = timezone(timedelta(hours=8))
MENU = "menu"
SWITCH = "switch"  # another case: forget the verified one, ask for a case number
MENU_WORDS = ("菜单", "主菜单", "menu", "MENU", "Menu")  # the menu from anywhere
GREETINGS = ("你好", "您好", "开始", "hi", "hello")  # the menu when nothing else is asked
#: service -> (chip text, canonical operation or "" for a flow of several steps)
SERVICES: dict[str, tuple[str, str]] = {
    "progress": ("案件进展", "cases.progress"),
    "hearings": ("开庭信息", "hearings.list"),
    "payments": ("缴费信息", "payments.list"),
    "fees": ("诉讼费计算", "fees.calculate"),
    "templates": ("文书模板", "templates.list"),
    "message": ("给法官留言", "judge_messages.send"),
    "materials": ("提交材料", "materials.submit"),
}
#: services of one case: they need the case number and its query password first
CASE_SERVICES = ("progress", "hearings", "payments", "message", "materials")
#: the case types the fee calculator offers as chips (anything else may be typed)
FEE_CASE_TYPES = (("民初", "民事一审"), ("民终", "民事二审"), ("行初", "行政一审"), ("执", "申请执行"))
MATERIAL_KINDS = (("evidence", "作为证据提交"), ("supplement", "作为补充材料提交"))
NO_NOTE = "不填写说明"
MAX_ITEMS = 5
PAY_OFFICIALLY = "请通过法院官方缴费渠道缴纳，法院不会要求您向任何个人账户转账。"

WELCOME = "您好，这里是广州法院诉讼服务。请选择您要办理的事项，也可以随时回复“菜单”。"
ASK_CASE_NO = "请输入案号，例如：（2026）粤0106民初22468号。全角、半角均可。"
ASK_PASSWORD = "请输入受理通知书上的案件查询密码（4至12位数字）。"
ASK_MESSAGE = "请输入给法官的留言（2000字以内），法官会在两个工作日内答复。"
ASK_FILES = "请发送要提交的文件（图片、PDF等），可以发送多份。"
ASK_NOTE = "请输入一句说明（例如：补充证据），或点“不填写说明”。"
ASK_FEE_TYPE = "请选择案件类型，或直接输入（例如 民初）。"
ASK_FEE_AMOUNT = "请输入争议金额（元），例如 200000；没有金额请输入 0。"
ASK_TEMPLATE = "请输入要找的文书名称，例如：起诉状。"
NOT_A_CASE_NO = "没有识别出案号。案号的样子是：（2026）粤0106民初22468号。"
LEGACY_CASE_NO = "2016年以前的案号请拨打12368热线查询。"
UNKNOWN_COURT = "没有找到这个案号中的法院，请核对后重新输入。"
NOT_A_PASSWORD = "案件查询密码是4至12位数字，请重新输入。"
NOT_AN_AMOUNT = "请输入数字金额，例如 200000。"
NOT_UNDERSTOOD = "没有理解您的意思，请点选下面的服务。"
FILE_NEEDS_CASE = "提交文件前，请先点“提交材料”并验证案件。"
NO_FILES_YET = "还没有收到文件，请先发送文件。"


def _when(text: Any) -> str:
    """``2026-06-15T09:30:00+08:00`` -> ``2026年6月15日 09:30`` (Beijing time); a date alone without the time."""
    raw = str(text or "")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    if len(raw) <= 10:
        return f"{moment.year}年{moment.month}月{moment.day}日"
    if moment.tzinfo is not None:
        moment = moment.astimezone(CST)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def _items(result: Any) -> list[dict[str, Any]]:
    items = result.get("items") if isinstance(result, dict) else None
    return [item for item in items or [] if isinstance(item, dict)]


# --- chips ---------------------------------------------------------------------------------------


def service_chip(service: str) -> dict[str, Any]:
    return chip(SERVICES[service][0], f"svc:{service}")


def menu_chips(hotline: str) -> list[dict[str, Any]]:
    return [*(service_chip(service) for service in SERVICES), dial_chip("人工服务", hotline)]


def back_chips(*services: str) -> list[dict[str, Any]]:
    return [*(service_chip(service) for service in services), chip("菜单", MENU)]


def case_chips() -> list[dict[str, Any]]:
    """After a case answer: the case's other services (no password again), another case, the menu."""
    return [*(service_chip(service) for service in ("progress", "hearings", "payments", "message", "materials")),
            chip("其他案件", SWITCH), chip("菜单", MENU)]


# --- the menu and questions ----------------------------------------------------------------------


def menu(hotline: str, before: str = "") -> Reply:
    return Reply(before + WELCOME, title="广州法院诉讼服务", chips=menu_chips(hotline))


def ask(text: str, chips: list[dict[str, Any]] | None = None) -> Reply:
    return Reply(text, chips=chips if chips is not None else back_chips())


def refused(code: ErrorCode, said: str, chips: list[dict[str, Any]] | None = None) -> Reply:
    """An error the conversation itself finds (a mistyped case number, a wrong password): like every error,
    a text starting with the code's Chinese message (CONTRACTS.md 4.7), then what exactly, then chips."""
    return Reply(f"{GatewayError(code).message}\n{said}", chips=chips if chips is not None else back_chips())


def fee_type_question() -> Reply:
    return ask(ASK_FEE_TYPE, [*(chip(label, f"fee:{code}") for code, label in FEE_CASE_TYPES), chip("菜单", MENU)])


def kind_question(received: list[str]) -> Reply:
    names = "、".join(received)
    chips = [chip(label, f"kind:{kind}") for kind, label in MATERIAL_KINDS]
    return ask(f"已收到文件：{names}。可以继续发送，或选择提交方式。", [*chips, chip("菜单", MENU)])


def note_question() -> Reply:
    return ask(ASK_NOTE, [chip(NO_NOTE, "note:none"), chip("菜单", MENU)])


def password_retry(left: int) -> Reply:
    """The court knows no case of that number with that password: NOT_FOUND, as on the 12368 hotline (a
    person who is no party to the case hears the same as one who mistyped)."""
    return refused(ErrorCode.NOT_FOUND, f"查询密码不正确，您还可以再试{left}次。")


def locked(minutes: int, hotline: str) -> Reply:
    return refused(ErrorCode.RATE_LIMITED, f"由于查询密码输入错误次数过多，案件查询服务暂停使用，请于{minutes}分钟后"
                   f"再试，或拨打{hotline}。", [chip("菜单", MENU), dial_chip("人工服务", hotline)])


def court_paused(court_name: str, hotline: str) -> Reply:
    return refused(ErrorCode.RATE_LIMITED, f"{court_name or '该法院'}的案件查询密码服务暂停使用，请一小时后再试，"
                   f"或拨打{hotline}。", [chip("菜单", MENU), dial_chip("人工服务", hotline)])


# --- answers -------------------------------------------------------------------------------------


def progress_card(result: dict[str, Any]) -> Reply:
    lines = [f"{result.get('court_name') or ''} {result.get('cause') or ''}".strip(),
             f"当前状态：{result.get('stage_label') or status_label(str(result.get('stage', '')))}"]
    nodes = [n for n in result.get("nodes") or [] if isinstance(n, dict)]
    if nodes:
        latest = max(nodes, key=lambda node: str(node.get("at", "")))
        lines.append(f"最近进展：{_when(latest.get('at'))} {latest.get('label') or ''}".rstrip())
    if result.get("judge"):
        lines.append(f"承办法官：{result['judge']}")
    hearing = result.get("next_hearing")
    if isinstance(hearing, dict):
        lines.append(f"下次开庭：{_hearing_words(hearing)}")
    return Reply("\n".join(line for line in lines if line), title=str(result.get("case_no", "案件进展")),
                 chips=case_chips())


def _hearing_words(hearing: dict[str, Any]) -> str:
    mode = "（在线开庭）" if hearing.get("mode") == "online" else ""
    return f"{_when(hearing.get('at'))} {hearing.get('place') or ''}{mode}".strip()


def hearings_card(case_no: str, result: Any) -> Reply:
    items = _items(result)
    lines = [_hearing_words(item) + (f"，{status_label(str(item['status']))}" if item.get("status") else "")
             for item in items[:MAX_ITEMS]] or ["暂无开庭安排。"]
    return Reply("\n".join(lines), title=f"{case_no} 开庭信息", chips=case_chips())


def payments_card(case_no: str, result: Any) -> Reply:
    items = _items(result)
    lines = []
    for item in items[:MAX_ITEMS]:
        due = f"，缴费期限{_when(item['due'])}" if item.get("due") and item.get("status") != "PAID" else ""
        lines.append(f"{item.get('item') or '诉讼费用'} {item.get('amount', '')}元，"
                     f"{status_label(str(item.get('status', '')))}{due}")
    if not lines:
        lines.append("暂无缴费记录。")
    lines.append(PAY_OFFICIALLY)
    return Reply("\n".join(lines), title=f"{case_no} 缴费信息", chips=case_chips())


def fees_card(result: dict[str, Any]) -> Reply:
    total = f"{result.get('total', '')}元"
    if result.get("total_max"):
        total = f"{result.get('total')}至{result['total_max']}元"
    lines = [f"案件类型：{result.get('case_type', '')}", f"应交诉讼费：{total}"]
    lines += [f"{item.get('name') or item.get('item') or ''}：{item.get('amount', '')}元"
              for item in _items(result)[:MAX_ITEMS]]
    if result.get("basis"):
        lines.append(f"依据：{result['basis']}")
    return Reply("\n".join(lines), title="诉讼费计算结果", chips=back_chips("fees"))


def templates_card(result: Any) -> Reply:
    items = _items(result)
    lines = [str(item.get("title") or item.get("name") or item.get("template_id") or "") for item in items[:MAX_ITEMS]]
    if not lines:
        lines = ["没有找到相关文书模板，请换个名称试试。"]
    else:
        lines.append("模板可在法院诉讼服务中心或广州微法院下载。")
    return Reply("\n".join(lines), title="文书模板", chips=back_chips("templates"))


def message_sent_card(case_no: str, result: Any, queued: bool) -> Reply:
    if queued:
        text = "您的留言已受理，将尽快转交法官。"
    else:
        due = _when(result.get("reply_due")) if isinstance(result, dict) and result.get("reply_due") else ""
        text = "您的留言已送达法官" + (f"，法官将在{due}前答复。" if due else "。")
    return Reply(text + "答复后会通过5G消息通知您。", title=f"{case_no} 留言已提交", chips=case_chips())


def materials_card(case_no: str, kind: str, count: int, result: Any, queued: bool) -> Reply:
    status = "已受理，将尽快转交法院" if queued else status_label(str(result.get("status", "RECEIVED"))
                                                                if isinstance(result, dict) else "RECEIVED")
    return Reply(f"已提交{count}份{kind_label(kind)}：{status}。", title=f"{case_no} 材料已提交",
                 chips=case_chips())
