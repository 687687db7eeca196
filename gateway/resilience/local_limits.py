"""What takes over in this process while the state store cannot be reached.

:class:`LocalLimiter` enforces the configured rate limits per process, with the
same GCRA arithmetic as the Redis script (gateway/state/base.py), so a Redis
outage never lifts them. The limits are per process during the outage: with N
processes a channel may get up to N times its limit; per-person limits hold as
long as one person's requests reach one process, and never exceed N times.

:class:`SessionCache` remembers session records this process resolved
recently, so a citizen signed in on an app can keep reading during an outage.
Only sessions without an idle timeout are kept: a kiosk session must end when
the card is taken out or the kiosk idles, which only the state store can tell
everyone, so kiosks fail closed. A session ended elsewhere (logout) stays
usable here for at most ``ttl_s`` after this process last saw it, and only
while the state store is down.

Both are bounded (oldest first out) and cost a dictionary operation on the
healthy path: the session cache is filled from the hot path's own answer.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from gateway.state.base import RateCheck, RateDecision, RateTable


class LocalLimiter:
    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self._rates = RateTable(max_keys)
        self._clock = clock

    def check(self, checks: Sequence[RateCheck]) -> RateDecision | None:
        """Run every check, consuming only if all pass (like the hot-path script)."""
        return self._rates.check(checks, self._clock())

    def __len__(self) -> int:
        """How many limiters this process keeps (bounded by ``max_keys``)."""
        return len(self._rates)


class SessionCache:
    def __init__(self, ttl_s: float = 300.0, max_entries: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._records: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock

    def keep(self, sid: str, record: bytes) -> None:
        self._records[sid] = (record, self._clock() + self._ttl_s)
        self._records.move_to_end(sid)
        if len(self._records) > self._max:
            self._records.popitem(last=False)

    def forget(self, sid: str) -> None:
        self._records.pop(sid, None)

    def get(self, sid: str) -> bytes | None:
        item = self._records.get(sid)
        if item is None:
            return None
        record, expires = item
        if expires <= self._clock():
            del self._records[sid]
            return None
        return record
