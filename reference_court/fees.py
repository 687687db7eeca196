"""Litigation fees by the State Council's 《诉讼费用交纳办法》 (2007).

Art. 13 sets the acceptance fee (案件受理费): property cases on a cumulative
scale of the amount claimed, fixed ranges for divorce, personality-rights,
other non-property, labour, IP without an amount, administrative cases and
jurisdiction objections. Art. 14 sets application fees (申请费): enforcement,
preservation, payment orders, bankruptcy. Art. 8 and 9 list what costs nothing.
Money is Decimal throughout, rounded half-up to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from reference_court.contract.shapes import FeeArgs
from reference_court.problems import validation_failed

CENT = Decimal("0.01")
ART13 = "《诉讼费用交纳办法》第十三条"
ART14 = "《诉讼费用交纳办法》第十四条"


@dataclass(frozen=True)
class Scale:
    """A cumulative scale: a flat fee up to ``flat_upto``, then a rate per band above it."""

    flat_upto: Decimal
    flat_fee: Decimal
    bands: tuple[tuple[Decimal | None, Decimal], ...]  # (upper bound or None, rate)

    def apply(self, amount: Decimal) -> Decimal:
        total, lower = self.flat_fee, self.flat_upto
        for upper, rate in self.bands:
            if amount <= lower:
                break
            top = amount if upper is None else min(amount, upper)
            total += (top - lower) * rate
            if upper is None:
                break
            lower = upper
        return total.quantize(CENT, ROUND_HALF_UP)


def _d(text: str) -> Decimal:
    return Decimal(text)


# Art. 13 (1): property cases, cumulative by band.
PROPERTY = Scale(_d("10000"), _d("50"), (
    (_d("100000"), _d("0.025")),
    (_d("200000"), _d("0.02")),
    (_d("500000"), _d("0.015")),
    (_d("1000000"), _d("0.01")),
    (_d("2000000"), _d("0.009")),
    (_d("5000000"), _d("0.008")),
    (_d("10000000"), _d("0.007")),
    (_d("20000000"), _d("0.006")),
    (None, _d("0.005")),
))
# Art. 14 (1) 2: enforcement with an amount.
ENFORCEMENT = Scale(_d("10000"), _d("50"), (
    (_d("500000"), _d("0.015")),
    (_d("5000000"), _d("0.01")),
    (_d("10000000"), _d("0.005")),
    (None, _d("0.001")),
))
# Art. 14 (2): preservation, capped at 5,000 yuan.
PRESERVATION = Scale(_d("1000"), _d("30"), ((_d("100000"), _d("0.01")), (None, _d("0.005"))))
PRESERVATION_CAP = _d("5000")
# Art. 13 (2) 1: divorce property division above 200,000 at 0.5%.
DIVORCE_PROPERTY = Scale(_d("200000"), _d("0"), ((None, _d("0.005")),))
# Art. 13 (2) 2: personality-rights damages above 50,000.
PERSONALITY_DAMAGES = Scale(_d("50000"), _d("0"), ((_d("100000"), _d("0.01")), (None, _d("0.005"))))
BANKRUPTCY_CAP = _d("300000")

LABOUR_WORDS = ("劳动争议", "劳动合同", "劳动报酬", "工伤", "追索劳动")
PERSONALITY_WORDS = ("姓名权", "名称权", "肖像权", "名誉权", "荣誉权", "隐私权", "个人信息", "人格权")
IP_WORDS = ("著作权", "商标", "专利", "不正当竞争", "商业秘密", "植物新品种", "集成电路", "作品", "知识产权")
IP_ADMIN_WORDS = ("商标", "专利", "海事")


@dataclass
class FeeItem:
    item: str
    amount: Decimal
    basis: str
    amount_max: Decimal | None = None  # set when the rule gives a range (每件交纳50元至300元)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"item": self.item, "amount": _money(self.amount), "basis": self.basis}
        if self.amount_max is not None:
            body["amount_max"] = _money(self.amount_max)
        return body


@dataclass
class FeeQuote:
    basis: str
    items: list[FeeItem]
    notes: list[str] = field(default_factory=list)


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_UP):.2f}"


def _amount(args: FeeArgs) -> Decimal | None:
    return Decimal(args.amount) if args.amount is not None else None


def _has(text: str | None, words: tuple[str, ...]) -> bool:
    return bool(text) and any(word in str(text) for word in words)


def _require_amount(amount: Decimal | None, what: str) -> Decimal:
    if amount is None:
        raise validation_failed("amount", f"{what}须填写金额（元），例如 \"50000.00\"。")
    return amount


def _free(basis: str, why: str) -> FeeQuote:
    return FeeQuote(basis, [FeeItem("案件受理费", Decimal(0), why)])


def _range(item: str, low: str, high: str, basis: str) -> FeeItem:
    return FeeItem(item, _d(low), basis, _d(high))


def property_fee(amount: Decimal) -> Decimal:
    """Art. 13 (1): 50 yuan up to 10,000, then 2.5% ... 0.5%, cumulative."""
    return PROPERTY.apply(amount)


def _property_quote(amount: Decimal) -> FeeQuote:
    item = FeeItem("案件受理费", property_fee(amount), ART13 + "第（一）项：财产案件按诉讼请求金额分段累计交纳")
    notes = ["适用简易程序审理的案件减半交纳（第十六条）；以调解方式结案或者申请撤诉的减半交纳（第十五条）。"]
    return FeeQuote(ART13, [item], notes)


def _divorce(amount: Decimal | None) -> FeeQuote:
    items = [_range("案件受理费", "50", "300", ART13 + "第（二）项第1目：离婚案件每件交纳50元至300元")]
    if amount is not None and amount > DIVORCE_PROPERTY.flat_upto:
        items.append(FeeItem("财产分割部分", DIVORCE_PROPERTY.apply(amount),
                             ART13 + "第（二）项第1目：财产总额超过20万元的部分按0.5%交纳"))
    return FeeQuote(ART13, items, ["具体收费标准在上述幅度内由广东省确定。"])


def _personality(amount: Decimal | None) -> FeeQuote:
    items = [_range("案件受理费", "100", "500", ART13 + "第（二）项第2目：人格权案件每件交纳100元至500元")]
    if amount is not None and amount > PERSONALITY_DAMAGES.flat_upto:
        items.append(FeeItem("损害赔偿部分", PERSONALITY_DAMAGES.apply(amount),
                             ART13 + "第（二）项第2目：赔偿金额超过5万元至10万元的部分按1%、超过10万元的部分按0.5%交纳"))
    return FeeQuote(ART13, items, ["具体收费标准在上述幅度内由广东省确定。"])


def _civil(args: FeeArgs, amount: Decimal | None) -> FeeQuote:
    if _has(args.cause, LABOUR_WORDS):
        return FeeQuote(ART13, [FeeItem("案件受理费", _d("10"), ART13 + "第（四）项：劳动争议案件每件交纳10元")])
    if _has(args.cause, ("离婚",)):
        return _divorce(amount)
    if _has(args.cause, PERSONALITY_WORDS):
        return _personality(amount)
    is_ip = args.case_type.startswith("知") or _has(args.cause, IP_WORDS)
    if is_ip and amount is None:
        item = _range("案件受理费", "500", "1000", ART13 + "第（三）项：知识产权案件没有争议金额的，每件交纳500元至1000元")
        return FeeQuote(ART13, [item])
    if amount is not None and (args.property_case or is_ip):
        return _property_quote(amount)
    if args.property_case:
        _require_amount(amount, "财产案件")
    item = _range("案件受理费", "50", "100", ART13 + "第（二）项第3目：其他非财产案件每件交纳50元至100元")
    return FeeQuote(ART13, [item])


def _administrative(args: FeeArgs) -> FeeQuote:
    if _has(args.cause, ("行政赔偿",)):
        return _free("《诉讼费用交纳办法》第八条", "行政赔偿案件不交纳案件受理费（第八条第（四）项）")
    if _has(args.cause, IP_ADMIN_WORDS):
        return FeeQuote(ART13, [FeeItem("案件受理费", _d("100"), ART13 + "第（五）项第1目：商标、专利、海事行政案件每件交纳100元")])
    return FeeQuote(ART13, [FeeItem("案件受理费", _d("50"), ART13 + "第（五）项第2目：其他行政案件每件交纳50元")])


def _enforcement(amount: Decimal | None) -> FeeQuote:
    if amount is None:
        item = _range("申请执行费", "50", "500", ART14 + "第（一）项第1目：没有执行金额的，每件交纳50元至500元")
    else:
        item = FeeItem("申请执行费", ENFORCEMENT.apply(amount), ART14 + "第（一）项第2目：按执行金额分段累计交纳")
    return FeeQuote(ART14, [item], ["申请执行费执行后交纳，由被执行人负担（第二十条、第三十八条）。"])


def _preservation(amount: Decimal | None) -> FeeQuote:
    fee = min(PRESERVATION.apply(amount), PRESERVATION_CAP) if amount is not None else _d("30")
    item = FeeItem("保全申请费", fee, ART14 + "第（二）项：按实际保全的财产数额分段累计交纳，最多不超过5000元")
    return FeeQuote(ART14, [item])


def _payment_order(amount: Decimal | None) -> FeeQuote:
    fee = (property_fee(_require_amount(amount, "申请支付令")) / 3).quantize(CENT, ROUND_HALF_UP)
    return FeeQuote(ART14, [FeeItem("支付令申请费", fee, ART14 + "第（三）项：比照财产案件受理费标准的1/3交纳")])


def _bankruptcy(amount: Decimal | None) -> FeeQuote:
    half = (property_fee(_require_amount(amount, "破产案件")) / 2).quantize(CENT, ROUND_HALF_UP)
    item = FeeItem("破产申请费", min(half, BANKRUPTCY_CAP), ART14 + "第（六）项：按财产案件受理费标准减半交纳，最高不超过30万元")
    return FeeQuote(ART14, [item])


def _quote(args: FeeArgs) -> FeeQuote:
    kind, amount = args.case_type, _amount(args)
    if kind.startswith("刑"):
        return _free("《诉讼费用交纳办法》第二条", "刑事案件不交纳案件受理费（本办法适用于民事、行政诉讼）")
    if kind == "民特":
        return _free("《诉讼费用交纳办法》第八条", "特别程序案件不交纳案件受理费（第八条第（一）项）")
    if kind in ("民申", "民再", "行审"):
        return _free("《诉讼费用交纳办法》第九条", "审判监督程序审理的案件一般不交纳案件受理费（第九条）")
    if kind == "民诉前调":
        return _free("《诉讼费用交纳办法》", "诉前调解不收取费用；调解不成转入诉讼的，按诉讼案件交纳")
    if kind == "执":
        return _enforcement(amount)
    if kind in ("财保", "执保", "证保"):
        return _preservation(amount)
    if kind.startswith("执"):
        return _free(ART14, "执行恢复、异议、复议、监督不另行交纳申请费")
    if kind == "民督":
        return _payment_order(amount)
    if kind in ("破申", "破"):
        return _bankruptcy(amount)
    if kind.startswith("行"):
        return _administrative(args)
    if kind in ("民辖", "民辖终"):
        return FeeQuote(ART13, [_range("管辖权异议申请费", "50", "100",
                                       ART13 + "第（六）项：管辖权异议不成立的，每件交纳50元至100元")])
    return _civil(args, amount)


def calculate_fees(args: FeeArgs) -> dict[str, Any]:
    """The ``fees.calculate`` answer: items, a total (and ``total_max`` when the rule gives a range)."""
    quote = _quote(args)
    total = sum((item.amount for item in quote.items), Decimal(0))
    body: dict[str, Any] = {
        "case_type": args.case_type,
        "cause": args.cause,
        "amount": args.amount,
        "total": _money(total),
        "items": [item.as_dict() for item in quote.items],
        "basis": quote.basis,
        "currency": "CNY",
    }
    if any(item.amount_max is not None for item in quote.items):
        top = sum((item.amount_max or item.amount for item in quote.items), Decimal(0))
        body["total_max"] = _money(top)
    if quote.notes:
        body["notes"] = quote.notes
    return body
