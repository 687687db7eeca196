"""The state port's ordered sets and compare-and-set, the same from memory and from Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from gateway.state import Placement, StateStore, open_state
from tests.support.stack import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[StateStore]:
    state = open_state("memory" if request.param == "memory" else redis_server.url)
    try:
        yield state
    finally:
        await state.close()


def _name(prefix: str) -> str:
    return f"{prefix}:{secrets.token_hex(6)}"


async def test_swap_is_compare_and_set_with_placements(store: StateStore) -> None:
    key, queue = _name("rec"), _name("q")
    assert await store.swap(key, None, b"v1", None, [Placement(queue, "a", 10.0)])
    assert not await store.swap(key, None, b"other", None, [Placement(queue, "a", 99.0)])  # exists already
    assert not await store.swap(key, b"stale", b"v2", None, [Placement(queue, "a", 99.0)])
    assert await store.get(key) == b"v1" and await store.ordered(queue, 10) == [("a", 10.0)]
    assert await store.swap(key, b"v1", b"v2", None, [Placement(queue, "a", 20.5), Placement(queue, "b", 5.0)])
    assert await store.ordered(queue, 10) == [("b", 5.0), ("a", 20.5)]
    assert await store.swap(key, b"v2", None, None, [Placement(queue, "a", None)])
    assert await store.get(key) is None and await store.ordered(queue, 10) == [("b", 5.0)]


async def test_swap_sets_an_expiry(store: StateStore) -> None:
    key = _name("rec")
    assert await store.swap(key, None, b"v", 0.15)
    assert await store.get(key) == b"v"
    await asyncio.sleep(0.3)
    assert await store.get(key) is None


async def test_claim_due_leases_each_member_to_one_caller(store: StateStore) -> None:
    queue = _name("q")
    key = _name("rec")
    await store.swap(key, None, b"x", None, [Placement(queue, m, s) for m, s in (("a", 1.0), ("b", 2.0), ("c", 50.0))])
    first = await store.claim_due(queue, 10.0, 30.0, 10)
    assert first == ["a", "b"]
    assert await store.claim_due(queue, 10.0, 30.0, 10) == []  # leased until 40
    assert dict(await store.ordered(queue, 10)) == {"a": 40.0, "b": 40.0, "c": 50.0}
    assert await store.claim_due(queue, 45.0, 30.0, 1) == ["a"]  # the lease ran out: due again, one at a time
    assert await store.ordered(queue, 0) == []


async def test_concurrent_claims_never_share_a_member(store: StateStore) -> None:
    queue = _name("q")
    await store.swap(_name("rec"), None, b"x", None, [Placement(queue, f"m{i}", float(i)) for i in range(200)])
    batches = await asyncio.gather(*(store.claim_due(queue, 1000.0, 60.0, 7) for _ in range(40)))
    claimed = [member for batch in batches for member in batch]
    assert len(claimed) == len(set(claimed)) == 200
