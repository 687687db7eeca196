"""Receipts for 80 mm thermal printers (pure).

A receipt is the operation's summary (``screens.summarise``) laid out at 48
columns (``layout.RECEIPT_COLUMNS``: an ASCII character takes one column, any
other character two), every line encodable in GB18030, the encoding the
kiosks' printers take. A receipt may be left on a counter, so it names the
person masked (``张*``, ``440***********0014``, ``138****1234``) and carries no
web address. Its QR code holds a reference anyone can check with the court,
never personal data:

    CGW1|<KIND>|<reference>|<YYYYMMDD>|<check>

where KIND says what the reference is (FILING, SUBMISSION, PAYMENT, CASE ...),
the date is the day it was printed and ``check`` is the first 8 upper-case hex
digits of SHA-256 over everything before it, so a mis-scanned or hand-edited
code is caught before anyone looks the reference up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from adapters.kiosk import layout
from adapters.kiosk.screens import Holder, Keepsake, Section, Summary

ENCODING = "GB18030"
QR_VERSION = "CGW1"
COLUMNS = layout.RECEIPT_COLUMNS


@dataclass(frozen=True)
class Stamp:
    """Where and when a receipt is printed, and for whom (already masked)."""

    holder: Holder
    printed_at: datetime
    device_id: str
    location: str


@dataclass(frozen=True)
class Receipt:
    lines: tuple[str, ...]
    qr: str

    def encoded(self) -> bytes:
        """The bytes a printer receives (lines joined by LF)."""
        return "\n".join(self.lines).encode("gb18030")


def qr_payload(kind: str, reference: str, printed_at: datetime) -> str:
    body = f"{QR_VERSION}|{kind}|{layout.clean(reference).replace('|', '/')}|{printed_at:%Y%m%d}"
    return f"{body}|{qr_check(body)}"


def qr_check(body: str) -> str:
    return hashlib.sha256(body.encode("gb18030")).hexdigest()[:8].upper()


def verify_qr(payload: str) -> bool:
    """True when the payload's check matches (for court staff tools and tests)."""
    body, _, check = payload.rpartition("|")
    return body.startswith(QR_VERSION + "|") and check == qr_check(body)


def receipt_of(summary: Summary, stamp: Stamp) -> Receipt | None:
    """The receipt of a summary worth keeping; None when there is nothing to print."""
    keep = summary.keep
    if keep is None or not keep.ref:
        return None
    lines = [*_header(keep), *_holder(stamp.holder), layout.rule("-", COLUMNS)]
    for section in summary.sections:
        lines.extend(_section(section))
    if summary.hint:
        lines.extend(layout.wrap("提示：" + summary.hint, COLUMNS, indent=6))
    lines.extend(_footer(stamp))
    return Receipt(tuple(lines), qr_payload(keep.ref_kind, keep.ref, stamp.printed_at))


def _header(keep: Keepsake) -> list[str]:
    return [layout.rule("=", COLUMNS), *layout.centred(keep.title, COLUMNS), layout.rule("=", COLUMNS)]


def _holder(holder: Holder) -> list[str]:
    lines: list[str] = []
    for label, value in (("办理人", holder.name), ("证件号码", holder.id_number), ("联系电话", holder.phone)):
        if value:
            lines.extend(layout.labelled(label, value, COLUMNS))
    return lines


def _section(section: Section) -> list[str]:
    if not section.rows:
        return []
    lines = [f"【{layout.clean(section.heading)}】"] if section.heading else []
    for row in section.rows:
        if row.label:
            lines.extend(layout.labelled(row.label, row.value, COLUMNS))
        else:
            lines.extend(layout.wrap(row.value, COLUMNS, indent=2))
    return lines


def _footer(stamp: Stamp) -> list[str]:
    lines = [layout.rule("-", COLUMNS)]
    lines.extend(layout.labelled("打印时间", f"{stamp.printed_at:%Y-%m-%d %H:%M}", COLUMNS))
    if stamp.location:
        lines.extend(layout.labelled("办理地点", stamp.location, COLUMNS))
    lines.extend(layout.labelled("终端编号", stamp.device_id, COLUMNS))
    lines.extend(layout.wrap("本回执已隐去部分个人信息，请妥善保管。扫描下方二维码或凭编号可向法院核验。", COLUMNS))
    lines.append(layout.rule("=", COLUMNS))
    return lines
