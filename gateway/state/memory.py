"""In-process state for ``demo`` and tests: same semantics as Redis, one process only."""

from __future__ import annotations

import time
from collections.abc import Sequence

from gateway.state.base import HotPath, Placement, RateCheck, RateDecision, RateTable, StateStore


class MemoryState(StateStore):
    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._rates = RateTable()
        self._queues: dict[str, dict[str, float]] = {}  # ordered sets: queue -> member -> score
        self._ops = 0

    @staticmethod
    def _now() -> float:
        return time.time()

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at is not None and expires_at <= self._now():
            del self._data[key]
            return None
        return value

    def _sweep(self) -> None:
        # Occasional sweep keeps expired keys from accumulating in a long demo run.
        self._ops += 1
        if self._ops % 4096:
            return
        now = self._now()
        for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
            del self._data[key]
        self._rates.sweep(now)

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self._live(k) for k in keys]

    async def set(self, key: str, value: bytes, ttl_s: float | None = None, *, only_if_absent: bool = False) -> bool:
        self._sweep()
        if only_if_absent and self._live(key) is not None:
            return False
        self._data[key] = (value, self._now() + ttl_s if ttl_s else None)
        return True

    async def delete(self, *keys: str) -> int:
        return sum(1 for k in keys if self._data.pop(k, None) is not None)

    def _rate(self, checks: Sequence[RateCheck]) -> RateDecision | None:
        return self._rates.check(checks, self._now())

    async def hot_path(
        self, checks: Sequence[RateCheck], fetch: Sequence[str], touch: Sequence[tuple[str, float]] = ()
    ) -> HotPath:
        self._sweep()
        rate = self._rate(checks)
        values = [self._live(k) for k in fetch]
        for key, ttl in touch:
            value = self._live(key)
            if value is not None:
                self._data[key] = (value, self._now() + ttl)
        return HotPath(rate, values)

    async def swap(self, key: str, expected: bytes | None, value: bytes | None, ttl_s: float | None = None,
                   placements: Sequence[Placement] = ()) -> bool:
        # No await between the comparison and the writes: atomic within the event loop.
        if self._live(key) != expected:
            return False
        if value is None:
            self._data.pop(key, None)
        else:
            self._data[key] = (value, self._now() + ttl_s if ttl_s else None)
        for place in placements:
            queue = self._queues.setdefault(place.queue, {})
            if place.score is None:
                queue.pop(place.member, None)
            else:
                queue[place.member] = place.score
        return True

    async def claim_due(self, queue: str, now: float, lease_s: float, limit: int) -> list[str]:
        members = self._queues.get(queue, {})
        due = sorted((score, member) for member, score in members.items() if score <= now)[:limit]
        for _, member in due:
            members[member] = now + lease_s
        return [member for _, member in due]

    async def ordered(self, queue: str, limit: int) -> list[tuple[str, float]]:
        members = self._queues.get(queue, {})
        return sorted(members.items(), key=lambda item: (item[1], item[0]))[:limit]

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()
        self._queues.clear()
