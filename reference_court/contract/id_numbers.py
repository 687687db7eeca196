"""Identity document numbers and mobile numbers as the court checks them: DOMAIN.md section 3.

``problem_with`` answers what is wrong with a number (``None``: nothing) in words a person can act
on; a USCC that fails only its check character is not refused but marked for review by hand.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_GB11643_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_GB11643_CHECK = "10X98765432"
_GB32100_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_GB32100_WEIGHTS = [3**i % 31 for i in range(17)]  # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28


def plain_number(value: str) -> str:
    """Full-width letters and digits folded, every space dropped, letters upper-cased."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", value)
                   if not ch.isspace() and ch not in "\u200b\u200c\u200d\u2060\ufeff").upper()


def gb11643_check_char(first17: str) -> str:
    return _GB11643_CHECK[sum(int(d) * w for d, w in zip(first17, _GB11643_WEIGHTS, strict=True)) % 11]


def is_resident_id(value: str) -> bool:
    number = plain_number(value)
    if re.fullmatch(r"[0-9]{17}[0-9X]", number) is None:
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return gb11643_check_char(number[:17]) == number[17]


def uscc_well_formed(value: str) -> bool:
    number = plain_number(value)
    return len(number) == 18 and all(ch in _GB32100_CHARS for ch in number)


def uscc_check_ok(value: str) -> bool:
    number = plain_number(value)
    if not uscc_well_formed(number):
        return False
    total = sum(_GB32100_CHARS.index(c) * w for c, w in zip(number[:17], _GB32100_WEIGHTS, strict=True))
    return _GB32100_CHARS[-total % 31] == number[17]


def problem_with(id_type: str, value: str) -> str | None:
    number = plain_number(value)
    if id_type == "ID_CARD":
        if re.fullmatch(r"[0-9]{15}", number):
            return "这是15位旧身份证号码，请使用18位身份证号码（新版身份证上的号码）。"
        return None if is_resident_id(number) else "身份证号码不正确（18位，最后一位可能是X），请核对后重新输入。"
    if id_type == "USCC":
        return None if uscc_well_formed(number) else "统一社会信用代码应为18位数字或大写字母，请核对后重新输入。"
    if id_type == "HMT_PERMIT":
        return None if _hmt_permit_ok(number) else (
            "港澳台居民证件号码不正确：居住证为18位（810000、820000或830000开头），"
            "回乡证为H或M加8位（或10位）数字，台胞证为8位数字。")
    if id_type == "FOREIGN_PR":
        return None if _foreign_pr_ok(number) else (
            "外国人永久居留身份证号码不正确：2023年版为9开头的18位，2017年版为3个字母加12位数字。")
    if id_type == "PASSPORT":
        return None if re.fullmatch(r"[A-Z0-9]{5,20}", number) else "护照号码应为5到20位字母或数字。"
    return "unknown document type"


def needs_manual_review(id_type: str, value: str) -> bool:
    """DOMAIN.md section 3: some early lawful USCCs fail their check character; a person reviews them."""
    return id_type == "USCC" and uscc_well_formed(value) and not uscc_check_ok(value)


def _hmt_permit_ok(number: str) -> bool:
    if len(number) == 18 and number[:6] in ("810000", "820000", "830000"):  # residence permit (居住证)
        return is_resident_id(number)
    return re.fullmatch(r"[HM][0-9]{8}(?:[0-9]{2})?|[0-9]{8}", number) is not None  # 回乡证, 台胞证


def _foreign_pr_ok(number: str) -> bool:
    if re.fullmatch(r"[A-Z]{3}[0-9]{12}", number):  # 2017 card
        return True
    return re.fullmatch(r"9[0-9]{16}[0-9X]", number) is not None and gb11643_check_char(number[:17]) == number[17]


def mobile_number(value: str) -> str | None:
    """A mainland mobile number without +86/0086, spaces or dashes, or None."""
    digits = re.sub(r"[\s-]", "", value)
    for prefix in ("+86", "0086"):
        digits = digits.removeprefix(prefix)
    return digits if re.fullmatch(r"1[3-9][0-9]{9}", digits) else None
