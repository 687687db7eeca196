"""The background job that delivers queued writes once their court takes them again.

Every ``serve`` (unless ``--no-worker``) and every ``worker`` process runs one
:class:`Deliverer`; they share the work through the outbox's consumer group,
so each entry is delivered by one worker at a time. A round:

1. courts whose breaker is open are left alone (their entries wait unread);
2. this worker's own unsettled entries whose backoff is over are tried again;
3. every few seconds, entries a dead worker held longer than ``claim_idle_s``
   are taken over (XAUTOCLAIM) and tried again;
4. new entries are read (one blocking XREADGROUP for every court that can take
   calls) and delivered concurrently, a bounded number per court (while the
   breaker is half-open, only as many as it has probe slots).

A delivery sends the write with its original Idempotency-Key. The court's
answer settles it, atomically with the records it changes: the delivery record
(``delivered`` with the result, or ``failed`` with the court's refusal), the
citizen's own-record of the created item, and the idempotency record (a replay
of the original request then answers what the court answered). The citizen is
told the outcome through ``notify`` (gateway/resilience/follow.py queues a
``delivery.finished`` notice for the notification dispatcher; without a hook, the
outcome is logged).

A write the court does not take is tried again with a per-entry backoff. It
goes to the dead-letter stream (``outbox:dead``, alert metric
``court_gateway_outbox_dead_letters_total``) after ``max_strikes`` failures
that point at the entry rather than the court: a failure counts only when the
court answered (a 5xx, a redirect, a malformed or oversized answer, a timeout)
while its breaker was closed. Refused connections, calls the breaker stopped and
half-open probes never count, so a court that is down for a day keeps its
queue intact, while an entry a healthy court keeps failing on is set aside.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gateway.actor import Actor
from gateway.catalog import get_operation
from gateway.errors import GatewayError
from gateway.idempotency import RETENTION_S, StoredAnswer, done_record
from gateway.logs import get_logger
from gateway.metrics import DELIVERY_SECONDS, OUTBOX_BACKLOG, OUTBOX_DEAD_LETTERS, OUTBOX_FINISHED
from gateway.resilience.breaker import Breaker, BreakerState
from gateway.resilience.outbox import (
    DeliveryRecord,
    Entry,
    NotTaken,
    Outbox,
    QueuedWrite,
    Record,
    delivery_key,
)
from gateway.state import StateUnavailable

if TYPE_CHECKING:
    from gateway.pipeline import Pipeline

_log = get_logger("court_gateway.deliveries")


@dataclass(frozen=True)
class DeliverySettings:
    #: deliveries in flight at once per court, in this process (also how many entries are read at once)
    concurrency: int = 16
    #: an entry held this long without being settled belongs to a dead worker; None: 30 s, or the
    #: longest delivery a court's deadline allows plus 10 s if that is longer, so a live worker's
    #: slow delivery is never taken over while it is still running
    claim_idle_s: float | None = None
    housekeeping_s: float = 5.0
    max_strikes: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    block_s: float = 1.0


@dataclass(frozen=True)
class DeliveryReport:
    """The final outcome of a queued write, for telling the citizen."""

    delivery_id: str
    operation: str
    court: str
    channel: str
    status: Literal["delivered", "failed"]
    actor: Actor
    request_id: str
    result: Any = None
    error: dict[str, str] | None = None
    #: the case the write concerned, if it named one
    case_no: str | None = None


Notify = Callable[[DeliveryReport], Awaitable[None]]
_FINAL: dict[str, Literal["delivered", "failed"]] = {"delivered": "delivered", "failed": "failed"}


async def log_outcome(report: DeliveryReport) -> None:
    """The default ``notify``: one log line (no personal data); a dispatcher replaces it."""
    _log.info("delivery outcome", delivery_id=report.delivery_id, operation=report.operation, court=report.court,
              channel=report.channel, status=report.status, request_id=report.request_id,
              error=report.error["code"] if report.error else None)


def consumer_name() -> str:
    """Unique per process start: a restarted worker must not inherit a dead one's pending entries
    by name (they are reclaimed by idle time instead, whoever is alive)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Deliverer:
    name = "deliveries"

    def __init__(self, pipeline: Pipeline, courts: Sequence[str], *, settings: DeliverySettings | None = None,
                 notify: Notify | None = None, consumer: str | None = None) -> None:
        assert pipeline.outbox is not None
        self.pipeline = pipeline
        self.outbox: Outbox = pipeline.outbox
        self.courts = list(courts)
        self.settings = settings or DeliverySettings()
        self.notify: Notify = notify or log_outcome
        self.consumer = consumer or consumer_name()
        self._in_flight: dict[str, set[str]] = {court: set() for court in self.courts}
        self._not_before: dict[str, float] = {}
        self._has_pending = dict.fromkeys(self.courts, True)
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_housekeeping = 0.0
        self.claim_idle_s = self.settings.claim_idle_s or self._longest_delivery_s() + 10.0

    def _longest_delivery_s(self) -> float:
        assert self.pipeline.resilience is not None
        guards = [self.pipeline.resilience.guard(court) for court in self.courts]
        return max([20.0, *(guard.policy("write").deadline_s for guard in guards)])

    # --- the loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        prepared = False
        try:
            while not stop.is_set():
                try:
                    if not prepared:
                        await self.outbox.prepare(self.courts)
                        prepared = True
                    await self.round()
                except StateUnavailable:
                    prepared = False  # the streams may be gone too (a flushed or replaced Redis)
                    await _pause(stop, 1.0)
        finally:
            await self._drain()

    async def round(self) -> None:
        """One pass: housekeeping when due, own entries due again, then new entries."""
        if time.monotonic() >= self._next_housekeeping:
            self._next_housekeeping = time.monotonic() + self.settings.housekeeping_s
            await self._housekeeping()
        started = 0
        for court in self.courts:
            if self._has_pending[court] and self._room(court) > 0:
                started += self._start(await self._due_pending(court))
        for court in self.courts:
            room = self._room(court)
            if 0 < room < self.settings.concurrency:  # half-open, or busy: only what fits
                started += self._start(await self.outbox.read_new([court], self.consumer, room, 0))
        open_courts = [court for court in self.courts if self._room(court) >= self.settings.concurrency]
        if open_courts:
            # Wait for new entries only when there is nothing else to do: a backlog at one court
            # must not wait for the blocking read of the others.
            block = self.settings.block_s if not started and not self._tasks else 0
            started += self._start(await self.outbox.read_new(open_courts, self.consumer,
                                                              self.settings.concurrency, block))
        if started:
            return
        if self._tasks:  # every court is busy or resting: go on when a delivery finishes
            await asyncio.wait(self._tasks, timeout=self.settings.block_s, return_when=asyncio.FIRST_COMPLETED)
        elif not open_courts:
            await asyncio.sleep(min(0.5, self.settings.block_s))

    def _room(self, court: str) -> int:
        slots = self._breaker(court).probe_slots()
        return max(0, min(self.settings.concurrency - len(self._in_flight[court]), slots))

    def _breaker(self, court: str) -> Breaker:
        assert self.pipeline.resilience is not None
        return self.pipeline.resilience.guard(court).breaker

    async def _due_pending(self, court: str) -> list[Entry]:
        due: list[Entry] = []
        now, after, room = time.monotonic(), "0", self._room(court)
        while len(due) < room:
            page = await self.outbox.read_pending(court, self.consumer, 64, after)
            if not page:
                break
            after = page[-1].entry_id
            due += [e for e in page if e.entry_id not in self._in_flight[court]
                    and self._not_before.get(e.entry_id, 0.0) <= now]
        if after == "0":
            self._has_pending[court] = False
        return due[:room]

    async def _housekeeping(self) -> None:
        for court in self.courts:
            claimed = await self.outbox.reclaim(court, self.consumer, self.claim_idle_s, self.settings.concurrency)
            if claimed:
                _log.info("deliveries taken over from an idle worker", court=court, count=len(claimed))
                self._has_pending[court] = True
            OUTBOX_BACKLOG.labels(court).set(await self.outbox.backlog(court))

    def _start(self, entries: Sequence[Entry]) -> int:
        started = 0
        for entry in entries:
            if entry.entry_id in self._in_flight[entry.court]:
                continue
            self._in_flight[entry.court].add(entry.entry_id)
            task = asyncio.create_task(self._guarded(entry))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def _drain(self) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=5.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # --- one entry ------------------------------------------------------------------------------

    async def _guarded(self, entry: Entry) -> None:
        try:
            await self.deliver(entry)
        except StateUnavailable:
            self._later(entry, 1.0)  # the records could not be written: try again when Redis is back
        except Exception:  # noqa: BLE001 - one bad entry must never stop the others
            _log.exception("delivery failed unexpectedly", court=entry.court, entry_id=entry.entry_id)
            self._later(entry, self.settings.backoff_max_s)
        finally:
            self._in_flight[entry.court].discard(entry.entry_id)

    async def deliver(self, entry: Entry) -> None:
        """Try ``entry`` once and settle it, or leave it pending for a later try."""
        write = entry.write
        if write is None:
            await self.outbox.settle(entry, [])  # nothing left to deliver
            return
        record = await self._record(write)
        final = _FINAL.get(record.status)
        if final is not None:
            # Settled before: a worker died after its transaction, perhaps before telling the person.
            # Telling again is harmless: the notice is queued once per delivery and outcome.
            await self.outbox.settle(entry, [])
            await self._tell(write, final, result=record.result, error=record.error)
            return
        counts = self._breaker(write.court).state is BreakerState.CLOSED
        before = (record.attempts, record.strikes)
        record.status, record.attempts, record.strikes = "delivering", record.attempts + 1, record.strikes + counts
        await self._put(record)  # a worker that dies now has still spent the attempt (a poison entry)
        try:
            result = await self.pipeline.deliver(write)
        except NotTaken as not_taken:
            await self._not_taken(entry, write, record, before, not_taken, counts)
        except GatewayError as refused:
            await self._refused(entry, write, record, refused)
        else:
            await self._delivered(entry, write, record, result)

    async def _record(self, write: QueuedWrite) -> DeliveryRecord:
        raw = await self.pipeline.state.get(delivery_key(write.delivery_id))
        return DeliveryRecord.loads(raw) if raw else DeliveryRecord.fresh(write)

    async def _put(self, record: DeliveryRecord) -> None:
        key, value, ttl = record.record()
        await self.pipeline.state.set(key, value, ttl)

    async def _delivered(self, entry: Entry, write: QueuedWrite, record: DeliveryRecord, result: Any) -> None:
        op = get_operation(write.operation)
        record.status, record.result, record.error = "delivered", result, None
        records: list[Record] = [record.record()]
        if op is not None and op.creates and isinstance(result, dict) and result.get(op.creates):
            sub = str(write.actor.get("sub"))
            records.append(self.pipeline.own_record(op.creates, str(result[op.creates]), write.court, sub))
        status = op.success_status if op is not None else 201
        records.append((write.record_key, done_record(write.fingerprint, StoredAnswer(status, result)), RETENTION_S))
        await self.outbox.settle(entry, records)
        OUTBOX_FINISHED.labels(write.court, "delivered").inc()
        DELIVERY_SECONDS.labels(write.court).observe(max(0.0, time.time() - write.queued_at))
        self._forget(entry)
        await self._tell(write, "delivered", result=result)

    async def _refused(self, entry: Entry, write: QueuedWrite, record: DeliveryRecord, refused: GatewayError) -> None:
        # The court answered and said no: final. The idempotency record keeps the queued answer, so a
        # replay shows the delivery id, whose record shows the refusal.
        error = {"code": refused.code.value, "message": refused.message, "detail": refused.detail}
        record.status, record.error = "failed", error
        await self.outbox.settle(entry, [record.record()])
        OUTBOX_FINISHED.labels(write.court, "failed").inc()
        self._forget(entry)
        await self._tell(write, "failed", error=error)

    async def _not_taken(self, entry: Entry, write: QueuedWrite, record: DeliveryRecord, before: tuple[int, int],
                         not_taken: NotTaken, counted: bool) -> None:
        if not_taken.kind == "breaker_open":
            record.attempts, record.strikes = before  # not sent at all
        elif not (counted and not_taken.reached_court):
            record.strikes = before[1]  # the court was down, not this entry's fault
        if record.strikes >= self.settings.max_strikes:
            await self._dead_letter(entry, write, record, not_taken)
            return
        record.status = "queued"
        await self._put(record)
        self._later(entry, self._backoff(record.strikes, not_taken.retry_after_s))

    async def _dead_letter(self, entry: Entry, write: QueuedWrite, record: DeliveryRecord,
                           not_taken: NotTaken) -> None:
        error = {"code": not_taken.code.value, "message": "法院系统暂时无法受理该申请，工作人员将跟进处理。",
                 "detail": f"gave up after {record.strikes} failed attempts: {not_taken.detail}"}
        record.status, record.error = "failed", error
        await self.outbox.dead_letter(entry, not_taken.detail, [record.record()])
        OUTBOX_DEAD_LETTERS.labels(write.court).inc()
        OUTBOX_FINISHED.labels(write.court, "dead_letter").inc()
        _log.error("queued write moved to the dead-letter stream", court=write.court, operation=write.operation,
                   delivery_id=write.delivery_id, attempts=record.attempts, detail=not_taken.detail)
        self._forget(entry)
        await self._tell(write, "failed", error=error)

    def _backoff(self, strikes: int, retry_after_s: float | None) -> float:
        window = min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2 ** max(0, strikes - 1))
        return max(random.uniform(window / 2, window), retry_after_s or 0.0)

    def _later(self, entry: Entry, delay_s: float) -> None:
        self._not_before[entry.entry_id] = time.monotonic() + delay_s
        self._has_pending[entry.court] = True

    def _forget(self, entry: Entry) -> None:
        self._not_before.pop(entry.entry_id, None)

    async def _tell(self, write: QueuedWrite, status: Literal["delivered", "failed"], *, result: Any = None,
                    error: dict[str, str] | None = None) -> None:
        case_no = write.args.get("case_no")
        report = DeliveryReport(write.delivery_id, write.operation, write.court, write.channel, status,
                                Actor.from_record(write.actor), write.request_id, result, error,
                                case_no if isinstance(case_no, str) else None)
        try:
            await self.notify(report)
        except Exception:  # noqa: BLE001 - the delivery stands whatever the notification does
            _log.exception("delivery notification failed", delivery_id=write.delivery_id)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
