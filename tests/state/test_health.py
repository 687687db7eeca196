"""Health that tells the truth, failures named once, and no waiting on a Redis that is down.

Real redis-server processes: hung with SIGSTOP, a read-only replica, a wrong password, TLS
without the right CA, a cluster given keys in two slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import orjson
import pytest

from gateway.logs import STDOUT
from gateway.state import Placement, RateCheck, StateSettings, StateUnavailable
from gateway.state.redis import RedisState
from tests.support.redis_servers import RedisClusterNodes, RedisServer, make_tls_files


def failures_logged(capfd: pytest.CaptureFixture[str]) -> list[str]:
    """The reasons of the "state store failing" lines written to stdout so far."""
    STDOUT.flush()  # log lines are written in batches
    text = capfd.readouterr().out
    reasons = []
    for line in text.splitlines():
        if line.startswith("{") and '"state store failing"' in line:
            reasons.append(orjson.loads(line)["reason"])
    return reasons


@pytest.fixture(autouse=True)
def _earlier_lines_drained(capfd: pytest.CaptureFixture[str]) -> None:
    """Lines earlier tests left in the log batch are not this test's."""
    STDOUT.flush()
    capfd.readouterr()


async def eventually(condition: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met before the deadline")


@pytest.fixture
def server() -> Iterator[RedisServer]:
    redis = RedisServer()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
async def store(server: RedisServer) -> AsyncIterator[RedisState]:
    state = RedisState(StateSettings(server.url))
    try:
        yield state
    finally:
        await state.close()


async def test_a_hung_redis_is_left_alone_until_the_probe_finds_it_again(
        server: RedisServer, store: RedisState, capfd: pytest.CaptureFixture[str]) -> None:
    check = RateCheck("rl:c:test", 1000, 1)
    await store.hot_path([check], [])
    server.pause()
    try:
        with pytest.raises(StateUnavailable, match="timeout"):
            await store.hot_path([check], [])
        await eventually(lambda: store.degraded)  # once one probe has confirmed the timeout
        assert not await store.ping()
        started = time.monotonic()
        for _ in range(200):
            with pytest.raises(StateUnavailable):
                await store.get("k")
        # No call waited for the socket timeout (200 of them would take 50 s).
        assert time.monotonic() - started < 10
    finally:
        server.resume()
    await eventually(lambda: not store.degraded)
    assert (await store.hot_path([check], [])).rate is not None
    assert await store.ping()
    assert failures_logged(capfd) == ["timeout"]


async def test_a_read_only_replica_is_named_once_and_reported_down(
        server: RedisServer, capfd: pytest.CaptureFixture[str]) -> None:
    replica = RedisServer(args=["--replicaof", "127.0.0.1", str(server.port)])
    replica.start()
    state = RedisState(StateSettings(replica.url))
    try:
        for _ in range(5):
            with pytest.raises(StateUnavailable, match="read_only_replica"):
                await state.set("k", b"v", 10)
        assert not await state.ping()
    finally:
        await state.close()
        replica.stop()
    assert failures_logged(capfd) == ["read_only_replica"]


async def test_a_wrong_password_is_named_once(capfd: pytest.CaptureFixture[str]) -> None:
    server = RedisServer(acl=["user gateway on >right-password ~* &* +@all"])
    server.start()
    state = RedisState(StateSettings(server.url, username="gateway", password="wrong-password"))
    try:
        for _ in range(5):
            with pytest.raises(StateUnavailable, match="wrong_password"):
                await state.get("k")
        assert not await state.ping()
    finally:
        await state.close()
        server.stop()
    assert failures_logged(capfd) == ["wrong_password"]


async def test_a_tls_failure_is_named(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    files = make_tls_files(tmp_path)
    server = RedisServer(tls=files)
    server.start()
    # The system's CAs do not know the private CA: the handshake must fail, and say so.
    state = RedisState(StateSettings(server.url))
    try:
        with pytest.raises(StateUnavailable, match="tls"):
            await state.get("k")
    finally:
        await state.close()
        server.stop()
    assert failures_logged(capfd) == ["tls"]


async def test_a_stalled_event_loop_is_not_taken_for_a_hung_redis(store: RedisState) -> None:
    """A command that times out because this process's loop was busy (not Redis) fails alone; the
    confirming probe finds Redis answering and the store stays up."""
    reading = asyncio.create_task(store.get("k"))
    await asyncio.sleep(0)  # the command is sent ...
    time.sleep(0.4)  # noqa: ASYNC251 - the loop is blocked past the timeout, as by a CPU-heavy request
    with contextlib.suppress(StateUnavailable):
        await reading
    await asyncio.sleep(0.3)  # the confirming probe has answered
    assert not store.degraded and await store.get("k") is None


async def test_crossslot_is_named_and_the_layout_keeps_scripts_in_one_slot(
        capfd: pytest.CaptureFixture[str]) -> None:
    cluster = RedisClusterNodes()
    cluster.start()
    state = RedisState(StateSettings(cluster.url))
    try:
        assert await state.swap("{sla}:timer:t1", None, b"x", 60, [Placement("{sla}:due", "t1", 1.0)])
        for _ in range(3):
            with pytest.raises(StateUnavailable, match="crossslot"):
                await state.swap("timer:t2", None, b"x", 60, [Placement("due", "t2", 1.0)])
        assert await state.ping()  # a layout bug is named, but Redis itself is up
    finally:
        await state.close()
        cluster.stop()
    assert failures_logged(capfd) == ["crossslot"]
