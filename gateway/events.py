"""Court events: ``POST /internal/v1/events`` (CONTRACTS.md section 5).

Courts report what happens later (a filing reviewed, a hearing scheduled, a judge's reply) with a
signed JSON body ``{"id", "type", "court", "occurred_at", "data"}`` and the header

    X-Court-Signature: t=<unix seconds>,v1=<hex(HMAC-SHA256(event_secret, t + "." + body))>

Checks, in order (docs/events.md has the answers a court sees):

1. the body is at most 256 KiB of JSON naming a ``court`` (else 400 ``VALIDATION_FAILED``, 413);
2. that court is configured and the signature is one of its secret's (constant-time; several
   ``v1`` values may be sent during a secret change), else 401 ``SIGNATURE_INVALID``;
3. ``t`` is within 300 s of the gateway's clock, else 401 ``REPLAYED_REQUEST``: a captured request
   cannot be played back later, and within the window the event id makes a replay harmless;
4. the body is a well-formed event, and a known type's ``data`` has its fields (400 with the
   offending fields in ``errors``); an unknown type is accepted and logged;
5. the event is processed once per (court, id): a repeat answers 200 ``duplicate`` and changes
   nothing; one still being processed answers 409 ``IDEMPOTENCY_IN_PROGRESS`` with Retry-After.

Processing stops, pauses or restarts the SLA timer of the item the event names
(gateway/sla/reactions.py) and hands the event to the citizen notifications (queued in the state
store; the ``notifications`` background job tells the citizen). If the state store fails midway
the claim is released and the court gets 503, so its retry finds the event unprocessed; each step
is idempotent, so a partly applied event is completed, not doubled.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.api import guarded, json_response
from gateway.config import COURT_EVENT_TYPES, CourtSettings
from gateway.errors import ErrorCode, FieldError, GatewayError
from gateway.http_io import read_body
from gateway.logs import get_logger
from gateway.metrics import COURT_EVENTS
from gateway.sla.calendar import StatutoryCalendar
from gateway.sla.reactions import EXTRA_EVENT_TYPES, react, timer_event
from gateway.sla.timers import TimerConflict, TimerStore, timer_id
from gateway.state import StateStore, StateUnavailable

_log = get_logger("court_gateway.events")

EVENTS_PATH = "/internal/v1/events"
SIGNATURE_HEADER = "x-court-signature"
SIGNATURE_TOLERANCE_S = 300
MAX_EVENT_BYTES = 256 * 1024
#: a delivery being processed holds its event id this long; a crash lets the court's retry in after it
PROCESSING_TTL_S = 60
#: event ids are remembered far longer than the signature window, so a replay is always a duplicate
SEEN_TTL_S = 30 * 24 * 3600

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(max_length=500)]
Amount = Annotated[str | int | float, Field(union_mode="left_to_right")]


# --- the event ------------------------------------------------------------------------------------


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")]
    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=64)]
    court: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    occurred_at: AwareDatetime
    data: dict[str, Any]


class _Data(BaseModel):
    model_config = ConfigDict(extra="allow")


class _FilingReceived(_Data):
    filing_id: Id
    handler: Id | None = None


class _FilingCorrection(_Data):
    filing_id: Id
    items: list[Text] = Field(max_length=100)


class _FilingReviewed(_Data):
    filing_id: Id
    status: Id
    reason: Text | None = None


class _FilingDocketed(_Data):
    filing_id: Id
    case_no: Id


class _HearingScheduled(_Data):
    case_no: Id
    hearing_id: Id
    at: AwareDatetime
    place: Text
    mode: Literal["in_person", "online"]


class _JudgeReplied(_Data):
    case_no: Id
    message_id: Id


class _ApplicationUpdated(_Data):
    application_id: Id
    kind: Id
    status: Id


class _PaymentConfirmed(_Data):
    case_no: Id
    payment_id: Id
    amount: Amount


class _RefundCompleted(_Data):
    case_no: Id
    application_id: Id
    amount: Amount


class _ConsultationAnswered(_Data):
    consultation_id: Id


class _MediationUpdated(_Data):
    mediation_id: Id
    status: Id


DATA_MODELS: dict[str, type[_Data]] = {
    "filing.received": _FilingReceived,
    "filing.correction_required": _FilingCorrection,
    "filing.reviewed": _FilingReviewed,
    "filing.docketed": _FilingDocketed,
    "hearing.scheduled": _HearingScheduled,
    "judge_message.replied": _JudgeReplied,
    "application.updated": _ApplicationUpdated,
    "payment.confirmed": _PaymentConfirmed,
    "refund.completed": _RefundCompleted,
    "consultation.answered": _ConsultationAnswered,
    "mediation.updated": _MediationUpdated,
}
KNOWN_TYPES = frozenset((*COURT_EVENT_TYPES, *EXTRA_EVENT_TYPES))


@dataclass(frozen=True)
class CourtEvent:
    """A verified, well-formed court event. ``data`` is as the court sent it."""

    id: str
    type: str
    court: str
    occurred_at: float  # Unix seconds
    data: dict[str, Any]

    @property
    def known(self) -> bool:
        return self.type in KNOWN_TYPES

    @property
    def key(self) -> str:
        """Short and stable per (court, id): courts number their own events."""
        return hashlib.sha256(f"{self.court}\n{self.id}".encode()).hexdigest()[:32]

    def to_record(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "court": self.court, "occurred_at": self.occurred_at,
                "data": self.data}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CourtEvent:
        return cls(str(record["id"]), str(record["type"]), str(record["court"]), float(record["occurred_at"]),
                   dict(record["data"]))


def _field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    errors = []
    for item in exc.errors(include_url=False, include_input=False)[:50]:
        where = ".".join(str(p) for p in (*((prefix,) if prefix else ()), *item["loc"])) or "(body)"
        errors.append(FieldError(where, str(item["msg"])))
    return errors


def parse_event(raw: Mapping[str, Any]) -> CourtEvent:
    """Validate an event body; VALIDATION_FAILED names every offending field."""
    try:
        envelope = _Envelope.model_validate(raw)
    except ValidationError as exc:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "not a court event", _field_errors(exc)) from None
    model = DATA_MODELS.get(envelope.type)
    if model is not None:
        try:
            model.model_validate(envelope.data)
        except ValidationError as exc:
            raise GatewayError(ErrorCode.VALIDATION_FAILED, f"data does not fit {envelope.type}",
                               _field_errors(exc, "data")) from None
    return CourtEvent(envelope.id, envelope.type, envelope.court, envelope.occurred_at.timestamp(), envelope.data)


# --- the signature ----------------------------------------------------------------------------------


SignatureCheck = Literal["ok", "invalid", "stale"]
_SIGNATURE_PART = re.compile(r"^\s*(t|v1)=([0-9a-fA-F]+)\s*$")


def expected_signature(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, str(timestamp).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def check_signature(secret: bytes, header: str | None, body: bytes, now: float,
                    tolerance_s: int = SIGNATURE_TOLERANCE_S) -> SignatureCheck:
    """The same format reference_court/events.py signs: one ``t``, one or more ``v1``."""
    stamps: list[str] = []
    candidates: list[str] = []
    for part in (header or "").split(","):
        match = _SIGNATURE_PART.match(part)
        if match is None:
            return "invalid"
        (stamps if match.group(1) == "t" else candidates).append(match.group(2))
    if len(stamps) != 1 or not stamps[0].isdigit() or not candidates or len(stamps[0]) > 12:
        return "invalid"
    timestamp = int(stamps[0])
    expected = expected_signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate.lower()) for candidate in candidates):
        return "invalid"
    return "ok" if abs(now - timestamp) <= tolerance_s else "stale"


# --- the endpoint -----------------------------------------------------------------------------------

EventHook = Callable[[CourtEvent], Awaitable[None]]


class CourtEvents:
    """The events endpoint; ``hooks`` run for every new known event (the notification queue)."""

    def __init__(self, courts: Mapping[str, CourtSettings], state: StateStore, timers: TimerStore,
                 calendar: StatutoryCalendar, hooks: Sequence[EventHook] = ()) -> None:
        self._courts = courts
        self._state = state
        self._timers = timers
        self._calendar = calendar
        self._hooks = list(hooks)

    def routes(self) -> list[BaseRoute]:
        async def endpoint(request: Request) -> Response:
            return await guarded(request, self.receive)

        return [Route(EVENTS_PATH, endpoint, methods=["POST"])]

    async def receive(self, request: Request) -> Response:
        body = await read_body(request, MAX_EVENT_BYTES)
        raw = _json_object(body)
        court = raw.get("court")
        settings = self._courts.get(court) if isinstance(court, str) else None
        if settings is None:
            raise GatewayError(ErrorCode.SIGNATURE_INVALID, "unknown court or bad signature")
        checked = check_signature(settings.event_secret_env.value_bytes, request.headers.get(SIGNATURE_HEADER),
                                  body, time.time())
        if checked == "invalid":
            _count(str(court), "-", "bad_signature")
            raise GatewayError(ErrorCode.SIGNATURE_INVALID, "unknown court or bad signature")
        if checked == "stale":
            _count(str(court), "-", "stale")
            raise GatewayError(ErrorCode.REPLAYED_REQUEST,
                               f"signature timestamp more than {SIGNATURE_TOLERANCE_S} s from the gateway's clock")
        event = parse_event(raw)
        status = await self._once(event)
        return json_response({"id": event.id, "status": status})

    async def _once(self, event: CourtEvent) -> str:
        seen = f"evt:seen:{event.key}"
        try:
            if not await self._state.set(seen, b"processing", PROCESSING_TTL_S, only_if_absent=True):
                return await self._repeat(event, seen)
            try:
                status = await self._apply(event)
            except BaseException:
                await self._state.delete(seen)
                raise
            await self._state.set(seen, b"done", SEEN_TTL_S)
        except (StateUnavailable, TimerConflict):
            _count(event.court, _type_label(event), "unavailable")
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable; send the event again",
                               retry_after=5) from None
        _count(event.court, _type_label(event), status)
        return status

    async def _repeat(self, event: CourtEvent, seen: str) -> str:
        if await self._state.get(seen) != b"done":
            # Still being processed (or its claim lapsed this instant): the court's retry settles it.
            raise GatewayError(ErrorCode.IDEMPOTENCY_IN_PROGRESS, "this event is being processed",
                               retry_after=5)
        _count(event.court, _type_label(event), "duplicate")
        return "duplicate"

    async def _apply(self, event: CourtEvent) -> str:
        if not event.known:
            _log.warning("court event of an unknown type accepted and ignored", court=event.court,
                         event_id=event.id, event_type=event.type[:64])
            return "ignored"
        timer = await self._timer_change(event)
        for hook in self._hooks:
            await hook(event)
        _log.info("court event processed", court=event.court, event_id=event.id, event_type=event.type,
                  timer=timer)
        return "processed"

    async def _timer_change(self, event: CourtEvent) -> str | None:
        change = timer_event(event.type, event.data, event.id, event.occurred_at)
        if change is None:
            return None
        tid = timer_id(event.court, change.item_kind, change.item_id)
        now = time.time()
        updated = await self._timers.update(tid, lambda t: react(t, change, self._calendar, now), now)
        return f"{tid}:{updated.status}" if updated is not None else None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "the body is not JSON",
                           [FieldError("(body)", "not valid UTF-8 JSON")]) from None
    if not isinstance(value, dict):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "the body must be a JSON object",
                           [FieldError("(body)", "expected an object")])
    return value


def _type_label(event: CourtEvent) -> str:
    # Courts may send types nobody has heard of: the metric label stays bounded.
    return event.type if event.known else "other"


def _count(court: str, event_type: str, outcome: str) -> None:
    COURT_EVENTS.labels(court, event_type, outcome).inc()


__all__ = ["EVENTS_PATH", "CourtEvent", "CourtEvents", "check_signature", "expected_signature", "parse_event"]
