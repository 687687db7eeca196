"""Request signing shared by every signed channel (CONTRACTS.md section 4, "Signed channels").

Adapters compute their channel's string-to-sign; this module does the parts
that must be the same everywhere: HMAC with SHA-256 or SM3 (the national
standard hash, GB/T 32905-2016, from the ``cryptography`` package),
constant-time comparison, and the replay checks in the contract's order:

    app id or device known -> signature -> timestamp within ±300 s -> nonce unseen for 600 s

A nonce is remembered only after its signature checked (so nobody can burn
another client's nonces), in the shared state store so every instance agrees.
When the state store is down, a per-process nonce cache takes over and the
request is flagged as degraded (QUALITY.md reliability item 3).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from gateway.errors import ErrorCode, GatewayError
from gateway.logs import get_logger
from gateway.state import StateStore, StateUnavailable

TIMESTAMP_WINDOW_S = 300
NONCE_TTL_S = 600
Algorithm = Literal["sha256", "sm3"]
_log = get_logger("court_gateway.signing")


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


class _LocalNonces:
    """The fallback while the state store is unreachable: this process only, bounded."""

    def __init__(self, size: int = 200_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._size = size

    def claim(self, key: str, now: float) -> bool:
        expires = self._seen.get(key)
        if expires is not None and expires > now:
            return False
        self._seen[key] = now + NONCE_TTL_S
        self._seen.move_to_end(key)
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


class NonceGuard:
    """Remembers nonces per (channel, app or device) for 600 s across every instance."""

    def __init__(self, state: StateStore) -> None:
        self._state = state
        self._local = _LocalNonces()
        self.degraded = False

    async def claim(self, channel: str, principal: str, nonce: str) -> None:
        if not nonce or len(nonce) > 128:
            raise GatewayError(ErrorCode.SIGNATURE_INVALID, "missing or malformed nonce")
        key = "nonce:" + hashlib.sha256(f"{channel}\n{principal}\n{nonce}".encode()).hexdigest()[:40]
        try:
            fresh = await self._state.set(key, b"1", NONCE_TTL_S, only_if_absent=True)
            self.degraded = False
        except StateUnavailable:
            if not self.degraded:
                _log.warning("state store down: nonces checked per process (degraded)", channel=channel)
            self.degraded = True
            fresh = self._local.claim(key, time.time())
        if not fresh:
            raise GatewayError(ErrorCode.REPLAYED_REQUEST, "nonce already used")
