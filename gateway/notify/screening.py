"""Anti-fraud screening of outgoing SMS (CONTRACTS.md section 7, DOMAIN.md section 6).

Court SMS never carry a link or ask anybody to pay or transfer money
somewhere: people are told to pay in the official channel. A message that
would, because of its template or of a parameter filled into it, is refused
before it is sent. The checks run on the text as the phone would show it,
after NFKC folding, so full-width letters and dots (ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ)
do not slip through.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_LINK_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)\b[a-z][a-z0-9+.-]{1,15}://"),  # http://, https://, and any other scheme
    re.compile(r"(?i)\bwww\s*[.。]"),
    # a domain-like word: labels joined by dots and ending in a letters-only top-level label
    re.compile(r"(?i)(?<![a-z0-9-])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\s*[.。]\s*[a-z0-9](?:[a-z0-9-]{0,61}"
               r"[a-z0-9])?)*\s*[.。]\s*[a-z]{2,24}(?![a-z0-9-])"),
    re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])"),  # a bare IPv4 address
)

#: Requests to move money somewhere. Words a genuine court notice never needs: it names the
#: official channel (缴费平台, 诉讼服务中心) instead of an account or a link.
PAYMENT_REQUEST_WORDS: tuple[str, ...] = (
    "转账", "转帐", "汇款", "付款到", "打款", "银行卡号", "银行账号", "银行帐号", "卡号", "收款账户", "收款帐户",
    "收款账号", "收款帐号", "安全账户", "支付链接", "付款链接", "缴费链接", "扫码支付", "扫码付款", "收款码",
)


@dataclass(frozen=True)
class Refusal:
    reason: str  # "url" or "payment_request"
    found: str  # what matched, for the log (never personal data: links and keywords)


def screen(text: str) -> Refusal | None:
    """None when the text may go out; otherwise why not."""
    folded = unicodedata.normalize("NFKC", text)
    for pattern in _LINK_PATTERNS:
        match = pattern.search(folded)
        if match:
            return Refusal("url", match.group(0)[:64])
    for word in PAYMENT_REQUEST_WORDS:
        if word in folded:
            return Refusal("payment_request", word)
    return None
