"""Start-up checks of the Redis that holds queued writes: warnings an operator must see once.

- no AOF: a Redis restart loses queued writes, idempotency records and timers;
- ``maxmemory-policy`` other than ``noeviction``: Redis may drop them to make room;
- an ACL user without a command the gateway sends: that part would fail at request time.

The commands are tried for real on scratch keys (``{probe}:...``, one hash slot),
because only an admin may ask Redis what another user may do. Nothing here stops
the start: a Redis that is down at start-up is the degraded mode, not a config error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio.cluster import RedisCluster

from gateway.logs import get_logger
from gateway.state.base import StateStore, StateUnavailable
from gateway.state.health import REDIS_FAILURES, classify
from gateway.state.redis import RedisState

_log = get_logger("court_gateway.state")

_KEY, _QUEUE, _STREAM = "{probe}:k", "{probe}:z", "{probe}:s"

#: the commands the gateway's ACL user needs (docs/deployment.md gives the whole ACL SETUSER line):
#: connection set-up, the scripts and what they call, the outbox streams, Sentinel and Cluster discovery
ACL_COMMANDS = ("+@connection +select +info +role +command +readonly +asking +cluster|slots +cluster|shards "
                "+cluster|nodes +get +set +mget +del +pexpire +time +eval +evalsha +zadd +zrange +zrangebyscore "
                "+zrem +xadd +xgroup|create +xreadgroup +xautoclaim +xack +xdel +xlen +xrange +multi +exec +discard +wait")
#: the rule to grant the gateway's user: every key and channel, no command beyond those it sends
ACL_RULE = f"on ~* &* -@all {ACL_COMMANDS}"

#: one call of each command the gateway sends, on scratch keys (see docs/deployment.md, ACL rule)
NEEDED: Sequence[tuple[Any, ...]] = (
    ("SET", _KEY, "1", "PX", 10_000), ("GET", _KEY), ("MGET", _KEY), ("PEXPIRE", _KEY, 10_000),
    ("EVAL", "return redis.call('TIME')[1]", 1, _KEY), ("ZADD", _QUEUE, 1, "m"), ("ZRANGE", _QUEUE, 0, 0),
    ("ZRANGEBYSCORE", _QUEUE, "-inf", "+inf"), ("ZREM", _QUEUE, "m"),
    ("XADD", _STREAM, "MAXLEN", 1, "*", "f", "v"), ("XGROUP", "CREATE", _STREAM, "g", "$", "MKSTREAM"),
    ("XREADGROUP", "GROUP", "g", "c", "COUNT", 1, "STREAMS", _STREAM, ">"),
    ("XAUTOCLAIM", _STREAM, "g", "c", 60_000, "0-0", "COUNT", 1), ("XACK", _STREAM, "g", "0-1"),
    ("XDEL", _STREAM, "0-1"), ("XLEN", _STREAM), ("XRANGE", _STREAM, "-", "+", "COUNT", 1),
    ("DEL", _KEY, _QUEUE, _STREAM),
)


async def check_state(state: StateStore) -> list[str]:
    """Log (and return) what is wrong with the Redis behind ``state``; nothing for the memory store."""
    if not isinstance(state, RedisState):
        return []
    try:
        problems = await _persistence_problems(state) + await _missing_commands(state)
    except StateUnavailable as exc:
        _log.warning("state store not reachable at start-up: checks skipped, serving degraded", reason=str(exc))
        return []
    for problem in problems:
        _log.warning("state store check", problem=problem)
    return problems


async def _persistence_problems(state: RedisState) -> list[str]:
    infos = await _infos(state)
    if infos is None:
        return ["cannot read INFO (the ACL user lacks +info): AOF and eviction policy not checked"]
    problems = []
    if any(str(info.get("aof_enabled", "0")) != "1" for info in infos):
        problems.append("appendonly is off: queued writes, idempotency records and SLA timers are lost "
                        "when Redis restarts; set appendonly yes (docs/deployment.md)")
    policies = {str(info.get("maxmemory_policy", "")) for info in infos}
    if policies - {"noeviction"}:
        problems.append(f"maxmemory-policy is {', '.join(sorted(policies))}: Redis may evict queued writes; "
                        "set maxmemory-policy noeviction")
    return problems


async def _infos(state: RedisState) -> list[dict[str, Any]] | None:
    client = state.client

    async def read() -> list[dict[str, Any]]:
        if isinstance(client, RedisCluster):
            answer = await client.info("persistence", "memory", target_nodes=RedisCluster.PRIMARIES)
            return [dict(info) for info in answer.values()] if isinstance(answer, dict) and \
                all(isinstance(v, dict) for v in answer.values()) else [dict(answer)]
        return [dict(await client.info("persistence", "memory"))]

    try:
        return await state.call(read)
    except StateUnavailable as exc:
        if str(exc) == "acl_denied":
            return None
        raise


async def _missing_commands(state: RedisState) -> list[str]:
    missing = []
    for command in NEEDED:
        try:
            await state.client.execute_command(*command)
        except REDIS_FAILURES as exc:
            reason = classify(exc)
            if reason == "acl_denied":
                missing.append(str(command[0]).lower())
            elif reason not in ("refused",):
                raise StateUnavailable(state.health.failed(exc)) from None
    if not missing:
        return []
    return [f"the ACL user may not run {', '.join(missing)}: grant the rule in docs/deployment.md"]
