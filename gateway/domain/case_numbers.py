"""Case numbers (案号), per the SPC 《关于人民法院案件案号的若干规定》 (2016, amended 2018).

Layout: ``（year）`` + court code + optional 知 + type code + sequence + ``号``
(+ ``之一`` ...). Half-width parentheses are accepted and normalised to the
full-width form courts receive. Pre-2016 numbers with ``字第`` are *legacy*:
valid for certificates and enforcement but carrying no machine-readable court
code, so they route only by an explicit court (DOMAIN.md section 2).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

_COURT = r"(?P<court>最高法|[京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔云藏陕甘青宁新兵军](?:\d{2}|\d{4})?)"
_MODERN = re.compile(
    r"^（(?P<year>(?:19|20)\d{2})）" + _COURT + r"(?P<special>知)?(?P<type>[\u4e00-\u9fa5]{1,5}?)"
    r"(?P<seq>\d{1,8})号(?P<suffix>之[一二三四五六七八九十]+)?$"
)
# e.g. (2014)穗中法民一初字第4713号: a court abbreviation, a division, 字第, a sequence.
_LEGACY = re.compile(r"^（(?P<year>(?:19|20)\d{2})）[\u4e00-\u9fa5\dA-Za-z]{1,16}字第(?P<seq>\d{1,8})号(?:之[一二三四五六七八九十]+)?$")

#: Type codes seen in Guangzhou's work (DOMAIN.md section 2); others of 1-5 characters are accepted.
KNOWN_TYPE_CODES = frozenset(
    ["民初", "民终", "民申", "民再", "民特", "民撤", "民督", "民辖", "民辖终", "刑初", "刑终", "行初", "行终", "行审", "执", "执恢", "执保", "执异", "执复", "执监", "财保", "证保", "破申", "破", "民诉前调"]
)


class CaseNumberError(ValueError):
    """The text is not a case number in either form."""


@dataclass(frozen=True)
class CaseNumber:
    text: str  # canonical form, full-width parentheses
    year: int
    court: str | None  # None for a legacy number
    type_code: str | None
    sequence: int

    @property
    def is_legacy(self) -> bool:
        return self.court is None

    @property
    def path_segment(self) -> str:
        """Percent-encoded UTF-8 with upper-case hex, as courts receive it in paths."""
        return quote(self.text, safe="")


# After NFKC, the brackets people type for the year: ( ) from half- and full-width, 〔〕 from official
# documents, [ ] ［］ 【】 from IMEs; all become the full-width （）courts receive.
_YEAR_BRACKETS = str.maketrans({"(": "（", ")": "）", "〔": "（", "〕": "）", "[": "（", "]": "）",
                                "【": "（", "】": "）", "〖": "（", "〗": "）"})
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def normalise(text: str) -> str:
    """DOMAIN.md section 2: NFKC first (２０２４ -> 2024, （ -> (, U+3000 and NBSP -> space), the
    bracket variants, then every kind of space dropped. What goes to the court is this one form."""
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return "".join(ch for ch in folded if not ch.isspace()).translate(_YEAR_BRACKETS)


def parse_case_number(text: str) -> CaseNumber:
    canonical = normalise(text)
    modern = _MODERN.match(canonical)
    if modern:
        return CaseNumber(
            text=canonical,
            year=int(modern["year"]),
            court=modern["court"],
            type_code=(modern["special"] or "") + modern["type"],
            sequence=int(modern["seq"]),
        )
    legacy = _LEGACY.match(canonical)
    if legacy:
        return CaseNumber(canonical, int(legacy["year"]), None, None, int(legacy["seq"]))
    raise CaseNumberError("not a case number")
