"""Shared fixtures: a private redis-server for the whole run (started here, never the machine's own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.logs import configure_logging
from tests.support.redis_servers import RedisClusterNodes
from tests.support.stack import RedisServer

# The production logging set-up (JSON lines, redaction) for the whole run, so what the
# tests capture is what operators would see.
configure_logging()


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
