"""QUALITY.md reliability 9: a Sentinel failover in the middle of traffic.

One primary, one replica, three sentinels (real redis-server processes), a ``serve`` gateway on
``redis+sentinel://``. The court is down, so every accepted filing waits in the Redis outbox. In
the middle of the traffic the sentinels fail over (coordinated: the old primary stays up, demoted
to a read-only replica, the case that used to stop every write for good). Writes must work again
within 10 s of the promotion; every filing that got 202 reaches the court exactly once when it
comes back; /readyz says "down" only with a reason and "up" once writes work.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.reliability.support import Deployment, deployment, filing_args
from tests.support.redis_servers import SentinelSet

pytestmark = pytest.mark.slow

FILERS = 4
PAUSE_S = 0.3  # between one filer's requests: about 13 filings a second in all
BEFORE = 40  # filings accepted before the failover starts
AFTER_S = 12.0  # traffic goes on this long after the promotion
BACK_WITHIN_S = 10.0


async def test_writes_survive_a_sentinel_failover_in_the_middle_of_traffic() -> None:
    async with deployment(topology="sentinel") as d:
        sentinels = d.redis
        assert isinstance(sentinels, SentinelSet)
        gateway = d.gateway()
        d.court.stop()  # every accepted write waits in the outbox, in Redis
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
            traffic = Traffic(d, client)
            filers = [asyncio.create_task(traffic.file()) for _ in range(FILERS)]
            readiness = asyncio.create_task(traffic.watch_readiness())
            await traffic.wait_for(BEFORE)
            promoted_at = await asyncio.to_thread(_failover, sentinels)
            await asyncio.sleep(AFTER_S)
            traffic.stop = True
            await asyncio.gather(*filers, readiness)

            bad = [a for a in traffic.answers if a[1] not in (202, 503)]
            assert bad == [], bad[:3]
            refused_after = [at for at, status, _ in traffic.answers if status == 503 and at > promoted_at]
            back_in = (max(refused_after) - promoted_at) if refused_after else 0.0
            assert back_in < BACK_WITHIN_S, f"writes refused {back_in:.1f} s after the promotion"
            accepted = [body["delivery_id"] for _, status, body in traffic.answers if status == 202]
            assert any(at > promoted_at for at, status, _ in traffic.answers if status == 202)
            for _, status, body in traffic.answers:
                if status == 503:
                    assert body["code"] == "SERVICE_UNAVAILABLE"
            for ready in traffic.readiness:
                assert ready["state"] == "up" or ready.get("state_problem"), ready
            final = (await client.get("/readyz")).json()
            assert final["state"] == "up" and final["degraded"] == [], final

            d.court.start()
            await _until_the_court_has(d, len(accepted))
            filings = d.records("粤0106")["filings"]
            assert len(filings) == len(accepted) == len({f["filing_id"] for f in filings})  # 0 lost, 0 twice
            await _all_delivered(d, client, accepted)
    print(f"\nreliability 9: {len(accepted)} filings queued; writes refused for {back_in:.1f} s after the "
          f"promotion; {len(refused_after)} refused (503) after it")


def _failover(sentinels: SentinelSet) -> float:
    sentinels.failover()
    return time.monotonic()


class Traffic:
    def __init__(self, d: Deployment, client: httpx.AsyncClient) -> None:
        self.d = d
        self.client = client
        self.answers: list[tuple[float, int, Any]] = []
        self.readiness: list[dict[str, Any]] = []
        self.stop = False
        self._count = 0

    async def file(self) -> None:
        """File one filing after another; a refused one (503) is sent again with its key, as
        Retry-After asks, until it is taken."""
        headers = self.d.headers()
        while not self.stop:
            self._count += 1
            key = f"failover-{self._count:05d}"
            while True:
                answer = await self.client.post("/api/v1/filings", json=filing_args(),
                                                headers={**headers, "Idempotency-Key": key})
                self.answers.append((time.monotonic(), answer.status_code, answer.json()))
                await asyncio.sleep(PAUSE_S)
                if answer.status_code != 503:
                    break

    async def watch_readiness(self) -> None:
        while not self.stop:
            self.readiness.append((await self.client.get("/readyz")).json())
            await asyncio.sleep(0.1)

    async def wait_for(self, accepted: int) -> None:
        deadline = time.monotonic() + 60
        while sum(1 for _, status, _ in self.answers if status == 202) < accepted:
            assert time.monotonic() < deadline, self.answers[-3:]
            await asyncio.sleep(0.05)


async def _until_the_court_has(d: Deployment, count: int, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while len(d.records("粤0106")["filings"]) < count:
        assert time.monotonic() < deadline, f"only {len(d.records('粤0106')['filings'])} of {count}"
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # anything sent twice would arrive now


async def _all_delivered(d: Deployment, client: httpx.AsyncClient, delivery_ids: list[str]) -> None:
    headers = d.headers()
    for start in range(0, len(delivery_ids), 50):
        batch = delivery_ids[start:start + 50]
        answers = await asyncio.gather(*(client.get(f"/api/v1/deliveries/{i}", headers=headers) for i in batch))
        for answer in answers:
            assert answer.json()["status"] == "delivered", answer.text
