"""Case numbers (案号) as the court reads them: DOMAIN.md section 2.

A modern number is ``（year）court [知] type sequence 号 [之N]``; a pre-2016 number with ``字第`` is
legacy and carries no machine-readable court code. The court compares numbers in one canonical
form: NFKC, no spaces or invisible characters, the year in full-width brackets.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_PROVINCE_ABBREVIATIONS = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔云藏陕甘青宁新兵军"
_HAN = "\u4e00-\u9fa5"
_ORDINAL = "之[一二三四五六七八九十]+"
_YEAR = r"（((?:19|20)[0-9]{2})）"
_MODERN = re.compile(
    _YEAR + rf"(最高法|[{_PROVINCE_ABBREVIATIONS}](?:[0-9]{{4}}|[0-9]{{2}})?)(知)?([{_HAN}]{{1,5}}?)([0-9]{{1,8}})号(?:{_ORDINAL})?"
)
_LEGACY = re.compile(_YEAR + rf"[{_HAN}0-9A-Za-z]{{1,16}}字第([0-9]{{1,8}})号(?:{_ORDINAL})?")

#: the type codes Guangzhou's courts use (DOMAIN.md section 2)
TYPE_CODES = frozenset({
    "民初", "民终", "民申", "民再", "民特", "民撤", "民督", "民辖", "民辖终", "民诉前调",
    "刑初", "刑终", "行初", "行终", "行审",
    "执", "执恢", "执保", "执异", "执复", "执监", "财保", "证保", "破申", "破",
})

# Brackets people type around the year, after NFKC: all become the full-width pair courts file under.
_TO_FULL_WIDTH = {ord(o): "（" for o in "(〔[【〖"} | {ord(c): "）" for c in ")〕]】〗"}
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


class NotACaseNumber(ValueError):
    pass


@dataclass(frozen=True)
class CaseNo:
    text: str  # the canonical form
    court: str | None  # None: a legacy number
    type_code: str | None
    sequence: int


def canonical_case_no(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    kept = [ch for ch in folded if not ch.isspace() and ch not in _ZERO_WIDTH]
    return "".join(kept).translate(_TO_FULL_WIDTH)


def read_case_no(text: str) -> CaseNo:
    canonical = canonical_case_no(text)
    if (modern := _MODERN.fullmatch(canonical)) is not None:
        _, court, special, kind, sequence = modern.groups()
        return CaseNo(canonical, court, (special or "") + kind, int(sequence))
    if (legacy := _LEGACY.fullmatch(canonical)) is not None:
        return CaseNo(canonical, None, None, int(legacy.group(2)))
    raise NotACaseNumber(text)
