"""Nonces seen in the last 600 s, per channel and app or device: the last replay check of a
signed request (CONTRACTS.md section 4, "Signed channels"; the others are in gateway/signing.py).

A nonce is remembered only after its signature checked (so nobody can burn
another client's nonces), in the shared state store so every instance agrees.
When the state store is down, a per-process nonce cache takes over and the
request is flagged as degraded (QUALITY.md reliability item 3).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

from gateway.errors import ErrorCode, GatewayError
from gateway.logs import get_logger
from gateway.state import StateStore, StateUnavailable

NONCE_TTL_S = 600
_log = get_logger("court_gateway.signing")


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
