"""The answers a call gets when what it needs did not answer: the state store or a court."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from gateway.court_client import CourtResponse, CourtUnreachable
from gateway.errors import ErrorCode, GatewayError
from gateway.resilience.outbox import NotTaken
from gateway.state import StateUnavailable

#: what a refused write or a session-less read tells the caller while the state store is down
STATE_RETRY_AFTER_S = 5


def state_unavailable(detail: str = "state store unavailable") -> GatewayError:
    """SERVICE_UNAVAILABLE with the state store's Retry-After."""
    return GatewayError(ErrorCode.SERVICE_UNAVAILABLE, detail, retry_after=STATE_RETRY_AFTER_S)


def not_taken(exc: CourtUnreachable) -> NotTaken:
    return NotTaken(exc.kind, exc.detail, exc.code, exc.retry_after_s)


def unreachable(failure: CourtUnreachable | NotTaken) -> GatewayError:
    """A read's answer when the court gave none: BACKEND_UNAVAILABLE or BACKEND_TIMEOUT, with the
    breaker's (or the court's) Retry-After when there is one."""
    retry_after = failure.retry_after_s
    return GatewayError(failure.code, failure.detail,
                        retry_after=max(1, int(retry_after + 0.999)) if retry_after else None)


def court_failed_now(response: CourtResponse) -> NotTaken:
    """A court's 5xx (or 429): not taken now, to be tried again after its Retry-After."""
    return NotTaken("answered", f"court answered {response.status}", retry_after_s=_retry_after(response))


def _retry_after(response: CourtResponse) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None


async def quietly(awaitable: Awaitable[Any]) -> None:
    """Best effort: a state store that is down does not turn a finished call into an error."""
    try:
        await awaitable
    except StateUnavailable:
        pass
