"""Start-up checks: a Redis that would lose queued writes, or an ACL user short of a command, is named."""

from __future__ import annotations

import pytest

from gateway.state import StateSettings, open_state
from gateway.state.checks import ACL_COMMANDS, ACL_RULE, check_state
from gateway.state.redis import RedisState
from tests.support.redis_servers import RedisServer


async def problems_of(server: RedisServer, username: str | None = None, password: str | None = None) -> list[str]:
    server.start()
    state = RedisState(StateSettings(server.url, username=username, password=password))
    try:
        return await check_state(state)
    finally:
        await state.close()
        server.stop()


async def test_a_durable_noeviction_redis_passes() -> None:
    assert await problems_of(RedisServer(durable=True)) == []


async def test_no_aof_and_an_eviction_policy_are_named() -> None:
    problems = await problems_of(RedisServer(args=["--maxmemory-policy", "allkeys-lru"]))
    assert len(problems) == 2
    assert "appendonly is off" in problems[0] and "allkeys-lru" in problems[1]


async def test_the_documented_acl_rule_is_enough() -> None:
    server = RedisServer(durable=True, acl=[f"user gateway {ACL_RULE} >pw-1"])
    assert await problems_of(server, username="gateway", password="pw-1") == []


async def test_a_missing_command_is_named() -> None:
    server = RedisServer(durable=True, acl=[f"user gateway {ACL_RULE} -xautoclaim -info >pw-2"])
    problems = await problems_of(server, username="gateway", password="pw-2")
    assert "lacks +info" in problems[0] and "xautoclaim" in problems[1] and "info" not in problems[1]


@pytest.mark.parametrize("url", ["memory"])
async def test_nothing_to_check_in_memory(url: str) -> None:
    assert await check_state(open_state(url)) == []


async def test_a_redis_down_at_start_up_is_the_degraded_mode_not_an_error() -> None:
    server = RedisServer()
    state = RedisState(StateSettings(server.url))  # never started
    try:
        assert await check_state(state) == []
        assert state.degraded
    finally:
        await state.close()
        server.stop()


def test_the_deployment_guide_gives_the_same_acl_rule() -> None:
    from pathlib import Path

    guide = (Path(__file__).parents[2] / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert f"ACL SETUSER gateway on >PASSWORD ~* &* -@all {ACL_COMMANDS}\n" in guide
