"""Retries, the retry budget, deadlines and the breaker around real HTTP calls to a stand-in court."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from gateway.court_client import CourtResponse, CourtTransport, CourtUnreachable, TransportSettings
from gateway.resilience.breaker import Breaker, BreakerSettings, BreakerState
from gateway.resilience.guard import CourtGuard, SharedBreakers
from gateway.resilience.retry import CallMode, RetryBudget, RetryPolicy, policy_for
from gateway.state.memory import MemoryState
from tests.resilience.support import Behaviour, stand_in
from tests.support.stack import free_port

#: a breaker that never opens, so the retry budget alone is measured
NEVER_OPENS = BreakerSettings(consecutive_failures=10**9, min_calls=10**9)


def guard(transport: CourtTransport, settings: BreakerSettings = NEVER_OPENS, *, warm: float = 0.0,
          shared: SharedBreakers | None = None) -> CourtGuard:
    budget = RetryBudget()
    for _ in range(int(warm * 10)):
        budget.deposit()
    return CourtGuard("粤0106", transport, Breaker("粤0106", settings), budget, shared)


def state_of(breaker: Breaker) -> BreakerState:
    return breaker.state


async def read(g: CourtGuard, path: str = "/api/v1/x") -> int:
    return (await g.send("GET", path, mode="read", headers={})).status


# --- the budget ---------------------------------------------------------------------------------


def test_the_budget_pays_one_retry_per_ten_calls_and_saves_no_more_than_its_cap() -> None:
    budget = RetryBudget(ratio=0.1, cap=3.0)
    assert not budget.withdraw()  # a fresh process has earned nothing yet
    for _ in range(25):
        budget.deposit()
    assert [budget.withdraw() for _ in range(3)] == [True, True, False]
    for _ in range(1000):
        budget.deposit()
    assert budget.balance == pytest.approx(3.0)
    assert sum(budget.withdraw() for _ in range(10)) == 3


@pytest.mark.parametrize(("mode", "attempts", "deadline"), [("read", 3, 7.5), ("write", 2, 7.5), ("once", 1, 5.0)])
def test_policies_per_call_mode(mode: CallMode, attempts: int, deadline: float) -> None:
    policy = policy_for(mode, 5.0)
    assert (policy.attempts, policy.deadline_s) == (attempts, deadline)
    assert policy_for("write", 120.0).deadline_s == 90.0  # inside the idempotency claim's lease


# --- retries ------------------------------------------------------------------------------------


async def test_a_failing_court_sees_at_most_ten_percent_more_than_it_is_offered() -> None:
    behaviour = Behaviour(status=503)
    async with stand_in(behaviour) as transport:
        g = guard(transport)
        offered = 600
        for _ in range(offered // 50):
            statuses = await asyncio.gather(*(read(g) for _ in range(50)))
            assert set(statuses) == {503}
    seen = len(behaviour.received)
    assert offered < seen <= 1.1 * offered, seen
    assert seen - offered >= 0.09 * offered - 1  # the budget is spent, not just left unused


async def test_a_blip_is_retried_and_the_caller_never_sees_it() -> None:
    behaviour = Behaviour(once=[(503, {"title": "busy"})])
    async with stand_in(behaviour) as transport:
        assert await read(guard(transport, warm=1.0)) == 200
    assert len(behaviour.received) == 2


async def test_a_court_asking_for_more_patience_than_the_backoff_cap_is_not_retried_inline() -> None:
    behaviour = Behaviour(status=503, retry_after="5")
    async with stand_in(behaviour) as transport:
        assert await read(guard(transport, warm=5.0)) == 503
    assert len(behaviour.received) == 1


class CountingTransport(CourtTransport):
    """A transport that counts its attempts (a closed port has nobody else to count them)."""

    attempts = 0

    async def request(self, method: str, path: str, **kwargs: Any) -> CourtResponse:
        self.attempts += 1
        return await super().request(method, path, **kwargs)


@pytest.mark.parametrize(("mode", "expected"), [("read", 3), ("write", 2), ("once", 1)])
async def test_a_refused_connection_is_retried_for_reads_and_writes_but_not_one_shot_calls(
    mode: CallMode, expected: int,
) -> None:
    closed = CountingTransport(f"http://127.0.0.1:{free_port()}",
                               TransportSettings(timeout_s=1, connect_timeout_s=0.5))
    try:
        with pytest.raises(CourtUnreachable) as failure:
            await guard(closed, warm=5.0).send("POST", "/x", mode=mode, headers={})
        assert failure.value.kind == "refused" and closed.attempts == expected
    finally:
        await closed.close()


async def test_the_deadline_bounds_retries_of_a_slow_court() -> None:
    behaviour = Behaviour(delay_s=1.2)
    async with stand_in(behaviour, timeout_s=0.6) as transport:
        g = guard(transport, warm=5.0)
        started = time.monotonic()
        with pytest.raises(CourtUnreachable) as failure:
            await read(g)
        elapsed = time.monotonic() - started
    # 0.6 s then a second attempt cut to what is left of the 0.9 s deadline (no third: < 0.25 s left);
    # three uncut attempts would take over 1.8 s, three answers 3.6 s.
    assert failure.value.kind == "timeout" and failure.value.code.value == "BACKEND_TIMEOUT"
    assert elapsed < 1.7 and len(behaviour.received) <= 2


async def test_a_write_that_timed_out_is_not_retried_inline() -> None:
    behaviour = Behaviour(delay_s=0.9)
    async with stand_in(behaviour, timeout_s=0.4) as transport:
        with pytest.raises(CourtUnreachable) as failure:
            await guard(transport, warm=5.0).send("POST", "/x", mode="write", headers={"Idempotency-Key": "k"})
    assert failure.value.kind == "timeout" and len(behaviour.received) == 1


async def test_a_trickled_answer_is_cut_off_by_the_total_timeout() -> None:
    behaviour = Behaviour(body={"items": ["x" * 200]}, trickle_s=0.05)  # ~10 s to send in full
    async with stand_in(behaviour, timeout_s=0.8) as transport:
        started = time.monotonic()
        with pytest.raises(CourtUnreachable) as failure:
            await guard(transport).send("GET", "/x", mode="once", headers={})
    assert failure.value.code.value == "BACKEND_TIMEOUT" and time.monotonic() - started < 5.0  # not ~10 s


def test_retry_policy_defaults_are_small() -> None:
    policy = RetryPolicy(attempts=3, deadline_s=1.0)
    assert policy.backoff_max_s <= 1.0 and policy.min_attempt_s < policy.deadline_s


# --- the breaker around calls ---------------------------------------------------------------------


async def test_an_open_breaker_fails_fast_without_calling_and_a_probe_closes_it() -> None:
    behaviour = Behaviour(status=503)
    settings = BreakerSettings(consecutive_failures=3, open_s=0.3, probe_successes=1)
    async with stand_in(behaviour) as transport:
        g = guard(transport, settings)
        for _ in range(3):
            assert await read(g) == 503
        assert state_of(g.breaker) is BreakerState.OPEN
        with pytest.raises(CourtUnreachable) as failure:
            await read(g)
        assert failure.value.kind == "breaker_open" and 0 < (failure.value.retry_after_s or 0) <= 0.3
        assert len(behaviour.received) == 3  # failed fast: the court was not called
        behaviour.status = 200
        await asyncio.sleep(0.35)
        assert await read(g) == 200
        assert state_of(g.breaker) is BreakerState.CLOSED and len(behaviour.received) == 4


async def test_four_hundreds_are_answers_not_failures() -> None:
    behaviour = Behaviour(status=404, body={"code": "NOT_FOUND"})
    async with stand_in(behaviour) as transport:
        g = guard(transport, BreakerSettings(consecutive_failures=2))
        for _ in range(5):
            assert await read(g) == 404
        assert state_of(g.breaker) is BreakerState.CLOSED and len(behaviour.received) == 5


async def test_another_process_learns_of_an_open_breaker_on_its_next_failure() -> None:
    state = MemoryState()
    behaviour = Behaviour(status=503)
    settings = BreakerSettings(consecutive_failures=3, open_s=5.0)
    async with stand_in(behaviour) as transport:
        first = guard(transport, settings, shared=SharedBreakers(state))
        second = guard(transport, settings, shared=SharedBreakers(state))
        for _ in range(3):
            await read(first)
        await asyncio.sleep(0.05)  # the publication runs beside the request
        assert await state.get("breaker:粤0106") is not None
        assert state_of(second.breaker) is BreakerState.CLOSED  # a healthy path never asks
        assert await read(second) == 503
        await asyncio.sleep(0.05)
        assert state_of(second.breaker) is BreakerState.OPEN
        assert 4.0 < second.breaker.retry_after_s() <= 5.0
