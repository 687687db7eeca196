"""Writes: claimed once per idempotency key, sent to the court, and answered from the record on a
retry. A write the court does not take now (no connection, no answer in time, a 5xx, the breaker
open) waits in the outbox and is answered 202 ``{"status": "queued", "delivery_id"}``; an upload is
never queued (its spool file is gone once the request is answered)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from gateway.actor import Actor
from gateway.calls import Call, Outcome
from gateway.catalog import Operation, get_operation
from gateway.court_client import CourtUnreachable, court_failed, is_success
from gateway.errors import ErrorCode, GatewayError
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
from gateway.metrics import OUTBOX_QUEUED, STATE_FALLBACKS
from gateway.pipeline.access import AccessChecks
from gateway.pipeline.answers import court_answer
from gateway.pipeline.court_calls import CourtCalls
from gateway.pipeline.owned import OwnRecords, own_record
from gateway.pipeline.routing import Target
from gateway.pipeline.unavailable import court_failed_now, not_taken, quietly, state_unavailable, unreachable
from gateway.resilience.outbox import DELIVERY_TTL_S, DeliveryRecord, NotTaken, Outbox, QueuedWrite, Record
from gateway.resilience.retry import CallMode
from gateway.state import StateUnavailable
from gateway.uploads import SpooledUpload, describe, recognise, upload_key

_log = get_logger("court_gateway.pipeline")


@dataclass(frozen=True)
class _Write:
    """A claimed write on its way to the court (or the outbox)."""

    call: Call
    actor: Actor
    args: dict[str, Any]
    target: Target
    claim: Claim
    court_key: str


@dataclass
class Writes:
    idempotency: IdempotencyStore
    #: where writes the court cannot take now wait
    outbox: Outbox
    court_calls: CourtCalls
    access: AccessChecks
    owned: OwnRecords

    async def write(self, call: Call, actor: Actor | None, args: dict[str, Any], target: Target,
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
            raise state_unavailable() from None
        if isinstance(claimed, StoredAnswer):
            return Outcome(claimed.result, claimed.status, replayed=True, queued=claimed.queued,
                           court=target.courts[0] if target.courts else None)
        written = _Write(call, actor, args, target, claimed, court_key(call.channel.name, actor.sub, key))
        if deferred_access:
            return await self._queue(written, NotTaken("access_deferred", "participant check deferred"), True)
        return await self._run_claimed(written)

    async def _run_claimed(self, written: _Write) -> Outcome:
        op, call, target = written.call.operation, written.call, written.target
        started = time.perf_counter()
        try:
            result = await self._send(op, written.actor, written.args, target, call.request_id,
                                      written.court_key, call.attachment)
        except NotTaken as refused_now:
            if call.attachment is not None:
                # An upload is streamed from the request's spool file, which is gone once we answer:
                # it cannot wait in a queue. The citizen uploads again (same file, same key).
                await quietly(self.idempotency.release(written.claim))
                raise unreachable(refused_now) from None
            return await self._queue(written, refused_now, False)
        except BaseException:
            await quietly(self.idempotency.release(written.claim))
            raise
        upstream = time.perf_counter() - started
        if op.creates and isinstance(result, dict) and result.get(op.creates):
            try:
                await self.owned.remember(op.creates, str(result[op.creates]), target.court, written.actor.sub)
            except StateUnavailable:
                # The claim stays "running": a retry with the same key after its lease gets the
                # court's stored answer again and records the item then.
                raise state_unavailable() from None
        await quietly(self.idempotency.complete(written.claim, StoredAnswer(op.success_status, result)))
        return Outcome(result, op.success_status, court=target.court, upstream_s=upstream)

    async def _send(self, op: Operation, actor: Actor, args: dict[str, Any], target: Target, request_id: str,
                    key: str, attachment: SpooledUpload | None = None) -> Any:
        """One write to the court: its result; GatewayError when the court refused it (final);
        NotTaken when it did not take it now (try again later, with the same key)."""
        mode: CallMode = "once" if attachment is not None else "write"
        try:
            response = await self.court_calls.call(op, actor, args, target, request_id, key, attachment, mode=mode)
        except CourtUnreachable as exc:
            raise not_taken(exc) from None
        if court_failed(response):
            raise court_failed_now(response)
        try:
            return court_answer(op, response)
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
            own_record("delivery_id", delivery_id, target.court, actor.sub, DELIVERY_TTL_S),
            (written.claim.record_key, done_record(written.claim.fingerprint, StoredAnswer(202, answer, True)),
             RETENTION_S),
        ]
        try:
            await self.outbox.enqueue(write, records)
        except StateUnavailable:
            await quietly(self.idempotency.release(written.claim))
            raise state_unavailable("state store unavailable: the write was not queued") from None
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
        if write.check_access and case_no and not await self.access.ask_court(actor, write.court, str(case_no),
                                                                              write.request_id):
            raise GatewayError(ErrorCode.NOT_FOUND, "not found")
        return await self._send(op, actor, write.args, Target([write.court]), write.request_id, write.court_key)
