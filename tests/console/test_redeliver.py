"""The outbox's "deliver again" (the console's 重新投递), on memory and on a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest

from gateway.resilience.outbox import QueuedWrite, delivery_key, open_outbox
from gateway.state import StateStore
from gateway.state.memory import MemoryState
from gateway.state.redis import RedisState
from tests.support.stack import RedisServer

COURT = "粤0106"


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[StateStore]:
    if request.param == "memory":
        yield MemoryState()
        return
    redis_server.flush()
    store = RedisState(redis_server.url)
    yield store
    await store.close()


def write(delivery_id: str) -> QueuedWrite:
    return QueuedWrite(delivery_id=delivery_id, court=COURT, operation="consultations.create", channel="api",
                       actor={"sub": "p_x", "assurance": "L2", "channel": "api"}, args={"court": COURT},
                       court_key="k" * 64, record_key="idem:x", fingerprint="f", request_id="r", queued_at=1.0)


async def test_a_dead_letter_goes_back_on_its_courts_queue_once(state: StateStore) -> None:
    outbox = open_outbox(state)
    await outbox.prepare([COURT])
    await outbox.enqueue(write("d-1"), [])
    [entry] = await outbox.read_new([COURT], "worker-1", 10, 0)
    await outbox.dead_letter(entry, "court answered 500", [])
    assert await outbox.backlog(COURT) == 0
    [letter] = await outbox.dead_letters()
    assert letter["court"] == COURT and letter["letter_id"]

    again = await outbox.redeliver(letter["letter_id"])
    assert again is not None and again.delivery_id == "d-1" and again.court_key == "k" * 64
    assert await outbox.dead_letters() == [] and await outbox.backlog(COURT) == 1
    record = await state.get(delivery_key("d-1"))
    assert record is not None and orjson.loads(record)["status"] == "queued"
    [taken] = await outbox.read_new([COURT], "worker-2", 10, 0)
    assert taken.write == write("d-1")
    # A second press (another operator, a double click) finds nothing and queues nothing.
    assert await outbox.redeliver(letter["letter_id"]) is None
    assert await outbox.redeliver("0-0") is None
    assert await outbox.backlog(COURT) == 1
