"""QUALITY.md reliability 11: a hung Redis (SIGSTOP) under a running gateway.

The first request that meets it waits at most the client's command timeout (250 ms); from then on
requests do not wait on Redis at all and go on in the degraded mode of item 3 (reads on
per-process limits, writes refused with Retry-After), while a background probe asks Redis until
it answers (SIGCONT); then writes are taken again without a restart.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.reliability.support import Deployment, RedisDeployment, deployment, filing_args, progress_path
from tests.support.redis_servers import RedisClusterNodes, RedisServer

pytestmark = pytest.mark.slow

READS = 30


async def test_a_hung_redis_costs_one_timeout_then_nothing(topology: str) -> None:
    async with deployment(topology=topology) as d:
        gateway = d.gateway()
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
            headers = d.headers()
            assert (await client.get(progress_path(), headers=headers)).status_code == 200
            hung = _hang(d.redis)
            try:
                first = await client.get(progress_path(), headers=headers)
                assert first.status_code == 200, first.text  # it waited one timeout, then went degraded
                started = time.monotonic()
                reads = [await client.get(progress_path(), headers=headers) for _ in range(READS)]
                elapsed = time.monotonic() - started
                assert [r.status_code for r in reads] == [200] * READS
                # Waiting on the hung Redis would cost at least 250 ms each (7.5 s in all); the
                # bound is far above what the degraded path takes even on a loaded machine.
                assert elapsed < READS * 0.25, f"{READS} reads took {elapsed:.1f} s"
                refused = await client.post("/api/v1/filings", json=filing_args(),
                                            headers=d.headers(key="while-hung"))
                assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
                ready = (await client.get("/readyz")).json()
                # On a cluster, redis-py refreshes its slot map after a node times out; when every
                # node is hung that fails too, and the store is reported unreachable.
                named = {"timeout"} if topology == "single" else {"timeout", "unreachable"}
                assert ready["state"] == "down" and ready["state_problem"] in named, ready
                assert "rate_limits" in ready["degraded"]
            finally:
                _resume(hung)
            back_in = await _writes_taken_again(d, client)
            ready = (await client.get("/readyz")).json()
            assert ready["state"] == "up" and ready["degraded"] == []
    print(f"\nreliability 11: {READS} reads in {elapsed * 1000 / READS:.0f} ms each while Redis hung; "
          f"writes taken again {back_in:.1f} s after it answered")


def _hang(redis: RedisDeployment) -> list[RedisServer]:
    """SIGSTOP every Redis process of the deployment (one server, or every cluster node)."""
    if isinstance(redis, RedisClusterNodes):
        servers = list(redis.nodes)
    else:
        assert isinstance(redis, RedisServer)
        servers = [redis]
    for server in servers:
        server.pause()
    return servers


def _resume(servers: list[RedisServer]) -> None:
    for server in servers:
        server.resume()


async def _writes_taken_again(d: Deployment, client: httpx.AsyncClient) -> float:
    started = time.monotonic()
    while True:
        answer = await client.post("/api/v1/filings", json=filing_args(), headers=d.headers(key="after-hang"))
        if answer.status_code == 201:
            return time.monotonic() - started
        assert answer.status_code == 503 and time.monotonic() - started < 15, answer.text
        await asyncio.sleep(0.1)
