"""The state port's interface and shared value types."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.state.connection import StateSettings


class StateUnavailable(Exception):
    """The state store cannot be reached; callers decide whether to degrade or refuse."""


@dataclass(frozen=True)
class RateCheck:
    """One GCRA limiter: ``count`` requests per ``period_s``, bursts up to ``count``."""

    key: str
    count: int
    period_s: float


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: float  # seconds until the limiter is full again
    retry_after_s: float  # 0 when allowed


@dataclass(frozen=True)
class Placement:
    """Where ``member`` stands in the ordered set ``queue``: at ``score``, or taken out when None.

    Ordered sets hold work due at a time (scores are Unix seconds) and indexes in a fixed order.
    """

    queue: str
    member: str
    score: float | None


@dataclass(frozen=True)
class HotPath:
    rate: RateDecision | None  # the tightest limiter, None when no checks were asked
    values: list[bytes | None]


def gcra(tat: float | None, now: float, check: RateCheck) -> tuple[float, RateDecision]:
    """Generic cell rate algorithm, the same arithmetic as the Redis script.

    Returns the new theoretical arrival time (to store only if every check passed).
    """
    interval = check.period_s / check.count
    new_tat = max(tat or now, now) + interval
    wait = new_tat - now - check.period_s
    if wait > 0:
        remaining_cap = max(0.0, check.period_s - ((tat or now) - now))
        return tat or now, RateDecision(False, check.count, int(remaining_cap // interval), (tat or now) - now, wait)
    remaining = int((check.period_s - (new_tat - now)) // interval)
    return new_tat, RateDecision(True, check.count, remaining, new_tat - now, 0.0)


def tightest(decisions: Sequence[RateDecision]) -> RateDecision | None:
    if not decisions:
        return None
    denied = [d for d in decisions if not d.allowed]
    if denied:
        return max(denied, key=lambda d: d.retry_after_s)
    return min(decisions, key=lambda d: d.remaining)


class RateTable:
    """GCRA limiters kept in this process: the in-memory state store's, and the per-process
    fallback when Redis is unreachable. Bounded: the least recently used limiter goes first."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._tat: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tat, expires_at)
        self._max_keys = max_keys

    def check(self, checks: Sequence[RateCheck], now: float) -> RateDecision | None:
        """Run every check, consuming only if all pass (like the hot-path script)."""
        results = []
        for check in checks:
            stored = self._tat.get(check.key)
            tat = stored[0] if stored and stored[1] > now else None
            results.append((check, gcra(tat, now, check)))
        decisions = [decision for _, (_, decision) in results]
        if all(d.allowed for d in decisions):
            for check, (new_tat, _) in results:
                self._tat[check.key] = (new_tat, now + check.period_s)
                self._tat.move_to_end(check.key)
            while len(self._tat) > self._max_keys:
                self._tat.popitem(last=False)
        return tightest(decisions)

    def sweep(self, now: float) -> None:
        for key in [k for k, (_, expires_at) in self._tat.items() if expires_at <= now]:
            del self._tat[key]

    def __len__(self) -> int:
        return len(self._tat)


class StateStore(ABC):
    """Shared key/value state with expiry, plus the hot-path batch."""

    degraded: bool = False

    @abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    @abstractmethod
    async def set(self, key: str, value: bytes, ttl_s: float | None = None, *, only_if_absent: bool = False) -> bool:
        """Store ``value``; with ``only_if_absent`` it is a claim and returns False if the key exists."""

    @abstractmethod
    async def delete(self, *keys: str) -> int: ...

    @abstractmethod
    async def hot_path(
        self, checks: Sequence[RateCheck], fetch: Sequence[str], touch: Sequence[tuple[str, float]] = ()
    ) -> HotPath:
        """In one round trip: run every rate check (consuming only if all pass), read ``fetch``,
        and extend the expiry of each existing key in ``touch`` (idle timeouts)."""

    @abstractmethod
    async def swap(self, key: str, expected: bytes | None, value: bytes | None, ttl_s: float | None = None,
                   placements: Sequence[Placement] = ()) -> bool:
        """Compare and set, atomically: if ``key`` holds ``expected`` (None: the key is absent), store
        ``value`` (None deletes the key) and apply ``placements``; otherwise change nothing and return False.

        A record and its places in ordered sets change together, so a schedule can never disagree
        with the record it was derived from, whichever instance wrote last.
        """

    @abstractmethod
    async def claim_due(self, queue: str, now: float, lease_s: float, limit: int) -> list[str]:
        """Members of ``queue`` with a score at or before ``now`` (earliest first, at most ``limit``),
        each moved to ``now + lease_s`` in the same atomic step: a caller that dies holding one lets it
        come due again after the lease, and two callers never receive the same member at once."""

    @abstractmethod
    async def ordered(self, queue: str, limit: int) -> list[tuple[str, float]]:
        """The first ``limit`` members of ``queue`` with their scores, lowest score first."""

    @abstractmethod
    async def ping(self) -> bool: ...

    @property
    def problem(self) -> str | None:
        """Why the store is down (``timeout``, ``wrong_password``, ``read_only_replica`` ...), else None."""
        return None

    @abstractmethod
    async def close(self) -> None: ...


def ceil_ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def open_state(settings: StateSettings | str, password: str | None = None) -> StateStore:
    """``memory`` or a Redis URL with its settings (``gateway.state*``; the password is the value)."""
    url = settings.url if isinstance(settings, StateSettings) else settings
    if url == "memory":
        from gateway.state.memory import MemoryState

        return MemoryState()
    from gateway.state.redis import RedisState

    return RedisState(settings if isinstance(settings, StateSettings) else StateSettings(url, password=password))
