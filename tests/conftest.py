"""Shared fixtures: a private redis-server for the whole run (started here, never the machine's own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
