"""The values a canonical call is made of and answered with, whichever channel it came from.

An adapter decodes a request into :class:`Decoded` (``Adapter.run`` makes the
:class:`Call`), hands over a :class:`Credential`, and renders the
:class:`Outcome` (a :class:`BinaryAnswer` for a file) or the ``GatewayError``.
These are plain values: this module imports no web framework, state store or
HTTP client, so a pure wire module (an adapter's ``protocol.py``) can use them;
gateway/pipeline/ is what runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gateway.actor import Actor
from gateway.errors import ErrorCode, FieldError, GatewayError

if TYPE_CHECKING:
    from gateway.catalog import Operation
    from gateway.state import RateDecision
    from gateway.uploads import SpooledUpload


@dataclass(frozen=True)
class RateLimit:
    count: int
    period_s: float


@dataclass(frozen=True)
class ChannelPolicy:
    """What the gateway needs to know of a channel: its name, services and limits."""

    name: str
    services: frozenset[str] | None  # None = every operation
    per_actor: RateLimit | None = None
    per_channel: RateLimit | None = None

    def offers(self, operation_id: str) -> bool:
        return self.services is None or operation_id in self.services


@dataclass(frozen=True)
class SessionRef:
    """A channel session to resolve in the hot-path round trip (the person's data lives in state,
    under ``gateway.state.layout.session_key(sid, sub)``)."""

    sid: str
    sub: str
    idle_timeout_s: float | None = None


Credential = Actor | SessionRef | None


@dataclass
class Decoded:
    """What an adapter's ``decode`` makes of a request: the canonical operation, its arguments and
    the idempotency key the channel carried (writes)."""

    operation: Operation
    args: dict[str, Any]
    idempotency_key: str | None = None


@dataclass
class Call:
    operation: Operation
    channel: ChannelPolicy
    credential: Credential
    args: dict[str, Any]
    request_id: str
    idempotency_key: str | None = None
    idempotency_field: str = "Idempotency-Key"
    #: the spooled file of ``uploads.create`` (streamed to the court as multipart)
    attachment: SpooledUpload | None = None


@dataclass(frozen=True)
class BinaryAnswer:
    content: bytes
    content_type: str
    filename: str


@dataclass
class Outcome:
    result: Any
    status: int
    replayed: bool = False
    queued: bool = False
    rate: RateDecision | None = None
    court: str | None = None
    actor: Actor | None = None
    upstream_s: float = 0.0


def validation_error(exc: ValidationError) -> GatewayError:
    errors = []
    code = ErrorCode.VALIDATION_FAILED
    for item in exc.errors(include_url=False, include_input=False)[:50]:
        where = ".".join(str(p) for p in item["loc"]) or "(body)"
        message = str(item["msg"]).removeprefix("Value error, ")
        if "INVALID_ID_NUMBER" in message:
            code = ErrorCode.INVALID_ID_NUMBER
            message = message.replace("INVALID_ID_NUMBER: ", "")
        if item["type"] == "extra_forbidden":
            message = "unknown field: it may not be set by the caller"
        errors.append(FieldError(where, message))
    return GatewayError(code, "the arguments are not valid", errors)
