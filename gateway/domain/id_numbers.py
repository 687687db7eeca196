"""Identity numbers: resident ID (GB 11643-1999), USCC (GB 32100-2015), mobile numbers.

DOMAIN.md section 3. Address codes are not checked against GB/T 2260 because
retired codes stay valid on old cards.
"""

from __future__ import annotations

import re
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_id_number(value: str) -> str:
    return value.strip().upper()


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
