"""Shared fixtures: a private redis-server for the whole run (started here, never the machine's own)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gateway.logs import configure_logging
from tests.support.redis_servers import RedisClusterNodes
from tests.support.stack import RedisServer

# The production logging set-up (JSON lines, redaction) for the whole run, so what the
# tests capture is what operators would see.
configure_logging()

UNDER_LIBFAKETIME = "faketime" in os.environ.get("LD_PRELOAD", "")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``scripts/test --clock`` (libfaketime), skip the few tests marked ``real_clock_only``, saying why.

    libfaketime 0.9.10 does not translate the deadline of a timed wait on a thread lock
    (``sem_clockwait``), so a ``threading.Event().wait(0.5)`` in a process it fakes sleeps for the
    whole clock offset: uvicorn's multi-worker supervisor and schemathesis hang on such waits. These
    tests depend on no date; the normal run (CI) runs them.
    """
    if not UNDER_LIBFAKETIME:
        return
    reason = "libfaketime hangs timed thread waits (uvicorn's supervisor, schemathesis); runs on the real clock"
    for item in items:
        if item.get_closest_marker("real_clock_only"):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterNodes]:
    """A private 3-primary Redis Cluster for the whole run, started only if a test asks for it."""
    cluster = RedisClusterNodes()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
