"""QUALITY.md security 10 with real processes: a court that answers 10 MB, malformed JSON, slowly,
or with a redirect gets a bounded, clean error for a read; a write it mishandles is queued and
delivered once it behaves.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.reliability.support import deployment, filing_args, progress_path

pytestmark = pytest.mark.slow

TIMEOUT_S = 2.0  # the courts' timeout_s in this test's config; reads have 1.5 times that in all


@pytest.mark.parametrize(("mode", "extra", "status", "code", "within_s"), [
    # Bounds far above the expected cost, far below what an unbounded wait would take (30 s).
    ("huge", {}, 503, "BACKEND_UNAVAILABLE", 10.0),
    ("malformed", {}, 503, "BACKEND_UNAVAILABLE", 10.0),
    ("redirect", {}, 503, "BACKEND_UNAVAILABLE", 10.0),
    ("slow", {"seconds": 30}, 504, "BACKEND_TIMEOUT", 1.5 * TIMEOUT_S + 10.0),
])
async def test_a_misbehaving_court_gets_a_bounded_clean_error(topology: str, mode: str, extra: dict[str, float], status: int,
                                                              code: str, within_s: float) -> None:
    async with deployment(topology=topology, timeout_s=TIMEOUT_S) as d:
        gateway = d.gateway()
        async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as client:
            headers = d.headers()
            assert (await client.get(progress_path(), headers=headers)).status_code == 200  # access cached
            d.fault("粤0106", mode, count=5, **extra)
            started = time.monotonic()
            answer = await client.get(progress_path(), headers=headers)
            took = time.monotonic() - started
            assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
            assert took < within_s and "Traceback" not in answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")

            queued = await client.post("/api/v1/filings", json=filing_args(), headers=d.headers(key=f"mis-{mode}"))
            assert queued.status_code == 202, queued.text
            d.fault("粤0106", "ok")
            delivery = f"/api/v1/deliveries/{queued.json()['delivery_id']}"
            deadline = time.monotonic() + 30
            while (shown := (await client.get(delivery, headers=headers)).json())["status"] != "delivered":
                assert time.monotonic() < deadline, shown
                await asyncio.sleep(0.2)
            assert len(d.records("粤0106")["filings"]) == 1
            assert (await client.get(progress_path(), headers=headers)).status_code == 200
