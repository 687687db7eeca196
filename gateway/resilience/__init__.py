"""The resilience layer between the pipeline and the courts: never lose, never duplicate.

- :mod:`~gateway.resilience.breaker`: a circuit breaker per court;
- :mod:`~gateway.resilience.retry`: when a call is tried again, within a deadline and a budget;
- :mod:`~gateway.resilience.guard`: every court call goes through its court's guard;
- :mod:`~gateway.resilience.outbox`: writes a court cannot take now, kept durably (Redis streams);
- :mod:`~gateway.resilience.deliverer`: the background job delivering them when the court is back;
- :mod:`~gateway.resilience.local_limits`: what this process does alone while Redis is down.

docs/deployment.md says what each needs from Redis and which metrics to alert on.
"""

from gateway.resilience.breaker import Breaker, BreakerSettings, BreakerState
from gateway.resilience.deliverer import Deliverer, DeliveryReport, DeliverySettings, Notify
from gateway.resilience.guard import CourtGuard, Resilience
from gateway.resilience.outbox import NotTaken, Outbox, QueuedWrite, open_outbox
from gateway.resilience.retry import RetryBudget, RetryPolicy

__all__ = [
    "Breaker",
    "BreakerSettings",
    "BreakerState",
    "CourtGuard",
    "Deliverer",
    "DeliveryReport",
    "DeliverySettings",
    "NotTaken",
    "Notify",
    "Outbox",
    "QueuedWrite",
    "Resilience",
    "RetryBudget",
    "RetryPolicy",
    "open_outbox",
]
