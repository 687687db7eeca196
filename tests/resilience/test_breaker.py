"""The circuit breaker's state machine, on a clock the tests move by hand."""

from __future__ import annotations

import pytest

from gateway.resilience.breaker import Breaker, BreakerRejected, BreakerSettings, BreakerState


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, **settings: float) -> tuple[Breaker, list[tuple[str, str]]]:
    moves: list[tuple[str, str]] = []
    made = Breaker("粤0106", BreakerSettings(**settings), clock=clock,  # type: ignore[arg-type]
                   listener=lambda court, before, after: moves.append((before.value, after.value)))
    return made, moves


def state_of(b: Breaker) -> BreakerState:
    """Read through a call, so the type checker does not take the property for a constant."""
    return b.state


def calls(b: Breaker, outcomes: str) -> list[bool]:
    """Run one call per character: '+' success, '-' failure; returns whether each tripped the breaker."""
    return [b.record(b.admit(), c == "+") for c in outcomes]


def test_a_run_of_failures_opens_a_quiet_court() -> None:
    clock = Clock()
    b, moves = breaker(clock, consecutive_failures=5, min_calls=100)
    assert calls(b, "----") == [False] * 4 and state_of(b) is BreakerState.CLOSED
    assert calls(b, "-") == [True]
    assert state_of(b) is BreakerState.OPEN and moves == [("closed", "open")]


def test_a_success_breaks_the_run() -> None:
    clock = Clock()
    b, _ = breaker(clock, consecutive_failures=3, min_calls=100)
    calls(b, "--+--+--")
    assert state_of(b) is BreakerState.CLOSED


def test_the_failure_rate_over_the_window_opens_a_busy_court() -> None:
    clock = Clock()
    b, _ = breaker(clock, consecutive_failures=100, min_calls=10, failure_rate=0.5, window_s=10)
    calls(b, "+-+-+-+-+")  # 9 calls: below min_calls whatever the rate
    assert state_of(b) is BreakerState.CLOSED
    assert calls(b, "-") == [True]  # 10 calls, 5 failures: 50 %
    assert state_of(b) is BreakerState.OPEN


def test_old_failures_leave_the_window() -> None:
    clock = Clock()
    b, _ = breaker(clock, consecutive_failures=100, min_calls=10, failure_rate=0.5, window_s=10, bucket_s=1)
    calls(b, "-----+")
    clock.now += 11  # the five failures are out of the window
    calls(b, "+++++++++-")
    assert state_of(b) is BreakerState.CLOSED


def test_open_fails_fast_with_the_time_left_then_lets_probes_through() -> None:
    clock = Clock()
    b, moves = breaker(clock, consecutive_failures=1, open_s=2.0, half_open_probes=2, probe_successes=2)
    calls(b, "-")
    clock.now += 0.5
    with pytest.raises(BreakerRejected) as rejected:
        b.admit()
    assert rejected.value.retry_after_s == pytest.approx(1.5)
    clock.now += 1.5
    assert state_of(b) is BreakerState.HALF_OPEN
    first, second = b.admit(), b.admit()
    assert first.probe and second.probe
    with pytest.raises(BreakerRejected):  # only two probes at once
        b.admit()
    b.record(first, True)
    assert state_of(b) is BreakerState.HALF_OPEN  # one success is not enough
    b.record(second, True)
    assert state_of(b) is BreakerState.CLOSED
    assert moves == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_a_failed_probe_opens_again_for_longer_up_to_the_cap() -> None:
    clock = Clock()
    b, _ = breaker(clock, consecutive_failures=1, open_s=2.0, max_open_s=5.0)
    calls(b, "-")
    opened_for = []
    for _ in range(4):
        clock.now += 100
        assert b.record(b.admit(), False) is True  # a failed probe trips it again
        opened_for.append(b.open_for_s())
    assert opened_for == [4.0, 5.0, 5.0, 5.0]
    clock.now += 100
    b.record(b.admit(), True)
    b.record(b.admit(), True)
    calls(b, "-")  # closed again, and the next opening starts from the base time
    assert b.open_for_s() == 2.0


def test_an_abandoned_probe_frees_its_slot_without_deciding() -> None:
    clock = Clock()
    b, _ = breaker(clock, consecutive_failures=1, half_open_probes=1)
    calls(b, "-")
    clock.now += 100
    ticket = b.admit()
    assert b.probe_slots() == 0
    b.record(ticket, None)
    assert state_of(b) is BreakerState.HALF_OPEN and b.probe_slots() == 1


def test_late_answers_from_before_the_trip_do_not_reopen_or_close() -> None:
    clock = Clock()
    b, _ = breaker(clock, consecutive_failures=2)
    slow = b.admit()  # started while closed, answers after the breaker opened
    calls(b, "--")
    assert b.record(slow, False) is False and state_of(b) is BreakerState.OPEN
    b.record(slow, True)
    assert state_of(b) is BreakerState.OPEN


def test_learning_from_another_process_opens_without_growing_the_backoff() -> None:
    clock = Clock()
    b, moves = breaker(clock, open_s=2.0)
    b.learn(7.0)
    assert state_of(b) is BreakerState.OPEN and b.retry_after_s() == pytest.approx(7.0)
    b.learn(3.0)  # shorter than what is already known: no change
    assert b.retry_after_s() == pytest.approx(7.0)
    clock.now += 7
    assert state_of(b) is BreakerState.HALF_OPEN
    assert b.record(b.admit(), False) is True
    assert b.open_for_s() == 4.0  # doubled from the local base, not from what was learnt
    b.learn(0.0)
    assert moves[0] == ("closed", "open")


@pytest.mark.parametrize(("state", "gauge"), [(BreakerState.CLOSED, 0), (BreakerState.HALF_OPEN, 1),
                                              (BreakerState.OPEN, 2)])
def test_gauge_values(state: BreakerState, gauge: int) -> None:
    assert state.gauge == gauge
