"""Prompts written for the ear: numbers, dates, times, money and case numbers read as people say them.

Text-to-speech engines guess how to read "2026" or "22468" (a year? twenty-two
thousand?) and often guess wrong, so everything numeric is spelled out in
Chinese characters before it reaches the engine: years and codes digit by
digit (二零二六年, 粤零一零六), quantities as numbers (六千六百四十元), dates as
年月日, times of day with 上午/下午. A case number's long sequence is read in
groups of at most three digits, with a short pause between groups.

Pure functions over canonical results; nothing here knows HTTP or a court.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

CST = timezone(timedelta(hours=8), "CST")
_DIGITS = "零一二三四五六七八九"
_SMALL_UNITS = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
_BIG_UNITS = ((10**8, "亿"), (10**4, "万"), (1, ""))
_CASE = re.compile(r"^（(?P<year>\d{4})）(?P<middle>.*?)(?P<seq>\d+)号(?P<suffix>之[一二三四五六七八九十]+)?$")

STAGE_SENTENCE = "目前状态：{label}。"
FEE_STATUS_LABELS: dict[str, str] = {
    "ASSESSED": "待缴纳",
    "PENDING": "待缴纳",
    "PAID": "已缴纳",
    "OVERDUE": "已超过缴费期限，尚未缴纳",
}
UNPAID_FEE_STATUSES = frozenset({"ASSESSED", "PENDING", "OVERDUE"})
MAX_FEES_SPOKEN = 5
#: Anti-fraud practice (DOMAIN.md section 6): callers hear where to pay, never an account.
PAY_OFFICIALLY = "请通过法院官方缴费渠道缴纳，法院不会通过电话或短信要求您向任何个人账户转账。"


# --- numbers ---------------------------------------------------------------------------------------


def digits_spoken(text: str) -> str:
    """``0106`` -> ``零一零六``: codes and years, one digit at a time; other characters unchanged."""
    return "".join(_DIGITS[int(ch)] if ch.isascii() and ch.isdigit() else ch for ch in text)


def grouped_digits(text: str, size: int = 3) -> str:
    """``22468`` -> ``二二四 六八``: long digit strings in groups, so the ear can follow them."""
    spoken = digits_spoken(text)
    if len(spoken) <= size + 1:
        return spoken
    groups = [spoken[i:i + size] for i in range(0, len(spoken), size)]
    if len(groups[-1]) == 1:  # never leave one digit alone at the end: 3+1 becomes 2+2
        groups[-2:] = [groups[-2][:-1], groups[-2][-1] + groups[-1]]
    return " ".join(groups)


def _section(value: int, *, first: bool) -> str:
    """0 < value < 10000, read with 千百十; ``first`` allows 十五 instead of 一十五."""
    parts: list[str] = []
    pending_zero = False
    for unit_value, unit in _SMALL_UNITS:
        digit = value // unit_value % 10
        if digit == 0:
            pending_zero = pending_zero or bool(parts)
            continue
        if pending_zero:
            parts.append("零")
            pending_zero = False
        if digit == 1 and unit == "十" and first and not parts:
            parts.append("十")
        elif digit == 2 and (unit == "千" or (unit == "百" and first and not parts)):
            parts.append("两" + unit)  # 两千, 一万两千, 两百: as people say them; 二十, 一千二百 stay
        else:
            parts.append(_DIGITS[digit] + unit)
    return "".join(parts)


def number_spoken(value: int) -> str:
    """A whole number as Chinese reads it: 15 十五, 1005 一千零五, 10010 一万零一十, 20000 两万."""
    if value < 0:
        return "负" + number_spoken(-value)
    if value == 0:
        return "零"
    parts: list[str] = []
    pending_zero = False
    for unit_value, unit in _BIG_UNITS:
        section = value // unit_value % 10000 if unit_value < 10**8 else value // unit_value
        if section == 0:
            pending_zero = pending_zero or bool(parts)
            continue
        if parts and (pending_zero or section < 1000):
            parts.append("零")
        words = _section(section, first=not parts) if section < 10000 else number_spoken(section)
        if words == "二" and unit and not parts:
            words = "两"
        parts.append(words + unit)
        pending_zero = False
    return "".join(parts)


def count_spoken(value: int) -> str:
    """A count before a measure word: 两笔, 两次 (never 二笔); otherwise as :func:`number_spoken`."""
    return "两" if value == 2 else number_spoken(value)


def amount_spoken(amount: str | float | Decimal) -> str:
    """``"6640.00"`` -> ``六千六百四十元``; ``"1925.50"`` -> ``一千九百二十五元五角``."""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(amount)
    cents = int(value * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    text = f"{number_spoken(yuan)}元" if yuan or not (jiao or fen) else ""
    if jiao:
        text += f"{_DIGITS[jiao]}角"
    if fen:
        text += ("零" if yuan and not jiao else "") + f"{_DIGITS[fen]}分"
    return text


# --- dates and times -------------------------------------------------------------------------------


def date_spoken(day: date) -> str:
    """``2026-09-14`` -> ``二零二六年九月十四日``."""
    return f"{digits_spoken(str(day.year))}年{number_spoken(day.month)}月{number_spoken(day.day)}日"


def time_spoken(moment: datetime) -> str:
    """``09:30`` -> ``上午九点三十分``, ``15:00`` -> ``下午三点``, ``12:10`` -> ``中午十二点十分``."""
    hour, minute = moment.hour, moment.minute
    if hour < 6:
        period, clock = "凌晨", hour
    elif hour < 12:
        period, clock = "上午", hour
    elif hour < 13:
        period, clock = "中午", hour
    elif hour < 18:
        period, clock = "下午", hour - 12
    else:
        period, clock = "晚上", hour - 12
    spoken_minute = f"{number_spoken(minute)}分" if minute else ""
    return f"{period}{'两' if clock == 2 else number_spoken(clock)}点{spoken_minute}"


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 time in China Standard Time (a naive one is taken as CST, as courts mean it)."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment.astimezone(CST) if moment.tzinfo else moment.replace(tzinfo=CST)


def moment_spoken(text: str) -> str:
    """An ISO 8601 time as date and time of day; the text itself when it is not one."""
    moment = parse_moment(text)
    return f"{date_spoken(moment.date())}{time_spoken(moment)}" if moment else text


def day_spoken(text: str) -> str:
    """An ISO 8601 date or time as a date only."""
    moment = parse_moment(text)
    if moment is not None:
        return date_spoken(moment.date())
    try:
        return date_spoken(date.fromisoformat(text))
    except ValueError:
        return text


# --- case numbers ----------------------------------------------------------------------------------


def case_number_spoken(case_no: str) -> str:
    """``（2026）粤0106民初22468号`` -> ``二零二六年粤零一零六民初 二二四 六八号``."""
    match = _CASE.match(case_no)
    if match is None:
        return digits_spoken(case_no)
    middle = digits_spoken(match["middle"])
    return f"{digits_spoken(match['year'])}年{middle} {grouped_digits(match['seq'])}号{match['suffix'] or ''}"


# --- canonical results, spoken ----------------------------------------------------------------------


def latest_node(nodes: Any) -> dict[str, Any] | None:
    """The step with the latest time (courts list them in order, but the time is what counts)."""
    dated: list[tuple[datetime, dict[str, Any]]] = []
    for node in nodes or []:
        moment = parse_moment(str(node.get("at"))) if isinstance(node, dict) else None
        if moment is not None:
            dated.append((moment, node))
    if not dated:
        return None
    return max(dated, key=lambda pair: pair[0])[1]


def progress_spoken(result: dict[str, Any]) -> str:
    """cases.progress as short sentences: the case, its status, the latest step, the next hearing."""
    sentences = [f"您查询的是{result.get('court_name') or ''}{case_number_spoken(str(result.get('case_no', '')))}案件。"]
    if result.get("cause"):
        sentences.append(f"案由：{result['cause']}。")
    sentences.append(STAGE_SENTENCE.format(label=result.get("stage_label") or result.get("stage") or "未知"))
    node = latest_node(result.get("nodes"))
    if node is not None:
        sentences.append(f"最近进展：{day_spoken(str(node['at']))}，{node.get('label') or node.get('code')}。")
    if result.get("judge"):
        sentences.append(f"承办法官：{result['judge']}。")
    sentences.append(hearing_spoken(result.get("next_hearing")))
    return "".join(sentences)


def hearing_spoken(hearing: Any) -> str:
    if not isinstance(hearing, dict):
        return "目前没有已安排的开庭。"
    sentence = f"下次开庭时间：{moment_spoken(str(hearing.get('at', '')))}，地点：{hearing.get('place', '')}。"
    if hearing.get("mode") == "online":
        sentence += "本次为在线开庭。"
    return sentence


def fees_spoken(result: dict[str, Any]) -> str:
    """payments.list: how many fees, then each one's item, amount and status; where to pay if unpaid."""
    items = [item for item in result.get("items") or [] if isinstance(item, dict)]
    if not items:
        return "本案目前没有诉讼费用记录。"
    sentences = [f"本案共有{count_spoken(len(items))}笔费用。"]
    for index, item in enumerate(items[:MAX_FEES_SPOKEN], start=1):
        sentences.append(_fee_sentence(index, item))
    if len(items) > MAX_FEES_SPOKEN:
        sentences.append(f"另有{count_spoken(len(items) - MAX_FEES_SPOKEN)}笔费用，详情请咨询人工服务。")
    if any(item.get("status") in UNPAID_FEE_STATUSES for item in items):
        sentences.append(PAY_OFFICIALLY)
    return "".join(sentences)


def _fee_sentence(index: int, item: dict[str, Any]) -> str:
    status = str(item.get("status", ""))
    label = FEE_STATUS_LABELS.get(status, "状态待确认")
    sentence = f"第{number_spoken(index)}笔，{item.get('item', '诉讼费用')}，{amount_spoken(item.get('amount', ''))}，{label}"
    if status in ("ASSESSED", "PENDING") and item.get("due"):
        sentence += f"，缴费期限{day_spoken(str(item['due']))}"
    return sentence + "。"


def callback_spoken(due: date | None, *, sms: bool) -> str:
    """The answer to a callback request: when the judge will call (2 working days, DOMAIN.md section 5)."""
    when = f"{date_spoken(due)}前" if due is not None else "两个工作日内"
    sentence = f"您的回电请求已提交，承办法官将在{when}给您回电，请保持电话畅通。"
    if sms:
        sentence += "确认短信稍后发送到您的手机。"
    return sentence
