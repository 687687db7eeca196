"""Commands of one event-loop turn share one pipeline; each caller still gets its own reply or error."""

from __future__ import annotations

import asyncio

import pytest

from gateway.state import RateCheck, StateSettings, StateUnavailable
from gateway.state.redis import RedisState
from tests.support.redis_servers import RedisServer


async def test_fifty_requests_in_one_turn_share_a_connection_and_keep_their_own_answers() -> None:
    server = RedisServer()
    server.start()
    state = RedisState(StateSettings(server.url))
    try:
        await state.set("not-a-counter", b"x", 30)
        reads = [state.get(f"k{i}") for i in range(25)]
        writes = [state.set(f"k{i}", str(i).encode(), 30) for i in range(25, 50)]
        broken = state.hot_path([RateCheck("not-a-counter", 1, 1)], [])  # the script fails on this key
        answers = await asyncio.gather(*reads, *writes, broken, return_exceptions=True)
        assert answers[:25] == [None] * 25 and answers[25:50] == [True] * 25
        assert isinstance(answers[50], StateUnavailable) and str(answers[50]) == "refused"
        assert await state.get_many([f"k{i}" for i in (25, 49)]) == [b"25", b"49"]
        with server.admin() as admin:
            gateway_connections = [c for c in admin.client_list() if c["cmd"] not in ("client|list", "client")]
        assert len(gateway_connections) == 1  # one pipeline, not fifty connections
    finally:
        await state.close()
        server.stop()


@pytest.mark.parametrize("count", [1, 3])
async def test_a_script_not_yet_loaded_is_sent_in_full_once(count: int) -> None:
    server = RedisServer()
    server.start()
    state = RedisState(StateSettings(server.url))
    try:
        checks = [RateCheck(f"rl:{i}", 5, 60) for i in range(count)]
        answers = await asyncio.gather(*(state.hot_path([check], []) for check in checks))
        assert all(a.rate is not None and a.rate.allowed for a in answers)
    finally:
        await state.close()
        server.stop()
