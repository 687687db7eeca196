"""Identity numbers: resident ID (GB 11643-1999), USCC (GB 32100-2015), permits for people from
Hong Kong, Macao and Taiwan, foreign permanent residence ID cards, mobile numbers.

DOMAIN.md section 3. Address codes are not checked against GB/T 2260 because
retired codes stay valid on old cards. Every number is normalised with NFKC
(full-width letters and digits typed on a phone IME) and upper-cased before
it is checked; the normal form is what goes to a court.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")

_MOBILE = re.compile(r"^1[3-9]\d{9}$")

# 港澳台居民居住证: GB 11643 numbers whose address code is 810000 (HK), 820000 (Macao), 830000 (Taiwan).
_HMT_RESIDENCE_PREFIXES = ("810000", "820000", "830000")
# 港澳居民来往内地通行证 (回乡证): H or M + 8 digits (older cards + 10); 台湾居民来往大陆通行证 (台胞证): 8 digits.
_HMT_TRAVEL_PERMIT = re.compile(r"^(?:[HM]\d{8}(?:\d{2})?|\d{8})$")
# 外国人永久居留身份证: 2023 version 18 digits starting with 9 (GB 11643 check); 2017 version 3 letters + 12 digits.
_FOREIGN_PR_2017 = re.compile(r"^[A-Z]{3}\d{12}$")
_FOREIGN_PR_2023 = re.compile(r"^9\d{16}[\dX]$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_LEGACY_RESIDENT_ID = re.compile(r"^\d{15}$")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def normalise_id_number(value: str) -> str:
    """NFKC (ｘ and full-width digits), no spaces of any kind, upper case."""
    text = unicodedata.normalize("NFKC", value).translate(_INVISIBLE)
    return "".join(ch for ch in text if not ch.isspace()).upper()


def resident_id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def resident_id_birth(value: str) -> date | None:
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def is_valid_resident_id(value: str) -> bool:
    """GB 11643-1999: shape, a real birth date, and the check character."""
    number = normalise_id_number(value)
    if not _ID_SHAPE.match(number) or resident_id_birth(number) is None:
        return False
    return resident_id_check_char(number[:17]) == number[17]


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_shape_ok(value: str) -> bool:
    return bool(_USCC_SHAPE.match(normalise_id_number(value)))


def uscc_checksum_ok(value: str) -> bool:
    """Some early lawful codes fail the checksum: callers warn and route to manual review."""
    number = normalise_id_number(value)
    return uscc_shape_ok(number) and uscc_check_char(number[:17]) == number[17]


@dataclass(frozen=True)
class IdCheck:
    """The outcome of checking one number: its normal form, and what is wrong with it, if anything.

    ``problem`` refuses the number (INVALID_ID_NUMBER, in words the person can act on);
    ``manual_review`` accepts it but asks the court to check it by hand (a USCC that fails only its
    check character: some early lawful codes do, DOMAIN.md section 3).
    """

    number: str
    problem: str | None = None
    manual_review: bool = False


def check_id_number(id_type: str, value: str) -> IdCheck:
    number = normalise_id_number(value)
    checker = _CHECKERS.get(id_type)
    return IdCheck(number, "unknown document type") if checker is None else checker(number)


def _resident_id(number: str) -> IdCheck:
    if _LEGACY_RESIDENT_ID.match(number):
        return IdCheck(number, "这是15位旧身份证号码，请使用18位身份证号码（新版身份证上的号码）。")
    if not is_valid_resident_id(number):
        return IdCheck(number, "身份证号码不正确（18位，最后一位可能是X），请核对后重新输入。")
    return IdCheck(number)


def _uscc(number: str) -> IdCheck:
    if not uscc_shape_ok(number):
        return IdCheck(number, "统一社会信用代码应为18位数字或大写字母，请核对后重新输入。")
    return IdCheck(number, manual_review=not uscc_checksum_ok(number))


def _hmt_permit(number: str) -> IdCheck:
    if number.startswith(_HMT_RESIDENCE_PREFIXES) and len(number) == 18:
        ok = is_valid_resident_id(number)
    else:
        ok = bool(_HMT_TRAVEL_PERMIT.match(number))
    if ok:
        return IdCheck(number)
    return IdCheck(number, "港澳台居民证件号码不正确：居住证为18位（810000、820000或830000开头），"
                           "回乡证为H或M加8位（或10位）数字，台胞证为8位数字。")


def _foreign_pr(number: str) -> IdCheck:
    ok = bool(_FOREIGN_PR_2017.match(number)) or (
        bool(_FOREIGN_PR_2023.match(number)) and resident_id_check_char(number[:17]) == number[17])
    if ok:
        return IdCheck(number)
    return IdCheck(number, "外国人永久居留身份证号码不正确：2023年版为9开头的18位，2017年版为3个字母加12位数字。")


def _passport(number: str) -> IdCheck:
    return IdCheck(number) if _PASSPORT.match(number) else IdCheck(number, "护照号码应为5到20位字母或数字。")


_CHECKERS = {"ID_CARD": _resident_id, "USCC": _uscc, "HMT_PERMIT": _hmt_permit, "FOREIGN_PR": _foreign_pr,
             "PASSPORT": _passport}
ID_TYPES = frozenset(_CHECKERS)


def normalise_mobile(value: str) -> str | None:
    """Strip +86/0086 and check the mainland pattern; carrier ranges are not enforced."""
    number = re.sub(r"[\s-]", "", value)
    for prefix in ("+86", "0086"):
        number = number.removeprefix(prefix)
    return number if _MOBILE.match(number) else None


def mask_id_number(value: str) -> str:
    """``440524188001010014`` -> ``440***********0014`` (DOMAIN.md section 7)."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812341234`` -> ``138****1234``."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """``张三丰`` -> ``张**``: receipts and screens may lie on a counter."""
    return value[:1] + "*" * (len(value) - 1) if value else value
