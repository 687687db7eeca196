"""Redis state: one Lua script per hot-path request, plain commands elsewhere.

One redis-py client (hiredis parser) per process carries every command, built
from ``gateway.state*`` by :mod:`gateway.state.connection` for one server,
Sentinel or Cluster. Every command reports to :class:`StateHealth`, so health
is what the serving connections see; while Redis is down, commands fail at
once (no waiting on a hung server) until the background probe finds it again.

On a cluster, keys carry the hash tags of :mod:`gateway.state.layout`; the hot
path runs one script per hash slot it touches, all at once: usually one, the
actor's, because the channel's counter is taken in blocks (:mod:`gateway.state.leases`).

Durable records (idempotency, outbox, SLA timers) need Redis with AOF
persistence and ``maxmemory-policy noeviction``; see docs/deployment.md.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.crc import key_slot
from redis.exceptions import NoScriptError

from gateway.logs import get_logger
from gateway.state.base import (
    HotPath,
    Placement,
    RateCheck,
    RateDecision,
    StateStore,
    StateUnavailable,
    ceil_ms,
    tightest,
)
from gateway.state.batching import CommandBatcher
from gateway.state.connection import Client, StateSettings, build_client
from gateway.state.health import REDIS_FAILURES, StateHealth
from gateway.state.layout import hash_tag
from gateway.state.leases import Leases, lease_size

T = TypeVar("T")
_log = get_logger("court_gateway.state")

#: how often the primary is asked of the sentinels (a failover is followed within this time)
FOLLOW_EVERY_S = 0.5
#: written by the health probe: a write, so a read-only replica is not taken for a primary
PROBE_KEY = "probe:state"

# KEYS: rate keys..., fetch keys..., touch keys...
# ARGV: n_rate, n_fetch, n_touch, then (count, period_ms, want) per rate key, then ttl_ms per touch key.
# GCRA on Redis's own clock so every instance agrees; nothing is consumed unless every check passes.
# ``want`` is the tokens asked (1, or a lease block: gateway/state/leases.py); up to that many are
# taken, so a block near the limit is what is left. Each rate row: allowed, limit, remaining,
# reset_ms, retry_ms, taken.
_HOT_PATH = """
local n_rate, n_fetch, n_touch = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = {}
local all_ok = 1
local new_tats = {}
for i = 1, n_rate do
  local count = tonumber(ARGV[3 + 3 * i - 2])
  local period = tonumber(ARGV[3 + 3 * i - 1])
  local want = tonumber(ARGV[3 + 3 * i])
  local interval = period / count
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local free = math.floor((period - (tat - now)) / interval)
  local take = math.min(want, free)
  if take < 1 then
    all_ok = 0
    rate[#rate + 1] = {0, count, math.max(0, free), tat - now, tat + interval - now - period, 0}
    new_tats[i] = {tat, period}
  else
    local new_tat = tat + take * interval
    rate[#rate + 1] = {1, count, math.floor((period - (new_tat - now)) / interval), new_tat - now, 0, take}
    new_tats[i] = {new_tat, period}
  end
end
if all_ok == 1 then
  for i = 1, n_rate do
    redis.call('SET', KEYS[i], tostring(new_tats[i][1]), 'PX', math.ceil(new_tats[i][2]))
  end
end
local values = {}
for i = 1, n_fetch do
  values[i] = redis.call('GET', KEYS[n_rate + i]) or false
end
local argv_touch = 3 + 3 * n_rate
for i = 1, n_touch do
  redis.call('PEXPIRE', KEYS[n_rate + n_fetch + i], tonumber(ARGV[argv_touch + i]), 'XX')
end
local rate_flat = {}
for i = 1, #rate do
  for j = 1, 6 do rate_flat[#rate_flat + 1] = tostring(rate[i][j]) end
end
return {rate_flat, values}
"""

# KEYS: the record, then one ordered set per placement.
# ARGV: has_expected, expected, has_value, value, ttl_ms (0 = none), then (member, score or "") per placement.
# Scores come from the caller's clock (Unix seconds), like every time the timers compare against.
_SWAP = """
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[3] == '1' then
  if tonumber(ARGV[5]) > 0 then
    redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
  else
    redis.call('SET', KEYS[1], ARGV[4])
  end
else
  redis.call('DEL', KEYS[1])
end
for i = 2, #KEYS do
  local member, score = ARGV[6 + (i - 2) * 2], ARGV[7 + (i - 2) * 2]
  if score == '' then
    redis.call('ZREM', KEYS[i], member)
  else
    redis.call('ZADD', KEYS[i], score, member)
  end
end
return 1
"""

# KEYS: the queue. ARGV: now, lease_until, limit. Due members move to lease_until in the same step.
_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[2], member)
end
return due
"""


class LuaScript:
    """A script sent by SHA; the source goes along once per server that has not seen it (NOSCRIPT)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def run(self, send: Callable[..., Awaitable[Any]], keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await send("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await send("EVAL", self.source, len(keys), *keys, *args)


HOT_PATH = LuaScript(_HOT_PATH)
SWAP = LuaScript(_SWAP)
CLAIM_DUE = LuaScript(_CLAIM_DUE)


class RedisState(StateStore):
    def __init__(self, settings: StateSettings | str, password: str | None = None, *,
                 leases: Leases | None = None) -> None:
        self.settings = settings if isinstance(settings, StateSettings) else StateSettings(settings, password=password)
        self.url = self.settings.url
        self._redis = build_client(self.settings)
        self._cluster = isinstance(self._redis, RedisCluster)
        #: per-request commands of one loop turn share a pipeline (per node, on a cluster)
        self._batcher = CommandBatcher(self._redis)
        #: blocks of shared limiters' tokens this process holds (cluster only: gateway/state/leases.py)
        self._leases = leases or Leases()
        self._send: Callable[..., Awaitable[Any]] = self._batcher.send
        self.health = StateHealth(self.settings.topology, self._probe)
        #: with Sentinel, a task that asks the sentinels for the primary (see _follow_primary)
        self._follower: asyncio.Task[None] | None = None
        self._follows = self.settings.topology == "sentinel"

    @property
    def client(self) -> Client:
        """The process's one client, for modules that need streams (the outbox); use :meth:`call`."""
        return self._redis

    @property
    def cluster(self) -> bool:
        return self._cluster

    @property
    def replicated(self) -> bool:
        """Sentinel: durable writes wait for a replica (gateway/resilience/outbox.py)."""
        return self._follows

    @property
    def degraded(self) -> bool:  # type: ignore[override]
        return not self.health.up

    async def call(self, command: Callable[[], Awaitable[T]]) -> T:
        """Run one client call under the health rules: fail at once while Redis is down, report
        every outcome, and turn every failure into :class:`StateUnavailable` naming its reason."""
        if not self.health.up:
            raise StateUnavailable(self.health.reason or "down")
        if self._follows and self._follower is None:
            self._follower = asyncio.get_running_loop().create_task(self._follow_primary())
        try:
            result = await command()
        except REDIS_FAILURES as exc:
            raise StateUnavailable(self.health.failed(exc)) from None
        self.health.succeeded()
        return result

    async def _command(self, *args: Any) -> Any:
        return await self.call(lambda: self._send(*args))

    async def _script(self, script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return await self.call(lambda: script.run(self._send, keys, args))

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await self._command("GET", key)
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        if self._cluster:
            cluster = self._redis
            assert isinstance(cluster, RedisCluster)
            values: list[bytes | None] = await self.call(lambda: cluster.mget_nonatomic(list(keys)))
            return values
        values = await self._command("MGET", *keys)
        return values

    async def set(self, key: str, value: bytes, ttl_s: float | None = None, *, only_if_absent: bool = False) -> bool:
        args: list[Any] = ["SET", key, value]
        if ttl_s:
            args += ["PX", ceil_ms(ttl_s)]
        if only_if_absent:
            args.append("NX")
        return await self._command(*args) is not None

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        # redis-py splits a multi-key DEL by hash slot on a cluster.
        return int(await self.call(lambda: self._redis.delete(*keys)))

    async def hot_path(
        self, checks: Sequence[RateCheck], fetch: Sequence[str], touch: Sequence[tuple[str, float]] = ()
    ) -> HotPath:
        if not self._cluster:
            rate_flat, values = await self._script(HOT_PATH, *_hot_path_call(checks, fetch, touch))
            return HotPath(tightest([d for d, _ in _decisions(rate_flat)]), [v if v else None for v in values])
        return await self._hot_path_by_slot(checks, fetch, touch)

    async def _hot_path_by_slot(
        self, checks: Sequence[RateCheck], fetch: Sequence[str], touch: Sequence[tuple[str, float]]
    ) -> HotPath:
        """One script per hash slot, sent at once; results put back in the order asked. Each slot's
        limiters consume only if all of that slot's checks pass (docs/deployment.md, Cluster). A
        shared limiter with a live lease is answered here and sends nothing (gateway/state/leases.py)."""
        decisions: list[RateDecision] = []
        slots: dict[int, tuple[list[RateCheck], list[int], list[tuple[str, float]]]] = {}
        for check in checks:
            if _leasable(check) and (leased := self._leases.spend(check)) is not None:
                decisions.append(leased)
            else:
                slots.setdefault(key_slot(check.key.encode()), ([], [], []))[0].append(check)
        for index, key in enumerate(fetch):
            slots.setdefault(key_slot(key.encode()), ([], [], []))[1].append(index)
        for key, ttl in touch:
            slots.setdefault(key_slot(key.encode()), ([], [], []))[2].append((key, ttl))
        groups = list(slots.values())
        answers = await asyncio.gather(*(
            self._script(HOT_PATH, *_hot_path_call(group_checks, [fetch[i] for i in indexes], group_touch,
                                                   [_want(check) for check in group_checks]))
            for group_checks, indexes, group_touch in groups))
        values: list[bytes | None] = [None] * len(fetch)
        for (group_checks, indexes, _), (rate_flat, fetched) in zip(groups, answers, strict=True):
            for check, (decision, taken) in zip(group_checks, _decisions(rate_flat), strict=True):
                if _leasable(check):
                    self._leases.keep(check, taken, decision)
                decisions.append(decision)
            for index, value in zip(indexes, fetched, strict=True):
                values[index] = value or None
        return HotPath(tightest(decisions), values)

    async def swap(self, key: str, expected: bytes | None, value: bytes | None, ttl_s: float | None = None,
                   placements: Sequence[Placement] = ()) -> bool:
        args: list[bytes | str | int] = [
            "1" if expected is not None else "0", expected or b"",
            "1" if value is not None else "0", value or b"",
            ceil_ms(ttl_s) if ttl_s else 0,
        ]
        for place in placements:
            args += [place.member, "" if place.score is None else repr(place.score)]
        done = await self._script(SWAP, [key, *(p.queue for p in placements)], args)
        return bool(done)

    async def claim_due(self, queue: str, now: float, lease_s: float, limit: int) -> list[str]:
        due = await self._script(CLAIM_DUE, [queue], [repr(now), repr(now + lease_s), limit])
        return [member.decode() for member in due]

    async def ordered(self, queue: str, limit: int) -> list[tuple[str, float]]:
        if limit <= 0:
            return []  # ZRANGE 0 -1 would mean "everything"
        items: Any = await self._command("ZRANGE", queue, 0, limit - 1, "WITHSCORES")
        pairs = zip(items[::2], items[1::2], strict=True) if items and not isinstance(items[0], list | tuple) \
            else items
        return [(member.decode(), float(score)) for member, score in pairs]

    async def _follow_primary(self) -> None:
        """Ask the sentinels for the primary every FOLLOW_EVERY_S. redis-py looks the primary up
        only when it opens a connection, so after a failover the pooled connections would go on
        writing to the old primary until it is demoted (Sentinel takes up to 10 s to tell it):
        writes that its demotion throws away. When the answer changes, the pool closes its idle
        connections at once and the busy ones when they come back."""
        pool = self._sentinel_pool()
        while True:
            await asyncio.sleep(FOLLOW_EVERY_S)
            before = pool.master_address
            try:
                after = await pool.get_master_address()  # type: ignore[no-untyped-call]
                if before is not None and after != before:
                    await pool.update_active_connections_for_reconnect()  # type: ignore[no-untyped-call]
                    _log.warning("state store primary changed (Sentinel failover): following it")
            except REDIS_FAILURES as exc:
                self.health.failed(exc)

    def _sentinel_pool(self) -> SentinelConnectionPool:
        assert not isinstance(self._redis, RedisCluster)
        pool = self._redis.connection_pool
        assert isinstance(pool, SentinelConnectionPool)
        return pool

    async def connection(self) -> Connection:
        """A pooled connection of the one-server client, connected (for a caller that must know
        which server its commands went to); the pipeline given it releases it."""
        assert not isinstance(self._redis, RedisCluster)
        connection: Connection = await self._redis.connection_pool.get_connection()  # type: ignore[no-untyped-call]
        return connection

    async def names_primary(self, server: tuple[str, int]) -> bool:
        """Whether every sentinel that answers names ``server`` (host, port) as the primary, with
        no failover in progress: the one case where a write no replica has seen is kept."""
        pool = self._sentinel_pool()
        answered = False
        for sentinel in pool.sentinel_manager.sentinels:
            try:
                primary = await sentinel.sentinel_master(pool.service_name)
            except REDIS_FAILURES:
                continue
            answered = True
            named = (str(primary.get("ip")), int(primary.get("port", 0)))
            if named != (server[0], int(server[1])) or "failover" in str(primary.get("flags", "")):
                return False
        return answered

    async def _probe(self) -> None:
        await self._redis.execute_command("SET", PROBE_KEY, b"1", "PX", 10_000)

    @property
    def problem(self) -> str | None:
        return None if self.health.up else self.health.reason

    async def ping(self) -> bool:
        """Whether Redis takes a write now, asked on the serving client; no waiting while it is down."""
        if not self.health.up:
            return False
        try:
            await self.call(self._probe)
        except StateUnavailable:
            return False
        return True

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)
        await self.health.close()
        await self._batcher.close()
        await self._redis.aclose()


def _hot_path_call(checks: Sequence[RateCheck], fetch: Sequence[str], touch: Sequence[tuple[str, float]],
                   wants: Sequence[int] = ()) -> tuple[list[str], list[int | float]]:
    keys = [c.key for c in checks] + list(fetch) + [k for k, _ in touch]
    args: list[int | float] = [len(checks), len(fetch), len(touch)]
    for index, check in enumerate(checks):
        args += [check.count, check.period_s * 1000, wants[index] if wants else 1]
    args += [ceil_ms(ttl) for _, ttl in touch]
    return keys, args


def _leasable(check: RateCheck) -> bool:
    """A limiter shared by every actor (no hash tag): on a cluster it lives in a slot of its own."""
    return hash_tag(check.key) == check.key


def _want(check: RateCheck) -> int:
    return lease_size(check) if _leasable(check) else 1


def _decisions(rate_flat: Sequence[bytes]) -> list[tuple[RateDecision, int]]:
    """Each limiter's decision and the tokens the script took for it."""
    return [
        (RateDecision(
            allowed=rate_flat[i] == b"1",
            limit=int(rate_flat[i + 1]),
            remaining=int(float(rate_flat[i + 2])),
            reset_s=float(rate_flat[i + 3]) / 1000,
            retry_after_s=float(rate_flat[i + 4]) / 1000,
        ), int(float(rate_flat[i + 5])))
        for i in range(0, len(rate_flat), 6)
    ]
