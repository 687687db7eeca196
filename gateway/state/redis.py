"""Redis state: one Lua script per hot-path request, plain commands elsewhere.

The per-request commands (the hot-path script, gets, claims) go over one
pipelined connection (:mod:`gateway.state.resp`); redis-py serves the rest.

Durable records (idempotency, outbox, SLA timers) need Redis with AOF
persistence and ``maxmemory-policy noeviction``; see docs/deployment.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

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
from gateway.state.resp import RedisReplyError, RespConnection

# KEYS: rate keys..., fetch keys..., touch keys...
# ARGV: n_rate, n_fetch, n_touch, then (count, period_ms) per rate key, then ttl_ms per touch key.
# GCRA on Redis's own clock so every instance agrees; nothing is consumed unless every check passes.
_HOT_PATH = """
local n_rate, n_fetch, n_touch = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = {}
local all_ok = 1
local new_tats = {}
for i = 1, n_rate do
  local count = tonumber(ARGV[3 + 2 * i - 1])
  local period = tonumber(ARGV[3 + 2 * i])
  local interval = period / count
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local wait = new_tat - now - period
  if wait > 0 then
    all_ok = 0
    rate[#rate + 1] = {0, count, math.floor(math.max(0, period - (tat - now)) / interval), tat - now, wait}
  else
    rate[#rate + 1] = {1, count, math.floor((period - (new_tat - now)) / interval), new_tat - now, 0}
  end
  new_tats[i] = {new_tat, period}
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
local argv_touch = 3 + 2 * n_rate
for i = 1, n_touch do
  redis.call('PEXPIRE', KEYS[n_rate + n_fetch + i], tonumber(ARGV[argv_touch + i]), 'XX')
end
local rate_flat = {}
for i = 1, #rate do
  for j = 1, 5 do rate_flat[#rate_flat + 1] = tostring(rate[i][j]) end
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


class RedisState(StateStore):
    def __init__(self, url: str, password: str | None = None) -> None:
        self.url = url
        self._redis = aioredis.Redis.from_url(
            url, password=password, socket_connect_timeout=1.0, socket_timeout=2.0, health_check_interval=30,
            max_connections=256,
        )
        self._hot = self._redis.register_script(_HOT_PATH)
        self._resp = RespConnection(url, password)
        self._swap = self._redis.register_script(_SWAP)
        self._claim_due = self._redis.register_script(_CLAIM_DUE)

    @property
    def client(self) -> aioredis.Redis:
        """The raw client, for modules that need streams or sorted sets (outbox, timers)."""
        return self._redis

    async def _call(self, *args: Any) -> Any:
        try:
            return await self._resp.call(*args)
        except RedisReplyError as exc:
            raise StateUnavailable(f"redis refused: {str(exc)[:60]}") from None

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await self._call("GET", key)
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        values: list[bytes | None] = await self._call("MGET", *keys)
        return values

    async def set(self, key: str, value: bytes, ttl_s: float | None = None, *, only_if_absent: bool = False) -> bool:
        args: list[Any] = ["SET", key, value]
        if ttl_s:
            args += ["PX", ceil_ms(ttl_s)]
        if only_if_absent:
            args.append("NX")
        return await self._call(*args) is not None

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self._call("DEL", *keys))

    async def hot_path(
        self, checks: Sequence[RateCheck], fetch: Sequence[str], touch: Sequence[tuple[str, float]] = ()
    ) -> HotPath:
        keys = [c.key for c in checks] + list(fetch) + [k for k, _ in touch]
        args: list[int | float] = [len(checks), len(fetch), len(touch)]
        for check in checks:
            args += [check.count, check.period_s * 1000]
        args += [ceil_ms(ttl) for _, ttl in touch]
        rate_flat, values = await self._run_hot(keys, args)
        decisions = [
            RateDecision(
                allowed=rate_flat[i] == b"1",
                limit=int(rate_flat[i + 1]),
                remaining=int(float(rate_flat[i + 2])),
                reset_s=float(rate_flat[i + 3]) / 1000,
                retry_after_s=float(rate_flat[i + 4]) / 1000,
            )
            for i in range(0, len(rate_flat), 5)
        ]
        return HotPath(tightest(decisions), [v if v else None for v in values])

    async def _run_hot(self, keys: list[str], args: list[int | float]) -> Any:
        """EVALSHA over the pipelined connection; the script is loaded once per Redis (NOSCRIPT)."""
        command = ("EVALSHA", self._hot.sha, len(keys), *keys, *args)
        try:
            return await self._resp.call(*command)
        except RedisReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise StateUnavailable(f"redis refused: {str(exc)[:60]}") from None
        await self._call("SCRIPT", "LOAD", _HOT_PATH)
        return await self._call(*command)

    async def swap(self, key: str, expected: bytes | None, value: bytes | None, ttl_s: float | None = None,
                   placements: Sequence[Placement] = ()) -> bool:
        args: list[bytes | str | int] = [
            "1" if expected is not None else "0", expected or b"",
            "1" if value is not None else "0", value or b"",
            ceil_ms(ttl_s) if ttl_s else 0,
        ]
        for place in placements:
            args += [place.member, "" if place.score is None else repr(place.score)]
        try:
            done = await self._swap(keys=[key, *(p.queue for p in placements)], args=args)
        except (RedisError, OSError) as exc:
            raise StateUnavailable(str(type(exc).__name__)) from exc
        return bool(done)

    async def claim_due(self, queue: str, now: float, lease_s: float, limit: int) -> list[str]:
        try:
            due = await self._claim_due(keys=[queue], args=[repr(now), repr(now + lease_s), limit])
        except (RedisError, OSError) as exc:
            raise StateUnavailable(str(type(exc).__name__)) from exc
        return [member.decode() for member in due]

    async def ordered(self, queue: str, limit: int) -> list[tuple[str, float]]:
        if limit <= 0:
            return []  # ZRANGE 0 -1 would mean "everything"
        try:
            items: Any = await self._redis.zrange(queue, 0, limit - 1, withscores=True)
        except (RedisError, OSError) as exc:
            raise StateUnavailable(str(type(exc).__name__)) from exc
        return [(member.decode(), float(score)) for member, score in items]

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._resp.close()
        await self._redis.aclose()
