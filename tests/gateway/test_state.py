"""The state port: the same behaviour from the in-memory and the Redis implementation."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from gateway.state import RateCheck, StateStore, StateUnavailable, open_state
from gateway.state.redis import RedisState
from tests.support.stack import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[StateStore]:
    state = open_state("memory" if request.param == "memory" else redis_server.url)
    try:
        yield state
    finally:
        await state.close()


def _key() -> str:
    return "t:" + secrets.token_hex(6)


async def test_set_get_delete_and_claims(store: StateStore) -> None:
    key = _key()
    assert await store.get(key) is None
    assert await store.set(key, b"v1", 30, only_if_absent=True)
    assert not await store.set(key, b"v2", 30, only_if_absent=True)
    assert await store.get(key) == b"v1"
    assert await store.get_many([key, _key()]) == [b"v1", None]
    assert await store.delete(key) == 1
    assert await store.get(key) is None


async def test_expiry(store: StateStore) -> None:
    key = _key()
    await store.set(key, b"x", 0.15)
    await asyncio.sleep(0.3)
    assert await store.get(key) is None


async def test_gcra_allows_a_burst_then_refuses_with_retry_after(store: StateStore) -> None:
    check = RateCheck(_key(), 5, 60)
    decisions = [(await store.hot_path([check], [])).rate for _ in range(6)]
    assert [d.allowed for d in decisions if d] == [True] * 5 + [False]
    assert decisions[4] is not None and decisions[4].remaining == 0
    refused = decisions[5]
    assert refused is not None and 0 < refused.retry_after_s <= 12.1


async def test_a_refused_check_consumes_nothing_from_the_others(store: StateStore) -> None:
    tight, loose = RateCheck(_key(), 1, 60), RateCheck(_key(), 100, 60)
    assert (await store.hot_path([tight, loose], [])).rate.allowed  # type: ignore[union-attr]
    for _ in range(3):
        assert not (await store.hot_path([tight, loose], [])).rate.allowed  # type: ignore[union-attr]
    alone = (await store.hot_path([loose], [])).rate
    assert alone is not None and alone.remaining == 98  # one use before, this one now


async def test_hot_path_fetches_and_touches_in_one_call(store: StateStore) -> None:
    session, cache = _key(), _key()
    await store.set(session, b"actor", 0.3)
    await store.set(cache, b"1", 30)
    answer = await store.hot_path([], [session, cache, _key()], [(session, 30)])
    assert answer.values == [b"actor", b"1", None]
    await asyncio.sleep(0.45)
    assert await store.get(session) == b"actor"  # the touch extended the idle timeout


async def test_redis_down_raises_state_unavailable() -> None:
    from tests.support.stack import free_port

    state = RedisState(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StateUnavailable):
        await state.get("x")
    with pytest.raises(StateUnavailable):
        await state.hot_path([RateCheck("k", 1, 1)], [])
    assert not await state.ping()
    await state.close()
