"""Request signing shared by every signed channel (CONTRACTS.md section 4, "Signed channels").

Adapters compute their channel's string-to-sign; this module does the parts
that must be the same everywhere: HMAC with SHA-256 or SM3 (the national
standard hash, GB/T 32905-2016, from the ``cryptography`` package),
constant-time comparison, and the replay checks in the contract's order:

    app id or device known -> signature -> timestamp within ±300 s -> nonce unseen for 600 s

The last step needs the shared state store and lives in gateway/nonces.py; this
module is pure (an adapter's ``protocol.py`` may use it).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from gateway.errors import ErrorCode, GatewayError

TIMESTAMP_WINDOW_S = 300
Algorithm = Literal["sha256", "sm3"]


def digest(algorithm: Algorithm, data: bytes) -> bytes:
    if algorithm == "sha256":
        return hashlib.sha256(data).digest()
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def hmac_digest(algorithm: Algorithm, key: bytes, data: bytes) -> bytes:
    if algorithm == "sha256":
        return hmac.new(key, data, hashlib.sha256).digest()
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def same(expected: str | bytes, offered: str | bytes) -> bool:
    """Constant-time comparison; a non-ASCII offer is simply unequal."""
    try:
        a = expected.encode("ascii") if isinstance(expected, str) else expected
        b = offered.encode("ascii") if isinstance(offered, str) else offered
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(a, b)


def require_signature(expected: str | bytes, offered: str | bytes | None) -> None:
    if not offered or not same(expected, offered):
        raise GatewayError(ErrorCode.SIGNATURE_INVALID, "signature does not match")


def check_timestamp(timestamp_s: float, now: float | None = None) -> None:
    """A stale (or far-future) timestamp is REPLAYED_REQUEST, like a seen nonce."""
    if abs((now if now is not None else time.time()) - timestamp_s) > TIMESTAMP_WINDOW_S:
        raise GatewayError(ErrorCode.REPLAYED_REQUEST, "timestamp outside the ±300 s window")


def parse_timestamp(text: str | None, *, milliseconds: bool = False) -> float:
    if not text or not text.strip().isdigit() or len(text.strip()) > 16:
        raise GatewayError(ErrorCode.SIGNATURE_INVALID, "missing or malformed timestamp")
    value = int(text.strip())
    return value / 1000 if milliseconds else float(value)
