"""QUALITY.md reliability 2 and 6: a delivery worker killed mid-delivery, and an answer lost after
the court's commit.

Real processes: ``serve --no-worker`` takes the citizens' writes, ``court-gateway worker``
processes deliver the queued ones, the reference court commits and the tests count its records.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from reference_court.routing import court_slug
from tests.reliability.support import Deployment, deployment, filing_args

pytestmark = pytest.mark.slow

#: the deliverer's claim_idle_s (gateway/resilience/deliverer.py) plus its housekeeping period and slack
RECLAIM_WITHIN_S = 30 + 5 + 15


async def test_a_worker_killed_between_the_courts_commit_and_its_acknowledgement_is_replaced(topology: str) -> None:
    """Two entries, one per court. At 粤01 the court commits and its answer is lost (503); at 粤0106
    the court is still working on the request when the worker dies. Worker A is SIGKILLed with both
    entries unacknowledged; worker B reclaims them and delivers them again with the same keys: one
    record each, whatever the court made of the request A sent."""
    async with deployment(topology=topology) as d:
        gateway = d.gateway(no_worker=True)
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
            d.fault(None, "unavailable_503")  # every court: the writes are queued
            queued = {court: await _queued_filing(d, client, court) for court in ("粤01", "粤0106")}
            d.fault(None, "ok")
            d.fault("粤01", "commit_then_503", count=1)
            d.fault("粤0106", "slow", seconds=3, count=1)
            since = d.last_seq()
            worker_a = d.worker("a")
            await _until(lambda: _committed(d, "粤01") == 1 and _arrived(d, "粤0106", since), 20)
            worker_a.kill()
            await asyncio.sleep(3.5)  # the slow court finishes with the request A sent before dying
            assert _committed(d, "粤01") == 1 and _committed(d, "粤0106") <= 1
            for delivery_id in queued.values():  # tried by A, not settled
                shown = await _delivery(d, client, delivery_id)
                assert shown["status"] in ("queued", "delivering") and shown["attempts"] == 2, shown

            killed_at = time.monotonic()
            d.worker("b")
            for court, delivery_id in queued.items():
                shown = await _until_delivered(d, client, delivery_id, RECLAIM_WITHIN_S)
                filings = d.records(court)["filings"]
                assert len(filings) == 1 and shown["result"]["filing_id"] == filings[0]["filing_id"], court
            keys = [e["headers"]["idempotency-key"] for e in d.journal() if e["path"].endswith("/filings")
                    and e["method"] == "POST"]
            assert len(keys) == 6 and len(set(keys)) == 2  # each sent 3 times (queued, A, B) with one key
    print(f"\nreliability 2: both entries reclaimed and delivered {time.monotonic() - killed_at:.1f} s "
          "after worker A was killed")


async def test_an_answer_lost_after_the_courts_commit_leaves_exactly_one_record(topology: str) -> None:
    async with deployment(topology=topology) as d:
        gateway = d.gateway()
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
            d.fault("粤0106", "commit_then_503", count=1)
            headers = d.headers(key="lost-answer-1")
            first = await client.post("/api/v1/filings", json=filing_args(), headers=headers)
            assert first.status_code == 202, first.text
            assert len(d.records("粤0106")["filings"]) == 1  # committed, though the gateway heard 503
            shown = await _until_delivered(d, client, first.json()["delivery_id"], 20)
            filings = d.records("粤0106")["filings"]
            assert len(filings) == 1 and shown["result"]["filing_id"] == filings[0]["filing_id"]
            replay = await client.post("/api/v1/filings", json=filing_args(), headers=headers)
            assert replay.status_code == 201 and replay.json() == shown["result"]


async def _queued_filing(d: Deployment, client: httpx.AsyncClient, court: str) -> str:
    answer = await client.post("/api/v1/filings", json=filing_args(court=court),
                               headers=d.headers(key=f"crash-{court_slug(court)}"))
    assert answer.status_code == 202, answer.text
    return str(answer.json()["delivery_id"])


def _committed(d: Deployment, court: str) -> int:
    return len(d.records(court)["filings"])


def _arrived(d: Deployment, court: str, since: int) -> bool:
    return any(e["court"] == court and e["path"].endswith("/filings") for e in d.journal(since))


async def _until(condition: Any, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def _delivery(d: Deployment, client: httpx.AsyncClient, delivery_id: str) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/deliveries/{delivery_id}", headers=d.headers())
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def _until_delivered(d: Deployment, client: httpx.AsyncClient, delivery_id: str,
                           limit_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while True:
        shown = await _delivery(d, client, delivery_id)
        if shown["status"] == "delivered":
            return shown
        assert shown["status"] in ("queued", "delivering") and time.monotonic() < deadline, shown
        await asyncio.sleep(0.2)

