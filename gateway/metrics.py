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
CONFIG_RELOADS = Counter("court_gateway_config_reloads_total", "Config reloads by outcome", ["outcome"])


def render() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
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
