"""Every court call goes through its court's guard: breaker, retries within budget and deadline.

    guard.send(method, path, mode="read" | "write" | "once", ...)
      -> breaker admits? (else CourtUnreachable kind="breaker_open", with Retry-After)
      -> transport call, its timeout cut to what is left of the deadline
      -> outcome recorded in the breaker; retried per gateway/resilience/retry.py

The guard returns every HTTP answer as it came (a 503 included, after the
retries it allowed) and raises :class:`CourtUnreachable` when there is none,
so the pipeline keeps one place that maps court answers to codes.

Between processes: a process whose breaker trips publishes "open until" for
that court in the state store (``breaker:{court}``, expiring with it). Another
process reads it only after a failed call of its own to that court, at most
once a second per court, so a healthy court costs no state-store round trip.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_any

from gateway.court_client import CourtResponse, CourtTransport, CourtUnreachable, court_failed
from gateway.court_http import UploadPart
from gateway.errors import ErrorCode
from gateway.logs import get_logger
from gateway.metrics import BREAKER_REJECTED, BREAKER_STATE, BREAKER_TRANSITIONS, COURT_RETRIES
from gateway.resilience.breaker import Breaker, BreakerRejected, BreakerSettings, BreakerState, Ticket
from gateway.resilience.retry import (
    RETRYABLE_STATUSES,
    BudgetStop,
    CallMode,
    DeadlineStop,
    FullJitter,
    RetryBudget,
    RetryPolicy,
    policy_for,
)
from gateway.state import StateStore, StateUnavailable

_log = get_logger("court_gateway.resilience")
SHARED_PREFIX = "breaker:"
LOOKUP_EVERY_S = 1.0


class _RetryableAnswer(Exception):
    """A 502/503/504 on its way through tenacity; unwrapped into the answer if no retry follows."""

    def __init__(self, response: CourtResponse) -> None:
        super().__init__(response.status)
        self.response = response


class SharedBreakers:
    """"Open until" per court in the state store, so one process's discovery spares the others."""

    def __init__(self, state: StateStore, clock: Callable[[], float] = time.time) -> None:
        self._state = state
        self._clock = clock
        self._looked: dict[str, float] = {}

    async def publish(self, court: str, open_for_s: float) -> None:
        if open_for_s <= 0:
            return
        until = self._clock() + open_for_s
        await self._state.set(SHARED_PREFIX + court, repr(until).encode(), open_for_s)

    async def lookup(self, court: str) -> float:
        """Seconds the court is known open elsewhere (0: not known), asked at most once a second."""
        now = self._clock()
        if now - self._looked.get(court, 0.0) < LOOKUP_EVERY_S:
            return 0.0
        self._looked[court] = now
        raw = await self._state.get(SHARED_PREFIX + court)
        if raw is None:
            return 0.0
        try:
            return max(0.0, float(raw) - now)
        except ValueError:
            return 0.0


def _on_transition(court: str, before: BreakerState, after: BreakerState) -> None:
    BREAKER_STATE.labels(court).set(after.gauge)
    BREAKER_TRANSITIONS.labels(court, after.value).inc()
    log = _log.warning if after is BreakerState.OPEN else _log.info
    log("court circuit breaker", court=court, previous=before.value, state=after.value)


def _retry_after_of(state: RetryCallState) -> float | None:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None and outcome.failed else None
    if isinstance(error, _RetryableAnswer):
        value = error.response.headers.get("Retry-After", "").strip()
        return float(value) if value.isdigit() else None
    return None


@dataclass
class CourtGuard:
    court: str
    transport: CourtTransport
    breaker: Breaker
    budget: RetryBudget = field(default_factory=RetryBudget)
    shared: SharedBreakers | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _policies: dict[str, RetryPolicy] = field(default_factory=dict)

    def policy(self, mode: CallMode) -> RetryPolicy:
        policy = self._policies.get(mode)
        if policy is None:
            policy = self._policies[mode] = policy_for(mode, self.transport.timeout_s)
        return policy

    async def send(self, method: str, path: str, *, mode: CallMode, headers: dict[str, str],
                   body: bytes | None = None, params: Mapping[str, str] | None = None,
                   form: UploadPart | None = None) -> CourtResponse:
        policy = self.policy(mode)
        deadline = time.monotonic() + policy.deadline_s
        self.budget.deposit()
        request: dict[str, Any] = {"headers": headers, "body": body, "params": params, "form": form}
        # The first attempt runs without tenacity: on a healthy court that is every call, and the
        # retry machinery costs tens of microseconds a request (bench/). Only a failure worth
        # retrying enters it, which then counts that failure as its own first attempt.
        try:
            return await self._attempt(method, path, deadline, **request)
        except _RetryableAnswer as answer:
            first: BaseException = answer
        except CourtUnreachable as failure:
            if not _retryable(failure, policy) or policy.attempts < 2:
                raise
            first = failure
        if policy.attempts < 2:
            assert isinstance(first, _RetryableAnswer)
            return first.response
        return await self._retry(method, path, deadline, policy, first, request)

    async def _retry(self, method: str, path: str, deadline: float, policy: RetryPolicy, first: BaseException,
                     request: dict[str, Any]) -> CourtResponse:
        retrying = AsyncRetrying(
            stop=stop_any(stop_after_attempt(policy.attempts),
                          DeadlineStop(policy, lambda: deadline - time.monotonic()),
                          BudgetStop(self.budget, self._budget_exhausted)),
            wait=FullJitter(policy, _retry_after_of),
            retry=retry_if_exception(lambda exc: _retryable(exc, policy)),
            before_sleep=self._retrying,
            reraise=True,
        )
        attempts = _replaying_first(first, self._attempt)
        try:
            response: CourtResponse = await retrying(attempts, method, path, deadline, **request)
        except _RetryableAnswer as answer:
            return answer.response
        return response

    async def _attempt(self, method: str, path: str, deadline: float, **request: Any) -> CourtResponse:
        ticket = self._admit()
        try:
            response = await self.transport.request(method, path, timeout_s=deadline - time.monotonic(), **request)
        except CourtUnreachable:
            self._record(ticket, False)
            raise
        except BaseException:
            self._record(ticket, None)  # abandoned (the caller went away): frees a probe slot, proves nothing
            raise
        self._record(ticket, not court_failed(response))
        if response.status in RETRYABLE_STATUSES:
            raise _RetryableAnswer(response)
        return response

    def _admit(self) -> Ticket:
        try:
            return self.breaker.admit()
        except BreakerRejected as rejected:
            BREAKER_REJECTED.labels(self.court).inc()
            raise CourtUnreachable(ErrorCode.BACKEND_UNAVAILABLE, "court circuit open: not called",
                                   "breaker_open", rejected.retry_after_s) from None

    def _record(self, ticket: Ticket, ok: bool | None) -> None:
        tripped = self.breaker.record(ticket, ok)
        if self.shared is None:
            return
        if tripped:
            self._background(self.shared.publish(self.court, self.breaker.open_for_s()))
        elif ok is False and self.breaker.state is BreakerState.CLOSED:
            self._background(self._learn())

    async def _learn(self) -> None:
        assert self.shared is not None
        open_for = await self.shared.lookup(self.court)
        if open_for > 0:
            self.breaker.learn(open_for)

    def _background(self, work: Any) -> None:
        # The state store is asked off the request's path: a slow or absent Redis must not hold up
        # an answer that is already known.
        task = asyncio.ensure_future(_quietly(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _budget_exhausted(self) -> None:
        COURT_RETRIES.labels(self.court, "budget_exhausted").inc()

    def _retrying(self, state: RetryCallState) -> None:
        COURT_RETRIES.labels(self.court, "retried").inc()


def _replaying_first(first: BaseException, attempt: Callable[..., Awaitable[CourtResponse]]
                     ) -> Callable[..., Awaitable[CourtResponse]]:
    """An attempt function whose first call fails as the attempt already made did (so tenacity's
    attempt count, waits and stops see it) and whose later calls are real attempts."""
    made = False

    async def call(*args: Any, **kwargs: Any) -> CourtResponse:
        nonlocal made
        if not made:
            made = True
            raise first
        return await attempt(*args, **kwargs)

    return call


def _retryable(exc: BaseException, policy: RetryPolicy) -> bool:
    if isinstance(exc, _RetryableAnswer):
        return True
    if isinstance(exc, CourtUnreachable):
        return exc.kind == "refused" or (policy.retry_uncertain and exc.kind in ("broken", "timeout"))
    return False


async def _quietly(work: Any) -> None:
    try:
        await work
    except StateUnavailable:
        pass


class Resilience:
    """The guards of every court of one runtime."""

    def __init__(self, transports: Mapping[str, CourtTransport], state: StateStore | None = None,
                 settings: BreakerSettings | None = None) -> None:
        shared = SharedBreakers(state) if state is not None else None
        self.guards = {
            court: CourtGuard(court, transport, Breaker(court, settings, listener=_on_transition), shared=shared)
            for court, transport in transports.items()
        }
        for court in self.guards:
            BREAKER_STATE.labels(court).set(BreakerState.CLOSED.gauge)

    def guard(self, court: str) -> CourtGuard:
        return self.guards[court]

    def states(self) -> dict[str, str]:
        return {court: guard.breaker.state.value for court, guard in self.guards.items()}
