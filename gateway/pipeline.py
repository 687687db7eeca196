"""What every canonical call goes through, in order, whichever channel it came from.

    service enabled? -> arguments valid? -> route to a court -> one state round trip
    (rate limits, session, participant cache) -> assurance -> access (self / own /
    participant) -> idempotency claim (writes) -> court call -> answer mapped ->
    own-record kept -> idempotency record completed

Adapters build a :class:`Call` and render the :class:`Outcome` or the
:class:`GatewayError`; the canonical HTTP API does the same. There is no second
path, which is what makes every channel behave the same.

Every court call goes through the court's guard (gateway/resilience/guard.py):
circuit breaker, retries within a budget and a deadline. A write the court
does not take now (no connection, no answer in time, a 5xx, the breaker open)
is queued in the outbox and answered 202 ``{"status": "queued", "delivery_id"}``;
``uploads.create`` is never queued. When the state store is down, reads go on
with a per-process rate limiter and session cache, and writes are refused
with SERVICE_UNAVAILABLE: without the idempotency store a write cannot be
made safe, so nothing reaches a court unguarded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
from pydantic import ValidationError

from gateway.actor import Actor
from gateway.catalog import Access, Operation, Routing, assurance_at_least, get_operation
from gateway.court_client import (
    CourtResponse,
    CourtTransport,
    CourtUnreachable,
    court_failed,
    decode_json_answer,
    is_success,
    map_court_error,
    upload_form,
)
from gateway.court_http import UploadPart
from gateway.domain.case_numbers import CaseNumber, CaseNumberError, parse_case_number
from gateway.errors import ErrorCode, FieldError, GatewayError
from gateway.idempotency import (
    RETENTION_S,
    Claim,
    IdempotencyStore,
    StoredAnswer,
    check_key,
    court_key,
    done_record,
    fingerprint,
)
from gateway.logs import get_logger
from gateway.metrics import DEGRADED, OUTBOX_QUEUED, STATE_FALLBACKS
from gateway.resilience.guard import Resilience
from gateway.resilience.local_limits import LocalLimiter, SessionCache
from gateway.resilience.outbox import (
    DELIVERY_TTL_S,
    DeliveryRecord,
    NotTaken,
    Outbox,
    QueuedWrite,
    Record,
    delivery_key,
    open_outbox,
    public_view,
)
from gateway.resilience.retry import CallMode
from gateway.state import HotPath, RateCheck, RateDecision, StateStore, StateUnavailable
from gateway.state.layout import WRITES_TAG, actor_tag
from gateway.tokens import ActorTokenSigner
from gateway.uploads import SpooledUpload, describe, recognise, upload_key

PARTICIPANT_TTL_S = 120  # "cached briefly": a party who leaves the case loses access within two minutes
NON_PARTICIPANT_TTL_S = 30
OWN_RECORD_TTL_S = 400 * 24 * 3600
#: what a refused write or a session-less read tells the caller while the state store is down
STATE_RETRY_AFTER_S = 5
_log = get_logger("court_gateway.pipeline")


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
    """A channel session to resolve in the hot-path round trip (the person's data lives in state)."""

    sid: str
    sub: str
    idle_timeout_s: float | None = None

    @property
    def state_key(self) -> str:
        return session_key(self.sid, self.sub)


def session_key(sid: str, sub: str) -> str:
    # Tagged by the person: the hot-path script reads it with their limiter and caches (one slot).
    return f"sess:{actor_tag(sub)}:{sid}"


Credential = Actor | SessionRef | None


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


@dataclass
class Target:
    courts: list[str]
    case: CaseNumber | None = None

    @property
    def court(self) -> str:
        return self.courts[0]


@dataclass
class CourtDirectory:
    """The courts of the config: names and transports."""

    names: dict[str, str]
    transports: dict[str, CourtTransport]
    default_court: str

    def known(self, code: str) -> bool:
        return code in self.transports


@dataclass
class Pipeline:
    state: StateStore
    courts: CourtDirectory
    signer: ActorTokenSigner
    #: breakers and retry budgets per court (built from ``courts`` unless given)
    resilience: Resilience | None = None
    #: where writes the court cannot take now wait (in ``state`` unless given)
    outbox: Outbox | None = None
    idempotency: IdempotencyStore = field(init=False)
    local_limits: LocalLimiter = field(init=False)
    sessions: SessionCache = field(init=False)
    _degraded: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.idempotency = IdempotencyStore(self.state)
        self.resilience = self.resilience or Resilience(self.courts.transports, self.state)
        self.outbox = self.outbox or open_outbox(self.state)
        self.local_limits = LocalLimiter()
        self.sessions = SessionCache()

    # --- the one path ---------------------------------------------------------------------------

    async def execute(self, call: Call) -> Outcome:
        op = call.operation
        if not call.channel.offers(op.id):
            raise GatewayError(ErrorCode.SERVICE_NOT_ENABLED, f"{op.id} is not offered on this channel")
        args = validate_args(op, call.args)
        _warn_of_manual_review(op, args, call.request_id)
        target = await self._route(op, args)
        actor, rate, participant = await self._hot_path(call, target)
        self._check_assurance(op, actor)
        deferred = await self._check_access(op, actor, args, target, participant, call.request_id)
        if op.is_write:
            outcome = await self._write(call, actor, args, target, deferred)
        else:
            outcome = await self._read(call, actor, args, target)
        outcome.rate, outcome.actor = rate, actor
        outcome.court = outcome.court or (target.courts[0] if len(target.courts) == 1 else None)
        return outcome

    async def resolve_actor(self, call: Call) -> Actor | None:
        """The actor behind a credential, for routes outside the catalog (logout, uploads)."""
        actor, _, _ = await self._hot_path(call, Target([]))
        return actor

    # --- routing --------------------------------------------------------------------------------

    async def _route(self, op: Operation, args: dict[str, Any]) -> Target:
        routing = op.routing
        if routing is Routing.CASE:
            return self._route_case(args)
        if routing is Routing.COURT:
            return Target([self._known_court(args["court"])])
        if routing is Routing.DEFAULT_COURT:
            return Target([self._known_court(args.get("court") or self.courts.default_court)])
        if routing is Routing.FAN_OUT:
            named = args.get("court")
            return Target([self._known_court(named)] if named else list(self.courts.transports))
        if routing is Routing.OWN:
            return Target([])  # resolved from the own record during the access check
        return Target([])

    def _route_case(self, args: dict[str, Any]) -> Target:
        case = parse_case(args["case_no"])
        args["case_no"] = case.text
        if case.is_legacy:
            named = args.get("court")
            if not named:
                raise GatewayError(
                    ErrorCode.VALIDATION_FAILED,
                    "a pre-2016 case number carries no court code: name the court",
                    [FieldError("court", "旧案号（含“字第”）无法识别法院，请选择审理法院后再查询。")],
                )
            return Target([self._known_court(named)], case)
        # An appeal is lodged through the court of first instance: the case number's own court.
        assert case.court is not None
        return Target([self._known_court(case.court)], case)

    def _known_court(self, code: str) -> str:
        if not self.courts.known(code):
            raise GatewayError(ErrorCode.NOT_FOUND, "no such court")
        return code

    # --- one round trip to the state store ------------------------------------------------------

    async def _hot_path(self, call: Call, target: Target) -> tuple[Actor | None, RateDecision | None, bool | None]:
        credential = call.credential
        sub = credential.sub if credential is not None else None
        checks = _rate_checks(call.channel, sub)
        fetch: list[str] = []
        touch: list[tuple[str, float]] = []
        if isinstance(credential, SessionRef):
            fetch.append(credential.state_key)
            if credential.idle_timeout_s:
                touch.append((credential.state_key, credential.idle_timeout_s))
        participant_key = None
        if sub and call.operation.access is Access.PARTICIPANT and target.case is not None:
            participant_key = _participant_key(target.court, sub, target.case.text)
            fetch.append(participant_key)
        if not checks and not fetch:
            return _as_actor(credential), None, None
        shared = True
        try:
            hot = await self.state.hot_path(checks, fetch, touch)
        except StateUnavailable:
            hot, shared = self._hot_path_locally(call, checks, len(fetch)), False
        if shared and self._degraded:
            self._set_degraded(False)
        if hot.rate is not None and not hot.rate.allowed:
            raise GatewayError(ErrorCode.RATE_LIMITED, "rate limit reached",
                               retry_after=max(1, int(hot.rate.retry_after_s + 0.999)))
        values = iter(hot.values)
        actor = _as_actor(credential)
        if isinstance(credential, SessionRef):
            record = next(values)
            if record is None:
                self.sessions.forget(credential.sid)
                raise GatewayError(ErrorCode.SESSION_EXPIRED, "session ended or idled out")
            if shared and not credential.idle_timeout_s:
                self.sessions.keep(credential.sid, record)
            actor = Actor.from_record(orjson.loads(record))
        participant = None
        if participant_key is not None:
            cached = next(values)
            participant = None if cached is None else cached == b"1"
        return actor, hot.rate, participant

    def _hot_path_locally(self, call: Call, checks: list[RateCheck], fetched: int) -> HotPath:
        """The state store is down: a read goes on with what this process can vouch for (its own
        rate limiter, its recently seen sessions; participant checks go to the court); a write
        cannot be made safe without the idempotency store and is refused."""
        if call.operation.is_write:
            STATE_FALLBACKS.labels("write").inc()
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable",
                               retry_after=STATE_RETRY_AFTER_S)
        values: list[bytes | None] = []
        if isinstance(call.credential, SessionRef):
            values.append(self._cached_session(call.credential))
        values += [None] * (fetched - len(values))  # the participant cache: unknown, so the court is asked
        if not self._degraded:
            self._set_degraded(True)
        STATE_FALLBACKS.labels("rate_limit").inc()
        return HotPath(self.local_limits.check(checks) if checks else None, values)

    def _cached_session(self, ref: SessionRef) -> bytes:
        # Kiosk sessions idle out and end when the card is taken: only the shared store can say
        # they are still open, so they fail closed.
        record = None if ref.idle_timeout_s else self.sessions.get(ref.sid)
        if record is None:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable: session cannot be checked",
                               retry_after=STATE_RETRY_AFTER_S)
        STATE_FALLBACKS.labels("session").inc()
        return record

    def _set_degraded(self, degraded: bool) -> None:
        self._degraded = degraded
        for part in ("rate_limit", "session"):
            DEGRADED.labels(part).set(1 if degraded else 0)
        if degraded:
            _log.warning("state store unreachable: reads on per-process rate limits and sessions, writes refused")
        else:
            _log.info("state store reachable again: shared rate limits and sessions restored")

    @property
    def degraded(self) -> bool:
        """True while reads run on this process's fallbacks (the state store was unreachable)."""
        return self._degraded

    # --- checks ---------------------------------------------------------------------------------

    @staticmethod
    def _check_assurance(op: Operation, actor: Actor | None) -> None:
        if not op.needs_actor:
            return
        if actor is None:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "this operation needs a signed-in person")
        if not assurance_at_least(actor.assurance, op.assurance):
            raise GatewayError(ErrorCode.ASSURANCE_TOO_LOW, f"{op.id} needs assurance {op.assurance}",
                               extra={"required_assurance": op.assurance})

    async def _check_access(
        self, op: Operation, actor: Actor | None, args: dict[str, Any], target: Target, cached: bool | None,
        request_id: str,
    ) -> bool:
        """Raises NOT_FOUND for someone who may not; True when a write's participant check had to
        wait for the court (it is then made before delivery, and the court sees nothing before)."""
        if actor is not None and actor.case_scope is not None:
            _check_case_scope(op, actor, target)
        deferred = False
        if op.access is Access.SELF:
            assert actor is not None
            _check_self(op, actor, args)
            await self._check_documents(actor, args, target)
        elif op.access is Access.OWN and op.owned_by:
            assert actor is not None
            court = await self.owner_court(op.owned_by, args[op.owned_by], actor)
            target.courts = [court]
        elif op.access is Access.PARTICIPANT:
            assert actor is not None and target.case is not None
            deferred = await self._check_participant(actor, target, cached, request_id, op.is_write)
            await self._check_documents(actor, args, target)
        return deferred

    async def owner_court(self, kind: str, item_id: str, actor: Actor) -> str:
        """The court of an item this actor created; NOT_FOUND otherwise, without asking any court."""
        try:
            raw = await self.state.get(_own_key(kind, item_id))
        except StateUnavailable:
            # Whose item it is lives only in the state store: without it, fail closed.
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable",
                               retry_after=STATE_RETRY_AFTER_S) from None
        record = orjson.loads(raw) if raw else None
        if not record or record.get("sub") != actor.sub:
            raise GatewayError(ErrorCode.NOT_FOUND, "not found")
        return str(record["court"])

    async def _check_documents(self, actor: Actor, args: dict[str, Any], target: Target) -> None:
        """Documents must be this person's uploads to this court: another person's upload id is NOT_FOUND."""
        for document in args.get("documents") or []:
            court = await self.owner_court("upload_id", document["upload_id"], actor)
            if court != target.court:
                raise GatewayError(ErrorCode.NOT_FOUND, "upload not found at this court")

    async def _check_participant(self, actor: Actor, target: Target, cached: bool | None, request_id: str,
                                 write: bool) -> bool:
        assert target.case is not None
        allowed = cached
        if allowed is None:
            try:
                allowed = await self._ask_access(actor, target.court, target.case.text, request_id)
            except NotTaken as not_taken:
                if write:
                    return True  # queued: the check is made before delivery, the court sees nothing before
                raise _unreachable(not_taken) from None
        if not allowed:
            # Identical to a case that does not exist: no enumeration (DOMAIN.md section 6).
            raise GatewayError(ErrorCode.NOT_FOUND, "not found")
        return False

    async def _ask_access(self, actor: Actor, court: str, case_no: str, request_id: str) -> bool:
        """Whether the court lists the actor on the case, remembered briefly; NotTaken when the
        court gave no usable answer."""
        path = f"/api/v1/cases/{quote(case_no, safe='')}/access"
        try:
            response = await self._send_raw(court, "GET", path, actor, request_id, mode="read")
        except CourtUnreachable as exc:
            raise _not_taken(exc) from None
        if response.status == 404:
            allowed = False
        elif is_success(response):
            allowed = True
        elif court_failed(response):
            raise NotTaken("answered", f"court answered {response.status}", retry_after_s=_retry_after(response))
        else:
            raise map_court_error(response)
        key = _participant_key(court, actor.sub, case_no)
        try:
            await self.state.set(key, b"1" if allowed else b"0", PARTICIPANT_TTL_S if allowed else NON_PARTICIPANT_TTL_S)
        except StateUnavailable:
            pass  # the cache is an optimisation; the court answered
        return allowed

    # --- reads and writes -----------------------------------------------------------------------

    async def _read(self, call: Call, actor: Actor | None, args: dict[str, Any], target: Target) -> Outcome:
        op = call.operation
        if op.routing is Routing.LOCAL:
            return await self._local(op, actor, args)
        if op.routing is Routing.FAN_OUT:
            return await self._fan_out(call, actor, args, target)
        started = time.perf_counter()
        response = await self._read_court(op, actor, args, target, call.request_id)
        upstream = time.perf_counter() - started
        return Outcome(self._answer(op, response), op.success_status, court=target.court, upstream_s=upstream)

    async def _read_court(self, op: Operation, actor: Actor | None, args: dict[str, Any], target: Target,
                          request_id: str) -> CourtResponse:
        try:
            return await self._call_court(op, actor, args, target, request_id, None)
        except CourtUnreachable as exc:
            raise _unreachable(exc) from None

    async def _write(self, call: Call, actor: Actor | None, args: dict[str, Any], target: Target,
                     deferred_access: bool = False) -> Outcome:
        op = call.operation
        assert actor is not None
        if call.attachment is not None:
            # The file's type is read only now, once the sender is known (nothing of an upload is
            # parsed for an unauthenticated caller: QUALITY.md security item 4).
            await recognise(call.attachment)
            call.idempotency_key = call.idempotency_key or upload_key(call.attachment)
        key = check_key(call.idempotency_key, call.idempotency_field)
        printed = dict(args, attachment=describe(call.attachment)) if call.attachment else args
        try:
            claimed = await self.idempotency.claim(call.channel.name, actor.sub, key, fingerprint(op.id, printed))
        except StateUnavailable:
            # Without the idempotency store a write cannot be made safe: refuse, never forward unguarded.
            STATE_FALLBACKS.labels("write").inc()
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable",
                               retry_after=STATE_RETRY_AFTER_S) from None
        if isinstance(claimed, StoredAnswer):
            return Outcome(claimed.result, claimed.status, replayed=True, queued=claimed.queued,
                           court=target.courts[0] if target.courts else None)
        written = _Write(call, actor, args, target, claimed, court_key(call.channel.name, actor.sub, key))
        if deferred_access:
            return await self._queue(written, NotTaken("access_deferred", "participant check deferred"), True)
        return await self._run_claimed_write(written)

    async def _run_claimed_write(self, written: _Write) -> Outcome:
        op, call, target = written.call.operation, written.call, written.target
        started = time.perf_counter()
        try:
            result = await self._send_write(op, written.actor, written.args, target, call.request_id,
                                            written.court_key, call.attachment)
        except NotTaken as not_taken:
            if call.attachment is not None:
                # An upload is streamed from the request's spool file, which is gone once we answer:
                # it cannot wait in a queue. The citizen uploads again (same file, same key).
                await _quietly(self.idempotency.release(written.claim))
                raise _unreachable(not_taken) from None
            return await self._queue(written, not_taken, False)
        except BaseException:
            await _quietly(self.idempotency.release(written.claim))
            raise
        upstream = time.perf_counter() - started
        if op.creates and isinstance(result, dict) and result.get(op.creates):
            try:
                await self.remember_own(op.creates, str(result[op.creates]), target.court, written.actor.sub)
            except StateUnavailable:
                # The claim stays "running": a retry with the same key after its lease gets the
                # court's stored answer again and records the item then.
                raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable",
                                   retry_after=STATE_RETRY_AFTER_S) from None
        await _quietly(self.idempotency.complete(written.claim, StoredAnswer(op.success_status, result)))
        return Outcome(result, op.success_status, court=target.court, upstream_s=upstream)

    async def _send_write(self, op: Operation, actor: Actor, args: dict[str, Any], target: Target, request_id: str,
                          key: str, attachment: SpooledUpload | None = None) -> Any:
        """One write to the court: its result; GatewayError when the court refused it (final);
        NotTaken when it did not take it now (try again later, with the same key)."""
        mode: CallMode = "once" if attachment is not None else "write"
        try:
            response = await self._call_court(op, actor, args, target, request_id, key, attachment, mode=mode)
        except CourtUnreachable as exc:
            raise _not_taken(exc) from None
        if court_failed(response):
            raise NotTaken("answered", f"court answered {response.status}", retry_after_s=_retry_after(response))
        try:
            return self._answer(op, response)
        except GatewayError as error:
            if is_success(response):  # committed, perhaps, but unreadable: the same key will tell
                raise NotTaken("answered", error.detail) from None
            raise

    async def _queue(self, written: _Write, cause: NotTaken, check_access: bool) -> Outcome:
        """Accept the write into the outbox: the delivery record, the citizen's own-record of the
        delivery id and the idempotency record (the queued answer) go in with it, atomically."""
        call, actor, target = written.call, written.actor, written.target
        delivery_id = "d-" + secrets.token_urlsafe(16)
        answer = {"status": "queued", "delivery_id": delivery_id}
        write = QueuedWrite(delivery_id, target.court, call.operation.id, call.channel.name, actor.to_record(),
                            written.args, written.court_key, written.claim.record_key, written.claim.fingerprint,
                            call.request_id, time.time(), check_access)
        records: list[Record] = [
            DeliveryRecord.fresh(write, attempts=1 if cause.reached_court else 0).record(),
            self.own_record("delivery_id", delivery_id, target.court, actor.sub, DELIVERY_TTL_S),
            (written.claim.record_key, done_record(written.claim.fingerprint, StoredAnswer(202, answer, True)),
             RETENTION_S),
        ]
        assert self.outbox is not None
        try:
            await self.outbox.enqueue(write, records)
        except StateUnavailable:
            await _quietly(self.idempotency.release(written.claim))
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable: the write was not queued",
                               retry_after=STATE_RETRY_AFTER_S) from None
        OUTBOX_QUEUED.labels(target.court, call.operation.id).inc()
        _log.info("write queued", request_id=call.request_id, operation=call.operation.id, court=target.court,
                  delivery_id=delivery_id, cause=cause.kind, detail=cause.detail)
        return Outcome(answer, 202, queued=True, court=target.court)

    async def deliver(self, write: QueuedWrite) -> Any:
        """Send a queued write again, with its original Idempotency-Key (the court deduplicates).

        Returns the court's result; raises GatewayError when the court refused it (or the actor is
        not a participant of the case: then the court never sees the write), NotTaken when it should
        be tried again later.
        """
        op = get_operation(write.operation)
        if op is None:
            raise GatewayError(ErrorCode.NOT_FOUND, f"unknown operation {write.operation}")
        actor = Actor.from_record(write.actor)
        case_no = write.args.get("case_no")
        if write.check_access and case_no and not await self._ask_access(actor, write.court, str(case_no),
                                                                         write.request_id):
            raise GatewayError(ErrorCode.NOT_FOUND, "not found")
        return await self._send_write(op, actor, write.args, Target([write.court]), write.request_id,
                                      write.court_key)

    async def remember_own(self, kind: str, item_id: str, court: str, sub: str, ttl_s: float = OWN_RECORD_TTL_S) -> None:
        key, record, ttl = self.own_record(kind, item_id, court, sub, ttl_s)
        await self.state.set(key, record, ttl)

    @staticmethod
    def own_record(kind: str, item_id: str, court: str, sub: str, ttl_s: float = OWN_RECORD_TTL_S) -> Record:
        """The record that makes an item this person's own (OWN access), to store with other records."""
        return _own_key(kind, item_id), orjson.dumps({"court": court, "sub": sub}), ttl_s

    async def _call_court(
        self, op: Operation, actor: Actor | None, args: dict[str, Any], target: Target, request_id: str,
        idempotency_key: str | None, attachment: SpooledUpload | None = None, *, mode: CallMode = "read",
    ) -> CourtResponse:
        path, params, body = court_request(op, args)
        if attachment is not None:
            # The court's uploads route takes the file as multipart, streamed from the spool file.
            form = upload_form(attachment.file, attachment.filename, attachment.content_type)
            return await self._send_raw(target.court, op.method, path, actor, request_id, mode="once",
                                        params={"court": target.court}, form=form, idempotency_key=idempotency_key)
        return await self._send_raw(target.court, op.method, path, actor, request_id, mode=mode, params=params,
                                    body=body, idempotency_key=idempotency_key)

    async def court_post(self, court: str, path: str, actor: Actor | None, request_id: str,
                         body: dict[str, Any]) -> CourtResponse:
        """POST a JSON body to a court route outside the catalog (the case query password check of
        CONTRACTS.md section 5), signed like every court call; the answer is returned as it came."""
        # Not retried: a password check counts against the caller at the court, and is asked again
        # by the caller anyway.
        try:
            return await self._send_raw(self._known_court(court), "POST", path, actor, request_id, mode="once",
                                        body=orjson.dumps(body))
        except CourtUnreachable as exc:
            raise _unreachable(exc) from None

    async def _send_raw(
        self, court: str, method: str, path: str, actor: Actor | None, request_id: str, *, mode: CallMode,
        params: dict[str, str] | None = None, body: bytes | None = None, form: UploadPart | None = None,
        idempotency_key: str | None = None,
    ) -> CourtResponse:
        """Through the court's guard (breaker, retries per ``mode``); raises CourtUnreachable."""
        headers = {
            "Authorization": "Bearer " + self.signer.token_for(actor, court),
            "X-Request-Id": request_id,
            "Accept": "application/json",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        assert self.resilience is not None
        return await self.resilience.guard(court).send(method, path, mode=mode, headers=headers, body=body,
                                                       params=params, form=form)

    @staticmethod
    def _answer(op: Operation, response: CourtResponse) -> Any:
        if not is_success(response):
            raise map_court_error(response)
        if op.binary:
            disposition = response.headers.get("Content-Disposition", "")
            return BinaryAnswer(response.body, response.content_type or "application/octet-stream",
                                _filename(disposition))
        return decode_json_answer(response)

    async def _fan_out(self, call: Call, actor: Actor | None, args: dict[str, Any], target: Target) -> Outcome:
        op = call.operation
        cursors = decode_cursor(args.pop("cursor", None))
        courts = [c for c in target.courts if not cursors or c in cursors]
        started = time.perf_counter()

        async def one(court: str) -> Any:
            court_args = dict(args, court=None)
            if cursors.get(court):
                court_args["cursor"] = cursors[court]
            response = await self._read_court(op, actor, court_args, Target([court]), call.request_id)
            return self._answer(op, response)

        answers = await asyncio.gather(*(one(c) for c in courts), return_exceptions=True)
        items: list[Any] = []
        partial: list[str] = []
        next_cursors: dict[str, str] = {}
        for court, answer in zip(courts, answers, strict=True):
            if isinstance(answer, BaseException) or not isinstance(answer, dict):
                if isinstance(answer, BaseException) and not isinstance(answer, Exception):
                    raise answer
                partial.append(court)
                continue
            items.extend({"court": court, **item} if isinstance(item, dict) else item
                         for item in answer.get("items", []))
            if answer.get("next_cursor"):
                next_cursors[court] = str(answer["next_cursor"])
        result = {"items": items, "next_cursor": encode_cursor(next_cursors), "partial": partial}
        return Outcome(result, 200, upstream_s=time.perf_counter() - started)

    async def _local(self, op: Operation, actor: Actor | None, args: dict[str, Any]) -> Outcome:
        if op.id == "courts.list":
            items = [{"code": code, "name": name} for code, name in self.courts.names.items()]
            return Outcome({"items": items, "next_cursor": None}, 200)
        if op.id == "deliveries.get":
            assert actor is not None
            delivery_id = args["delivery_id"]
            await self.owner_court("delivery_id", delivery_id, actor)
            try:
                raw = await self.state.get(delivery_key(delivery_id))
            except StateUnavailable:
                raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable",
                                   retry_after=STATE_RETRY_AFTER_S) from None
            if raw is None:
                raise GatewayError(ErrorCode.NOT_FOUND, "not found")
            return Outcome(public_view(raw), 200)
        raise GatewayError(ErrorCode.NOT_FOUND, "unknown local operation")


# --- helpers (pure) ---------------------------------------------------------------------------------


def parse_case(text: Any) -> CaseNumber:
    try:
        return parse_case_number(str(text))
    except CaseNumberError:
        raise GatewayError(
            ErrorCode.INVALID_CASE_NUMBER, "not a case number",
            [FieldError("case_no", "案号格式不正确，应类似“（2024）粤0106民初88号”。")],
        ) from None


def validate_args(op: Operation, raw: Mapping[str, Any]) -> dict[str, Any]:
    try:
        model = op.args.model_validate(dict(raw))
    except ValidationError as exc:
        raise validation_error(exc) from None
    return model.model_dump(mode="json", exclude_none=True)


def _warn_of_manual_review(op: Operation, args: dict[str, Any], request_id: str) -> None:
    """A USCC that fails only its check character goes to the court flagged for review by hand
    (DOMAIN.md section 3); the log says where, never the number."""
    for role in ("plaintiffs", "defendants", "third_parties", "applicants", "respondents"):
        for index, party in enumerate(args.get(role) or []):
            if isinstance(party, dict) and party.get("review") == "manual":
                _log.warning("id number sent for manual review", operation=op.id, field=f"{role}[{index}].id_number",
                             reason="USCC check character", request_id=request_id)


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


def court_request(op: Operation, args: dict[str, Any]) -> tuple[str, dict[str, str] | None, bytes | None]:
    """The court request for an operation: canonical path, query (reads) or JSON body (writes)."""
    path_values = {name: quote(str(args[name]), safe="") for name in op.path_params}
    path = "/api/v1" + op.path.format(**path_values)
    rest = {k: v for k, v in args.items() if k not in path_values and v is not None}
    if op.routing is Routing.CASE:
        rest.pop("court", None)  # routing information; the court knows who it is
    if op.method == "GET":
        params = {k: _query_value(v) for k, v in rest.items() if not isinstance(v, (dict, list))}
        return path, params or None, None
    return path, None, orjson.dumps(rest)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_self(op: Operation, actor: Actor, args: dict[str, Any]) -> None:
    """"self": a filing's plaintiffs or their agent, a mediation's applicants, include the actor."""
    people: list[dict[str, Any]] = []
    for group in ("plaintiffs", "applicants"):
        people.extend(args.get(group) or [])
    if op.id == "filings.submit" and args.get("agent"):
        people.append(args["agent"])
    if not people:
        return
    if not any(p.get("id_number") == actor.id_number and p.get("id_type", "ID_CARD") == actor.id_type
               for p in people):
        field_name = "plaintiffs" if "plaintiffs" in args else "applicants"
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "the signed-in person must be a party or the agent",
                           [FieldError(field_name, "提交人须为本案当事人或其委托代理人。")])


def _check_case_scope(op: Operation, actor: Actor, target: Target) -> None:
    """A hotline caller verified by a case query password may touch that one case only."""
    if op.access is not Access.PARTICIPANT or target.case is None or target.case.text != actor.case_scope:
        raise GatewayError(ErrorCode.NOT_FOUND, "outside the verified case")


def _rate_checks(channel: ChannelPolicy, sub: str | None) -> list[RateCheck]:
    checks = []
    if channel.per_channel:
        checks.append(RateCheck(f"rl:c:{channel.name}", channel.per_channel.count, channel.per_channel.period_s))
    if sub and channel.per_actor:
        checks.append(RateCheck(f"rl:a:{channel.name}:{actor_tag(sub)}", channel.per_actor.count,
                                channel.per_actor.period_s))
    return checks


def _participant_key(court: str, sub: str, case_no: str) -> str:
    digest = hashlib.sha256(f"{court}\n{case_no}".encode()).hexdigest()[:24]
    return f"acc:{actor_tag(sub)}:{digest}"


def _own_key(kind: str, item_id: str) -> str:
    # In the slot of the outbox: written in the same transaction as a queued write's settlement.
    return f"{WRITES_TAG}own:{kind}:{item_id}"


def _as_actor(credential: Credential) -> Actor | None:
    return credential if isinstance(credential, Actor) else None


def encode_cursor(cursors: dict[str, str]) -> str | None:
    if not cursors:
        return None
    return base64.urlsafe_b64encode(orjson.dumps(cursors)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "malformed cursor", [FieldError("cursor", "malformed")]) from None
    if not isinstance(decoded, dict) or not all(isinstance(v, str) for v in decoded.values()):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "malformed cursor", [FieldError("cursor", "malformed")])
    return {str(k): v for k, v in decoded.items()}


def _filename(disposition: str) -> str:
    from urllib.parse import unquote

    for part in disposition.split(";"):
        part = part.strip()
        if part.lower().startswith("filename*="):
            return unquote(part.split("''", 1)[-1])
    for part in disposition.split(";"):
        part = part.strip()
        if part.lower().startswith("filename="):
            return part.split("=", 1)[1].strip('"')
    return "download"


@dataclass(frozen=True)
class _Write:
    """A claimed write on its way to the court (or the outbox)."""

    call: Call
    actor: Actor
    args: dict[str, Any]
    target: Target
    claim: Claim
    court_key: str


def _not_taken(exc: CourtUnreachable) -> NotTaken:
    return NotTaken(exc.kind, exc.detail, exc.code, exc.retry_after_s)


def _unreachable(failure: CourtUnreachable | NotTaken) -> GatewayError:
    """A read's answer when the court gave none: BACKEND_UNAVAILABLE or BACKEND_TIMEOUT, with the
    breaker's (or the court's) Retry-After when there is one."""
    retry_after = failure.retry_after_s
    return GatewayError(failure.code, failure.detail,
                        retry_after=max(1, int(retry_after + 0.999)) if retry_after else None)


def _retry_after(response: CourtResponse) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except StateUnavailable:
        pass
