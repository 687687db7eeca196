"""The outbox port on both implementations: in memory, and Redis streams on a private redis-server."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
import pytest

from gateway.resilience.outbox import (
    PENDING_LISTED_MAX,
    DeliveryRecord,
    MemoryOutbox,
    Outbox,
    QueuedWrite,
    RedisOutbox,
    delivery_key,
    open_outbox,
    public_view,
)
from gateway.state import StateStore
from gateway.state.memory import MemoryState
from gateway.state.redis import RedisState
from tests.support.stack import RedisServer


@dataclass
class Box:
    outbox: Outbox
    state: StateStore
    court: str  # a court code of its own, so tests sharing one Redis never see each other's streams


@pytest.fixture(params=["memory", "redis"])
async def box(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[Box]:
    state: StateStore = MemoryState() if request.param == "memory" else RedisState(redis_server.url)
    outbox = open_outbox(state)
    assert isinstance(outbox, MemoryOutbox if request.param == "memory" else RedisOutbox)
    court = "测" + secrets.token_hex(4)
    await outbox.prepare([court])
    yield Box(outbox, state, court)
    await state.close()


def write(court: str, **changes: object) -> QueuedWrite:
    base = QueuedWrite("d-" + secrets.token_hex(6), court, "filings.submit", "wechat", {"sub": "p_1", "assurance": "L2",
                       "channel": "wechat"}, {"court": court, "cause": "民间借贷纠纷"}, "k" * 64, "idem:x", "fp",
                       "req-1", time.time())
    return QueuedWrite(**{**base.__dict__, **changes})


async def test_enqueue_stores_the_records_with_the_entry_and_one_consumer_gets_it(box: Box) -> None:
    queued = write(box.court)
    record = DeliveryRecord.fresh(queued)
    await box.outbox.enqueue(queued, [record.record(), ("own:delivery_id:" + queued.delivery_id, b"{}", 60)])
    assert public_view(await box.state.get(delivery_key(queued.delivery_id)) or b"{}") == {
        "delivery_id": queued.delivery_id, "operation": "filings.submit", "court": box.court, "status": "queued",
        "attempts": 0}
    assert await box.state.get("own:delivery_id:" + queued.delivery_id) == b"{}"
    first = await box.outbox.read_new([box.court], "worker-a", 10, 0.1)
    second = await box.outbox.read_new([box.court], "worker-b", 10, 0.1)
    assert [e.write for e in first] == [queued] and second == []
    assert await box.outbox.backlog(box.court) == 1


async def test_settle_removes_the_entry_and_writes_the_outcome_together(box: Box) -> None:
    queued = write(box.court)
    await box.outbox.enqueue(queued, [])
    [entry] = await box.outbox.read_new([box.court], "worker-a", 10, 0.1)
    await box.outbox.settle(entry, [("idem:x", b"done", 60)])
    assert await box.state.get("idem:x") == b"done"
    assert await box.outbox.backlog(box.court) == 0
    assert await box.outbox.read_pending(box.court, "worker-a", 10) == []


async def test_own_pending_entries_are_read_again_oldest_first_and_only_by_their_holder(box: Box) -> None:
    writes = [write(box.court) for _ in range(3)]
    for queued in writes:
        await box.outbox.enqueue(queued, [])
    taken = await box.outbox.read_new([box.court], "worker-a", 10, 0.1)
    assert [e.write for e in taken] == writes
    again = await box.outbox.read_pending(box.court, "worker-a", 2)
    assert [e.entry_id for e in again] == [e.entry_id for e in taken[:2]]
    rest = await box.outbox.read_pending(box.court, "worker-a", 10, after=again[-1].entry_id)
    assert [e.entry_id for e in rest] == [taken[2].entry_id]
    assert await box.outbox.read_pending(box.court, "worker-b", 10) == []


async def test_a_dead_workers_entries_are_reclaimed_after_they_idle(box: Box) -> None:
    queued = write(box.court)
    await box.outbox.enqueue(queued, [])
    [held] = await box.outbox.read_new([box.court], "dead-worker", 10, 0.1)
    assert await box.outbox.reclaim(box.court, "live-worker", 0.3, 10) == []  # not idle long enough yet
    await asyncio.sleep(0.35)
    [claimed] = await box.outbox.reclaim(box.court, "live-worker", 0.3, 10)
    assert claimed.entry_id == held.entry_id and claimed.write == queued
    assert [e.entry_id for e in await box.outbox.read_pending(box.court, "live-worker", 10)] == [held.entry_id]
    assert await box.outbox.read_pending(box.court, "dead-worker", 10) == []


async def test_a_poison_entry_goes_to_the_dead_letter_stream(box: Box) -> None:
    queued = write(box.court)
    await box.outbox.enqueue(queued, [])
    [entry] = await box.outbox.read_new([box.court], "worker-a", 10, 0.1)
    failed = DeliveryRecord.fresh(queued)
    failed.status = "failed"
    await box.outbox.dead_letter(entry, "court answered 500", [failed.record()])
    letters = [letter for letter in await box.outbox.dead_letters(100_000) if letter["court"] == box.court]
    assert len(letters) == 1 and letters[0]["reason"] == "court answered 500"
    assert QueuedWrite.loads(letters[0]["w"].encode()) == queued
    assert await box.outbox.backlog(box.court) == 0
    assert orjson.loads(await box.state.get(delivery_key(queued.delivery_id)) or b"{}")["status"] == "failed"


async def test_a_blocked_read_wakes_up_when_a_write_arrives(box: Box) -> None:
    reading = asyncio.create_task(box.outbox.read_new([box.court], "worker-a", 10, 3.0))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await box.outbox.enqueue(write(box.court), [])
    entries = await reading
    assert len(entries) == 1 and time.monotonic() - started < 2.5  # woken, not timed out at 3 s


async def test_prepare_is_idempotent_and_several_courts_are_read_at_once(box: Box) -> None:
    other = "测" + secrets.token_hex(4)
    await box.outbox.prepare([box.court, other])
    await box.outbox.prepare([box.court, other])
    await box.outbox.enqueue(write(box.court), [])
    await box.outbox.enqueue(write(other), [])
    entries = await box.outbox.read_new([box.court, other], "worker-a", 10, 0.1)
    assert sorted(e.court for e in entries) == sorted([box.court, other])


def test_an_unreadable_entry_is_none_not_a_crash() -> None:
    assert QueuedWrite.loads(b"not json") is None
    assert QueuedWrite.loads(b'{"delivery_id": "d-1"}') is None


def test_the_in_memory_queue_belongs_to_its_state_store() -> None:
    """A config reload builds a new pipeline on the same state store: it must find the queued writes."""
    state = MemoryState()
    assert open_outbox(state) is open_outbox(state)
    assert open_outbox(state) is not open_outbox(MemoryState())


async def test_the_pending_listing_shows_the_oldest_writes_with_their_tries_and_nothing_personal(box: Box) -> None:
    writes = [write(box.court, queued_at=1_000.0 + n, operation=f"op.{n}") for n in range(4)]
    for queued in writes:
        await box.outbox.enqueue(queued, [DeliveryRecord.fresh(queued).record()])
    [held] = await box.outbox.read_new([box.court], "worker-a", 1, 0.1)  # the oldest is being delivered
    trying = DeliveryRecord.fresh(writes[0], attempts=3)
    trying.status = "delivering"
    await box.state.set(*trying.record())

    listed = await box.outbox.pending(box.court, 3)
    assert [(p.delivery_id, p.operation, p.status, p.attempts) for p in listed] == [
        (writes[0].delivery_id, "op.0", "delivering", 3),
        (writes[1].delivery_id, "op.1", "queued", 0),
        (writes[2].delivery_id, "op.2", "queued", 0)]
    assert {(p.court, p.channel) for p in listed} == {(box.court, "wechat")}
    assert listed[1].age_s(now=1_061.0) == 60.0 and listed[1].age_s(now=0.0) == 0.0
    shown = repr(listed)
    assert "p_1" not in shown and "民间借贷纠纷" not in shown and "k" * 64 not in shown  # no actor, body or key

    await box.outbox.settle(held, [])
    assert [p.delivery_id for p in await box.outbox.pending(box.court, 10)] == [w.delivery_id for w in writes[1:]]
    assert await box.outbox.pending(box.court, 0) == []
    assert await box.outbox.pending("测" + secrets.token_hex(4)) == []  # a court with nothing queued


async def test_the_pending_listing_is_bounded(box: Box) -> None:
    for _ in range(PENDING_LISTED_MAX + 5):
        await box.outbox.enqueue(write(box.court), [])
    assert len(await box.outbox.pending(box.court, 10_000)) == PENDING_LISTED_MAX
    assert await box.outbox.backlog(box.court) == PENDING_LISTED_MAX + 5
