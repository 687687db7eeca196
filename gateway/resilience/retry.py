"""When a court call is tried again, and how much extra load that may put on a court.

Only where it is safe: reads, and writes that carry the Idempotency-Key the
court deduplicates by. A write is retried here only when the court certainly
never saw it (the connection was refused) or said so itself (502/503/504);
anything less certain is queued instead (gateway/resilience/outbox.py), where
delivery uses the same key. Uploads and other one-shot calls are not retried.

Three stops, whichever comes first:

- attempts (3 for reads, 2 for writes);
- an overall deadline: every attempt's timeout is cut to what is left of it,
  so attempts × timeout can never exceed the deadline, and no attempt starts
  with less than ``min_attempt_s`` left;
- the court's retry budget: a token bucket per court, filled by 0.1 token per
  first attempt and emptied by 1 per retry, so retries are at most 10 % of the
  calls a court receives from this process, however hard it fails. The bucket
  holds at most ``cap`` tokens: a long healthy spell does not buy a burst.

Waits are full-jitter exponential (a random time in a doubling window), and at
least the court's own Retry-After; a court that asks for more patience than
the backoff cap allows is not retried inline at all.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tenacity import RetryCallState
from tenacity.stop import stop_base
from tenacity.wait import wait_base

#: what kind of call is being made, which decides how it may be retried
CallMode = Literal["read", "write", "once"]
#: court answers that mean "not now", worth one more try if time and budget allow
RETRYABLE_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    deadline_s: float
    backoff_base_s: float = 0.05
    backoff_max_s: float = 1.0
    min_attempt_s: float = 0.25
    #: retry failures after which the court may have seen the request (broken connection, timeout)
    retry_uncertain: bool = False


#: A write's deadline stays well inside the idempotency claim's lease (gateway/idempotency.py), so
#: a claim can never expire while its write is still being tried.
WRITE_DEADLINE_CAP_S = 90.0


def policy_for(mode: CallMode, timeout_s: float) -> RetryPolicy:
    """The policy of one call mode for a court whose single-call timeout is ``timeout_s``."""
    if mode == "read":
        return RetryPolicy(attempts=3, deadline_s=1.5 * timeout_s, retry_uncertain=True)
    if mode == "write":
        return RetryPolicy(attempts=2, deadline_s=min(1.5 * timeout_s, WRITE_DEADLINE_CAP_S))
    return RetryPolicy(attempts=1, deadline_s=min(timeout_s, WRITE_DEADLINE_CAP_S))


class RetryBudget:
    """Retries allowed as a fraction of first attempts (see the module docstring)."""

    def __init__(self, ratio: float = 0.1, cap: float = 10.0) -> None:
        self.ratio = ratio
        self.cap = cap
        self._balance = 0.0

    def deposit(self) -> None:
        """One first attempt was made."""
        self._balance = min(self.cap, self._balance + self.ratio)

    def withdraw(self) -> bool:
        """Spend one retry; False when the budget is exhausted."""
        if self._balance < 1.0:
            return False
        self._balance -= 1.0
        return True

    @property
    def balance(self) -> float:
        return self._balance


class FullJitter(wait_base):
    """Uniform in [0, min(cap, base × 2^(n-1))], and never less than the court's Retry-After."""

    def __init__(self, policy: RetryPolicy, retry_after: Callable[[RetryCallState], float | None],
                 rand: Callable[[float, float], float] = random.uniform) -> None:
        self._policy = policy
        self._retry_after = retry_after
        self._rand = rand

    def __call__(self, retry_state: RetryCallState) -> float:
        policy = self._policy
        window = min(policy.backoff_max_s, policy.backoff_base_s * 2 ** (retry_state.attempt_number - 1))
        return max(self._rand(0.0, window), self._retry_after(retry_state) or 0.0)


class DeadlineStop(stop_base):
    """No attempt starts after the sleep with less than ``min_attempt_s`` left of the deadline, and
    no sleep is longer than the backoff cap: a court asking for more patience than that gets it from
    the outbox or from the caller, not inside this request."""

    def __init__(self, policy: RetryPolicy, remaining: Callable[[], float]) -> None:
        self._policy = policy
        self._remaining = remaining

    def __call__(self, retry_state: RetryCallState) -> bool:
        sleep = retry_state.upcoming_sleep
        return sleep > self._policy.backoff_max_s or self._remaining() - sleep < self._policy.min_attempt_s


class BudgetStop(stop_base):
    """Put last in ``stop_any``, so it is asked only when nothing else stops: a retry happens only if
    the court's budget pays for it."""

    def __init__(self, budget: RetryBudget, on_exhausted: Callable[[], None]) -> None:
        self._budget = budget
        self._on_exhausted = on_exhausted

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self._budget.withdraw():
            return False
        self._on_exhausted()
        return True
