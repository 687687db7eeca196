"""Queued writes end to end through the real pipeline and deliverer, on memory and on Redis state.

The court is a stand-in whose answers each test sets; it deduplicates by Idempotency-Key like a
real court, so "exactly once at the court" is counted from what it stored.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from typing import Any, cast

import orjson
import pytest

from gateway.errors import ErrorCode, GatewayError
from gateway.pipeline import Pipeline
from gateway.resilience.breaker import BreakerSettings, BreakerState
from gateway.resilience.deliverer import DeliverySettings
from gateway.resilience.outbox import Entry, Outbox, delivery_key
from gateway.state import StateStore
from gateway.state.memory import MemoryState
from gateway.state.redis import RedisState
from tests.resilience.harness import (
    CASE_NO,
    COURT,
    call,
    citizen,
    consultation,
    delivering,
    pipeline_for,
    submit,
    until,
)
from tests.resilience.support import Behaviour, stand_in
from tests.support.stack import RedisServer

CREATED = {"consultation_id": "ZX-0001", "status": "RECEIVED"}
FAST = DeliverySettings(block_s=0.1, backoff_base_s=0.05, claim_idle_s=0.5, housekeeping_s=0.2)


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[StateStore]:
    if request.param == "memory":
        yield MemoryState()
        return
    redis_server.flush()  # the court code is the same in every test: start from empty streams
    store = RedisState(redis_server.url)
    yield store
    await store.close()


async def delivery(pipeline: Pipeline, actor: Any, delivery_id: str) -> dict[str, Any]:
    outcome = await pipeline.execute(call("deliveries.get", {"delivery_id": delivery_id}, actor))
    result: dict[str, Any] = outcome.result
    return result


def posts(behaviour: Behaviour) -> list[dict[str, Any]]:
    return [r for r in behaviour.received if r["method"] == "POST"]


async def test_a_write_the_court_cannot_take_is_queued_then_delivered_once_with_the_same_key(
    state: StateStore,
) -> None:
    behaviour = Behaviour(status=503, retry_after="5", body=CREATED)
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport)
        actor = citizen()
        queued = await submit(pipeline, actor, consultation(), "key-1")
        assert (queued.status, queued.queued) == (202, True) and queued.result["status"] == "queued"
        delivery_id = queued.result["delivery_id"]
        replay = await submit(pipeline, actor, consultation(), "key-1")
        assert replay.replayed and replay.queued and replay.result == queued.result
        assert (await delivery(pipeline, actor, delivery_id))["status"] == "queued"
        with pytest.raises(GatewayError) as foreign:  # the delivery id is the citizen's own
            await delivery(pipeline, citizen(), delivery_id)
        assert foreign.value.code is ErrorCode.NOT_FOUND

        behaviour.status = 201
        async with delivering(pipeline, FAST) as running:
            await until(lambda: _status_is(state, delivery_id, "delivered"))
        shown = await delivery(pipeline, actor, delivery_id)
        assert shown == {"delivery_id": delivery_id, "operation": "consultations.create", "court": COURT,
                         "status": "delivered", "attempts": 2, "result": CREATED}
        assert [r.status for r in running.reports] == ["delivered"] and running.reports[0].result == CREATED
        # The court received the write twice, both times with the same key, and stored it once.
        keys = {r["key"] for r in posts(behaviour)}
        assert len(posts(behaviour)) == 2 and len(keys) == 1 and len(behaviour.stored) == 1
        # A replay now answers what the court answered; the created item is the citizen's own.
        after = await submit(pipeline, actor, consultation(), "key-1")
        assert (after.status, after.queued, after.replayed, after.result) == (201, False, True, CREATED)
        assert await pipeline.owner_court("consultation_id", "ZX-0001", actor) == COURT
        assert await pipeline.outbox.backlog(COURT) == 0


async def test_a_refusal_at_delivery_is_final_and_reported(state: StateStore) -> None:
    behaviour = Behaviour(status=503, retry_after="5")
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport)
        actor = citizen()
        delivery_id = (await submit(pipeline, actor, consultation(), "key-2")).result["delivery_id"]
        behaviour.status, behaviour.body = 422, {"code": "DEADLINE_PASSED", "detail": "已超过期限"}
        async with delivering(pipeline, FAST) as running:
            await until(lambda: _status_is(state, delivery_id, "failed"))
        shown = await delivery(pipeline, actor, delivery_id)
        assert shown["error"]["code"] == "DEADLINE_PASSED" and shown["attempts"] == 2 and "result" not in shown
        assert [r.status for r in running.reports] == ["failed"]
        replay = await submit(pipeline, actor, consultation(), "key-2")  # still the queued answer
        assert replay.queued and replay.result["delivery_id"] == delivery_id


async def test_an_entry_a_healthy_court_keeps_failing_goes_to_the_dead_letter_stream(state: StateStore) -> None:
    behaviour = Behaviour(status=500)
    breaker = BreakerSettings(consecutive_failures=1000, min_calls=1000)  # the court stays "healthy"
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport, breaker)
        actor = citizen()
        delivery_id = (await submit(pipeline, actor, consultation(), "key-3")).result["delivery_id"]
        settings = DeliverySettings(block_s=0.1, backoff_base_s=0.02, max_strikes=3)
        async with delivering(pipeline, settings) as running:
            await until(lambda: _status_is(state, delivery_id, "failed"))
        assert pipeline.outbox is not None
        letters = [letter for letter in await pipeline.outbox.dead_letters() if delivery_id in letter["w"]]
        assert len(letters) == 1 and letters[0]["reason"] == "court answered 500"
        shown = await delivery(pipeline, actor, delivery_id)
        assert shown["attempts"] == 4 and shown["error"]["code"] == "BACKEND_UNAVAILABLE"  # 1 at once, 3 queued
        assert [r.status for r in running.reports] == ["failed"]


async def test_a_court_that_is_down_never_sends_entries_to_the_dead_letter_stream(state: StateStore) -> None:
    behaviour = Behaviour(status=503)
    breaker = BreakerSettings(consecutive_failures=2, open_s=0.1, max_open_s=0.2, probe_successes=1)
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport, breaker)
        actor = citizen()
        ids = [(await submit(pipeline, actor, consultation(f"问题{i}"), f"key-4-{i}")).result["delivery_id"]
               for i in range(3)]
        settings = DeliverySettings(block_s=0.05, backoff_base_s=0.02, max_strikes=3)
        async with delivering(pipeline, settings):
            await until(lambda: _attempts_at_least(state, ids[0], 8))  # many probes, while the court is down
            assert {(await _record(state, i))["status"] for i in ids} <= {"queued", "delivering"}
            behaviour.status, behaviour.body = 201, CREATED
            for delivery_id in ids:
                await until(lambda d=delivery_id: _status_is(state, d, "delivered"))  # type: ignore[misc]
        assert pipeline.outbox is not None and await pipeline.outbox.dead_letters() == []


async def test_a_participant_write_waits_for_its_check_and_a_stranger_s_never_reaches_the_court(
    state: StateStore,
) -> None:
    behaviour = Behaviour(status=503, retry_after="5")
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport)
        actor = citizen()
        args = {"case_no": CASE_NO, "text": "请问何时开庭？"}
        queued = await pipeline.execute(call("judge_messages.send", args, actor, "key-5"))
        assert queued.queued and posts(behaviour) == []  # only the access check was tried
        behaviour.status, behaviour.body = 404, {"code": "NOT_FOUND"}  # the court: not a party
        delivery_id = queued.result["delivery_id"]
        async with delivering(pipeline, FAST):
            await until(lambda: _status_is(state, delivery_id, "failed"))
        assert (await delivery(pipeline, actor, delivery_id))["error"]["code"] == "NOT_FOUND"
        assert posts(behaviour) == [] and all(r["path"].endswith("/access") for r in behaviour.received)


async def test_a_worker_that_dies_after_the_courts_commit_is_replaced_and_the_court_dedupes(
    state: StateStore,
) -> None:
    behaviour = Behaviour(status=503, retry_after="5")
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport)
        actor = citizen()
        delivery_id = (await submit(pipeline, actor, consultation(), "key-6")).result["delivery_id"]
        behaviour.status, behaviour.body = 201, CREATED
        assert pipeline.outbox is not None
        real = pipeline.outbox
        pipeline.outbox = cast(Outbox, _DiesBeforeSettling(real))  # worker A: the court commits, then A dies
        async with delivering(pipeline, FAST, consumer="worker-a") as first:
            await until(lambda: _true(len(posts(behaviour)) == 2))
            first.stop.set()
        assert len(behaviour.stored) == 1 and await _status_is(state, delivery_id, "delivering")
        pipeline.outbox = real
        async with delivering(pipeline, FAST, consumer="worker-b") as second:
            await until(lambda: _status_is(state, delivery_id, "delivered"))
        assert [r.status for r in second.reports] == ["delivered"]
        assert len(behaviour.stored) == 1 and len({r["key"] for r in posts(behaviour)}) == 1


async def test_an_open_breaker_answers_reads_at_once_with_retry_after(state: StateStore) -> None:
    behaviour = Behaviour(status=503)
    breaker = BreakerSettings(consecutive_failures=2, open_s=3.0)
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport, breaker)
        actor = citizen()
        for _ in range(2):
            with pytest.raises(GatewayError):
                await pipeline.execute(call("cases.progress", {"case_no": CASE_NO}, actor))
        assert pipeline.resilience is not None
        assert pipeline.resilience.guard(COURT).breaker.state is BreakerState.OPEN
        seen = len(behaviour.received)
        with pytest.raises(GatewayError) as refused:
            await pipeline.execute(call("cases.progress", {"case_no": CASE_NO}, actor))
        assert refused.value.code is ErrorCode.BACKEND_UNAVAILABLE and 1 <= (refused.value.retry_after or 0) <= 3
        assert len(behaviour.received) == seen
        queued = await submit(pipeline, actor, consultation(), "key-7")  # a write is queued, not refused
        assert queued.queued and len(behaviour.received) == seen


async def test_uploads_are_never_queued() -> None:
    from gateway.uploads import SpooledUpload

    behaviour = Behaviour(status=503)
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(MemoryState(), transport)
        actor = citizen()
        with tempfile.TemporaryFile() as spooled:
            spooled.write(b"%PDF-1.7\n%%EOF\n" + b"0" * 8)
            spooled.seek(0)
            upload = call("uploads.create", {"court": COURT}, actor)
            upload.attachment = SpooledUpload(spooled, "证据.pdf", 23, "0" * 64, {}, "application/pdf")
            with pytest.raises(GatewayError) as refused:
                await pipeline.execute(upload)
        assert refused.value.code is ErrorCode.BACKEND_UNAVAILABLE
        assert pipeline.outbox is not None and await pipeline.outbox.backlog(COURT) == 0


# --- helpers -----------------------------------------------------------------------------------------


class _DiesBeforeSettling:
    """An outbox whose worker "dies" between the court's answer and the transaction that settles it."""

    def __init__(self, real: Outbox) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    async def settle(self, entry: Entry, records: Any) -> None:
        raise RuntimeError("killed before settling")


async def _record(state: StateStore, delivery_id: str) -> dict[str, Any]:
    raw = await state.get(delivery_key(delivery_id))
    return orjson.loads(raw) if raw else {}


async def _status_is(state: StateStore, delivery_id: str, status: str) -> bool:
    return (await _record(state, delivery_id)).get("status") == status


async def _attempts_at_least(state: StateStore, delivery_id: str, attempts: int) -> bool:
    return int((await _record(state, delivery_id)).get("attempts", 0)) >= attempts


async def _true(value: bool) -> bool:
    return value


@pytest.mark.parametrize(("timeout_s", "claim_idle_s"), [(5.0, 30.0), (60.0, 100.0), (120.0, 100.0)])
def test_a_live_workers_slow_delivery_is_never_taken_over(timeout_s: float, claim_idle_s: float) -> None:
    from gateway.court_client import CourtTransport, TransportSettings
    from gateway.resilience.deliverer import Deliverer

    transport = CourtTransport("http://127.0.0.1:9", TransportSettings(timeout_s=timeout_s))
    deliverer = Deliverer(pipeline_for(MemoryState(), transport), [COURT])
    # A write's deadline is 1.5 x timeout_s, at most 90 s; taken over only 10 s after it is surely over.
    assert deliverer.claim_idle_s == claim_idle_s
