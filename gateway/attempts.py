"""Attempt limits for steps that cost an upstream call or guard a secret (QUALITY.md security item 4:
sign-in, real-name, face and password attempts are limited per client and per device).

One GCRA bucket per key in the shared state store, so the limit holds across every gateway
instance. Without the state store the attempt is refused (SERVICE_UNAVAILABLE): these steps are
exactly the ones an attacker would aim at while the limiter is blind.
"""

from __future__ import annotations

import hashlib

from gateway.config import RateLimit
from gateway.errors import ErrorCode, GatewayError
from gateway.state import RateCheck, StateStore, StateUnavailable


def attempt_key(kind: str, channel: str, who: str) -> str:
    """A state key that names no person or address in clear (``who`` may be an IP or a card's pseudonym)."""
    return f"rl:{kind}:{channel}:" + hashlib.sha256(who.encode()).hexdigest()[:24]


async def limit_attempts(state: StateStore, key: str, limit: RateLimit, what: str) -> None:
    """Count one attempt; RATE_LIMITED (with Retry-After) once ``limit`` is used up."""
    check = RateCheck(key, limit.count, float(limit.period_s))
    try:
        decision = (await state.hot_path([check], [])).rate
    except StateUnavailable:
        raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None
    if decision is not None and not decision.allowed:
        raise GatewayError(ErrorCode.RATE_LIMITED, f"too many {what}",
                           retry_after=max(1, int(decision.retry_after_s + 0.999)))
