"""A circuit breaker per court: stop calling a court that is failing, and find out when it is back.

    CLOSED --(failure rate over the window, or a run of failures)--> OPEN
    OPEN --(open time elapsed)--> HALF_OPEN
    HALF_OPEN --(enough probes succeeded)--> CLOSED
    HALF_OPEN --(a probe failed)--> OPEN, for twice as long (up to a cap)

While open, calls fail fast (reads answer BACKEND_UNAVAILABLE with Retry-After,
writes are queued); half-open lets a bounded number of probes through at once.

Two triggers, because traffic varies by court: a failure rate over a rolling
window needs enough calls to mean anything, so a quiet court (one citizen
filing while the court is down) trips on a run of consecutive failures instead.

This class is pure state, no I/O and no clock of its own (it is given one), so
its transitions are tested exactly. Sharing between processes is the guard's
job (gateway/resilience/guard.py): each process keeps its own breaker and
publishes "open until" to the state store when it trips; other processes read
it on their next failure, never on the healthy path.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class BreakerState(str, Enum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"

    @property
    def gauge(self) -> int:
        """The value of ``court_gateway_breaker_state``: 0 closed, 1 half-open, 2 open."""
        return {"closed": 0, "half_open": 1, "open": 2}[self.value]


@dataclass(frozen=True)
class BreakerSettings:
    window_s: float = 10.0
    bucket_s: float = 1.0
    #: the failure rate means nothing below this many calls in the window
    min_calls: int = 10
    failure_rate: float = 0.5
    #: trips a quiet court: this many failures in a row
    consecutive_failures: int = 5
    open_s: float = 2.0
    #: a court that keeps failing its probes is left alone for at most this long between probes:
    #: short enough that queued writes go out soon after a court comes back
    max_open_s: float = 10.0
    #: probes allowed through at once while half-open (per process)
    half_open_probes: int = 3
    #: successful probes that close the breaker
    probe_successes: int = 2


@dataclass(frozen=True)
class Ticket:
    """Permission for one call; hand it back to :meth:`Breaker.record` with the outcome."""

    probe: bool


class BreakerRejected(Exception):
    """The breaker is open (or half-open with every probe slot taken): do not call the court."""

    def __init__(self, court: str, retry_after_s: float) -> None:
        super().__init__(f"circuit open for {court}")
        self.court = court
        self.retry_after_s = retry_after_s


Listener = Callable[[str, BreakerState, BreakerState], None]


class _Window:
    """Successes and failures in fixed buckets over the last ``window_s`` seconds."""

    def __init__(self, window_s: float, bucket_s: float) -> None:
        self._bucket_s = bucket_s
        self._size = max(1, math.ceil(window_s / bucket_s))
        self._buckets: dict[int, list[int]] = {}

    def add(self, now: float, ok: bool) -> None:
        index = int(now // self._bucket_s)
        bucket = self._buckets.setdefault(index, [0, 0])
        bucket[0 if ok else 1] += 1
        if len(self._buckets) > self._size:
            oldest = index - self._size
            for stale in [i for i in self._buckets if i <= oldest]:
                del self._buckets[stale]

    def totals(self, now: float) -> tuple[int, int]:
        first = int(now // self._bucket_s) - self._size + 1
        calls = failures = 0
        for index, (ok, failed) in self._buckets.items():
            if index >= first:
                calls += ok + failed
                failures += failed
        return calls, failures

    def clear(self) -> None:
        self._buckets.clear()


class Breaker:
    def __init__(self, court: str, settings: BreakerSettings | None = None, *,
                 clock: Callable[[], float] = time.monotonic, listener: Listener | None = None) -> None:
        self.court = court
        self.settings = settings or BreakerSettings()
        self._clock = clock
        self._listener = listener
        self._state = BreakerState.CLOSED
        self._window = _Window(self.settings.window_s, self.settings.bucket_s)
        self._consecutive = 0
        self._open_until = 0.0
        self._open_for = self.settings.open_s
        self._probes_out = 0
        self._probe_ok = 0

    # --- reading --------------------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() >= self._open_until:
            self._move(BreakerState.HALF_OPEN)
        return self._state

    def retry_after_s(self) -> float:
        """How long a caller should wait before trying again (0 when calls pass)."""
        state = self.state
        if state is BreakerState.OPEN:
            return max(0.0, self._open_until - self._clock())
        if state is BreakerState.HALF_OPEN and self._probes_out >= self.settings.half_open_probes:
            return self.settings.open_s
        return 0.0

    def would_admit(self) -> bool:
        return self.retry_after_s() == 0.0

    def probe_slots(self) -> int:
        """Calls that would be admitted right now (a large number when closed)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return 1 << 30
        if state is BreakerState.HALF_OPEN:
            return max(0, self.settings.half_open_probes - self._probes_out)
        return 0

    # --- calls ----------------------------------------------------------------------------------

    def admit(self) -> Ticket:
        """A ticket for one call, or :class:`BreakerRejected`."""
        state = self.state
        if state is BreakerState.CLOSED:
            return Ticket(probe=False)
        if state is BreakerState.HALF_OPEN and self._probes_out < self.settings.half_open_probes:
            self._probes_out += 1
            return Ticket(probe=True)
        raise BreakerRejected(self.court, max(self.retry_after_s(), 0.001))

    def record(self, ticket: Ticket, ok: bool | None) -> bool:
        """The outcome of an admitted call: True success, False failure, None neither (the call was
        abandoned, or failed for a reason that says nothing about the court). Returns True when this
        outcome tripped the breaker open (the caller tells the other processes)."""
        if ticket.probe:
            return self._record_probe(ok)
        if ok is None:
            return False
        now = self._clock()
        self._window.add(now, ok)
        self._consecutive = 0 if ok else self._consecutive + 1
        if self._state is BreakerState.CLOSED and not ok and self._tripped(now):
            self._open(self.settings.open_s)
            return True
        return False

    def _record_probe(self, ok: bool | None) -> bool:
        self._probes_out = max(0, self._probes_out - 1)
        if ok is None or self._state is not BreakerState.HALF_OPEN:
            return False  # a late probe after the state moved on says nothing new
        if ok:
            self._probe_ok += 1
            if self._probe_ok >= self.settings.probe_successes:
                self._close()
            return False
        self._open(min(self._open_for * 2, self.settings.max_open_s))
        return True

    def _tripped(self, now: float) -> bool:
        if self._consecutive >= self.settings.consecutive_failures:
            return True
        calls, failures = self._window.totals(now)
        return calls >= self.settings.min_calls and failures / calls >= self.settings.failure_rate

    # --- what other processes saw ---------------------------------------------------------------

    def learn(self, open_for_s: float) -> None:
        """Another process found this court failing and opened its breaker for ``open_for_s`` more
        seconds: stop calling it too (a later local probe decides when it is back)."""
        if open_for_s <= 0:
            return
        if self.state is BreakerState.OPEN and self._open_until >= self._clock() + open_for_s:
            return
        self._open(open_for_s, grow=False)

    # --- transitions ----------------------------------------------------------------------------

    def _open(self, seconds: float, *, grow: bool = True) -> None:
        if grow:
            self._open_for = seconds
        self._open_until = self._clock() + seconds
        self._probe_ok = 0
        self._move(BreakerState.OPEN)

    def _close(self) -> None:
        self._window.clear()
        self._consecutive = 0
        self._open_for = self.settings.open_s
        self._probe_ok = 0
        self._move(BreakerState.CLOSED)

    def open_for_s(self) -> float:
        """The length of the current open period (what is published to other processes)."""
        return max(0.0, self._open_until - self._clock())

    def _move(self, to: BreakerState) -> None:
        before, self._state = self._state, to
        if before is not to and self._listener is not None:
            self._listener(self.court, before, to)
