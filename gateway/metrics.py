"""Prometheus metrics: requests, errors and latency by channel, operation and court,
with the gateway's own time split from the court's (CONTRACTS.md section 6).

With several workers, ``serve`` sets PROMETHEUS_MULTIPROC_DIR before the
workers start and /metrics aggregates every worker's files, so the numbers are
valid across processes.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter("court_gateway_requests_total", "Canonical calls handled",
                   ["channel", "operation", "court", "code"])
GATEWAY_SECONDS = Histogram("court_gateway_gateway_seconds", "Time spent in the gateway itself (excluding courts)",
                            ["channel", "operation"], buckets=_BUCKETS)
UPSTREAM_SECONDS = Histogram("court_gateway_upstream_seconds", "Time waiting for courts",
                             ["court", "operation"], buckets=_BUCKETS)
COURT_UP = Gauge("court_gateway_court_up", "1 when the court's health check last passed", ["court"],
                 multiprocess_mode="max")
STATE_UP = Gauge("court_gateway_state_up", "1 when the state store answers", multiprocess_mode="min")
CASE_PASSWORD_FAILURES = Counter("court_gateway_case_password_failures_total",
                                 "Wrong case query passwords, by court (all callers and channels together)", ["court"])
CASE_PASSWORD_PAUSES = Counter("court_gateway_case_password_pauses_total",
                               "Times a court's case query password service paused after its failure budget ran out",
                               ["court"])
CONFIG_RELOADS = Counter("court_gateway_config_reloads_total", "Config reloads by outcome", ["outcome"])

# --- time limits, court events and citizen notifications (docs/sla.md, docs/events.md) ---------------
# The gauges describe shared state (every worker computes the same numbers), hence "max" across workers.
COURT_EVENTS = Counter("court_gateway_court_events_total", "Court events received, by outcome",
                       ["court", "type", "outcome"])
SLA_ITEMS = Gauge("court_gateway_sla_items", "Open time-limited items by status (running, overdue, paused)",
                  ["court", "status"], multiprocess_mode="max")
SLA_PROVISIONAL = Gauge("court_gateway_sla_provisional_items",
                        "Open items whose deadline is counted provisionally (a year the calendar does not know)",
                        ["court"], multiprocess_mode="max")
SLA_CALENDAR_UNKNOWN_YEAR = Gauge("court_gateway_sla_calendar_unknown_year",
                                  "1 while deadlines may reach this year and the statutory calendar does not know it "
                                  "(a configuration problem: update chinese-calendar or add sla.calendar entries)",
                                  ["year"], multiprocess_mode="max")
SLA_MESSAGES = Counter("court_gateway_sla_messages_total", "SLA reminders and escalation SMS by outcome",
                       ["court", "kind", "outcome"])
NOTIFICATIONS = Counter("court_gateway_notifications_total", "Citizen notifications of court events",
                        ["via", "outcome"])

# --- resilience (gateway/resilience/): breakers, retries, the outbox, fallbacks -----------------
# "livemax": a dead worker's last value must not keep a breaker looking open.
BREAKER_STATE = Gauge("court_gateway_breaker_state", "Circuit breaker per court: 0 closed, 1 half-open, 2 open",
                      ["court"], multiprocess_mode="livemax")
BREAKER_TRANSITIONS = Counter("court_gateway_breaker_transitions_total", "Breaker state changes", ["court", "to"])
BREAKER_REJECTED = Counter("court_gateway_breaker_rejected_total", "Court calls not made because the breaker was open",
                           ["court"])
COURT_RETRIES = Counter("court_gateway_court_retries_total",
                        "Court calls tried again (retried) or not for want of budget (budget_exhausted)",
                        ["court", "outcome"])
OUTBOX_QUEUED = Counter("court_gateway_outbox_queued_total", "Writes accepted into the outbox", ["court", "operation"])
OUTBOX_FINISHED = Counter("court_gateway_outbox_finished_total",
                          "Queued writes finished: delivered, failed (the court refused) or dead_letter",
                          ["court", "status"])
OUTBOX_DEAD_LETTERS = Counter("court_gateway_outbox_dead_letters_total",
                              "Queued writes given up after repeated failures (alert on any increase)", ["court"])
OUTBOX_BACKLOG = Gauge("court_gateway_outbox_backlog", "Queued writes not yet delivered, per court", ["court"],
                       multiprocess_mode="livemax")
DELIVERY_SECONDS = Histogram("court_gateway_delivery_seconds", "From queued to delivered", ["court"],
                             buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, 14400, 86400))
DEGRADED = Gauge("court_gateway_degraded",
                 "1 while a part runs on its per-process fallback because the state store is unreachable",
                 ["part"], multiprocess_mode="livemax")
STATE_FALLBACKS = Counter("court_gateway_state_fallbacks_total",
                          "Requests served on a per-process fallback (rate_limit, session) or refused (write) "
                          "because the state store was unreachable", ["part"])


def render() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


class RequestMetrics:
    """The per-request counters, with label children cached: ``labels()`` costs more than ``inc()``."""

    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, str, str], Any] = {}
        self._gateway: dict[tuple[str, str], Any] = {}
        self._upstream: dict[tuple[str, str], Any] = {}

    def observe(self, channel: str, operation: str, court: str, code: str, gateway_s: float,
                upstream_s: float) -> None:
        key = (channel, operation, court, code)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = REQUESTS.labels(*key)
        counter.inc()
        timer = self._gateway.get((channel, operation))
        if timer is None:
            timer = self._gateway[(channel, operation)] = GATEWAY_SECONDS.labels(channel, operation)
        timer.observe(gateway_s)
        if upstream_s:
            upstream = self._upstream.get((court, operation))
            if upstream is None:
                upstream = self._upstream[(court, operation)] = UPSTREAM_SECONDS.labels(court, operation)
            upstream.observe(upstream_s)
