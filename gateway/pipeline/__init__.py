"""What every canonical call goes through, in order, whichever channel it came from.

    service enabled? -> arguments valid (arguments.py) -> route to a court (routing.py) -> one
    state round trip: rate limits, session, participant cache (hot_path.py) -> assurance ->
    access: self / own / participant (access.py, owned.py) -> idempotency claim, court call,
    outbox (writes.py) or court call (court_calls.py, answers.py), every court at once
    (fan_out.py), or the gateway itself (local_ops.py) -> own-record kept -> idempotency
    record completed

flow.py runs the steps. Adapters build a :class:`gateway.calls.Call` and render the
:class:`gateway.calls.Outcome` or the ``GatewayError``; the canonical HTTP API does the
same. There is no second path, which is what makes every channel behave the same.

Every court call goes through the court's guard (gateway/resilience/guard.py):
circuit breaker, retries within a budget and a deadline. A write the court
does not take now (no connection, no answer in time, a 5xx, the breaker open)
is queued in the outbox and answered 202 ``{"status": "queued", "delivery_id"}``;
``uploads.create`` is never queued. When the state store is down, reads go on
with a per-process rate limiter and session cache, and writes are refused
with SERVICE_UNAVAILABLE: without the idempotency store a write cannot be
made safe, so nothing reaches a court unguarded.
"""

from gateway.pipeline.flow import Pipeline
from gateway.pipeline.routing import CourtDirectory

__all__ = ["CourtDirectory", "Pipeline"]
