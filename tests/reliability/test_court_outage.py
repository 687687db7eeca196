"""QUALITY.md reliability 1: kill the court in the middle of 1,000 filings.

0 lost, 0 duplicated at the court, all delivered within 60 s of its return, and every caller got
201 or 202 queued: never an error for a write that later went through. Real processes: the
gateway (``serve``, delivering queued writes itself), a private Redis with AOF, the reference
court stopped and started again on its port (its records survive, as a court's database would).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.reliability.support import Deployment, deployment, filing_args

pytestmark = pytest.mark.slow

FILINGS = 1000
CONCURRENCY = 20
KILL_AFTER = 300
DOWN_FOR_S = 5.0


async def test_killing_the_court_in_the_middle_of_1000_filings_loses_and_doubles_nothing(topology: str) -> None:
    async with deployment(topology=topology) as d:
        gateway = d.gateway()
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30,
                                     limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
            answers, returned_at = await _file_while_the_court_dies(d, client)
            statuses = [status for _, status, _ in answers]
            assert set(statuses) <= {201, 202}, [a for a in answers if a[1] not in (201, 202)][:3]
            queued = [(key, body["delivery_id"]) for key, status, body in answers if status == 202]
            assert 0 < len(queued) < FILINGS  # the court really died in the middle

            delivered_after = await _until_the_court_has(d, FILINGS, returned_at, limit_s=60)
            filings = d.records("粤0106")["filings"]
            ids = {f["filing_id"] for f in filings}
            assert len(filings) == FILINGS == len(ids)  # 0 duplicated at the court

            answered = {body["filing_id"] for _, status, body in answers if status == 201}
            delivered = await _delivered_ids(d, client, [delivery_id for _, delivery_id in queued])
            assert answered | set(delivered) == ids and len(answered) + len(delivered) == FILINGS  # 0 lost
            await _replays_answer_what_the_court_answered(d, client, queued[:20], delivered)
    print(f"\nreliability 1: {len(queued)} of {FILINGS} filings queued while the court was down; "
          f"all delivered {delivered_after:.1f} s after it came back")


async def _file_while_the_court_dies(d: Deployment, client: httpx.AsyncClient
                                     ) -> tuple[list[tuple[str, int, Any]], float]:
    headers = d.headers()
    answers: list[tuple[str, int, Any]] = []
    pending = iter(range(FILINGS))
    court_down = asyncio.Event()

    async def filer() -> None:
        for index in pending:
            key = f"filing-{index:04d}"
            answer = await client.post("/api/v1/filings", json=filing_args(),
                                       headers={**headers, "Idempotency-Key": key})
            answers.append((key, answer.status_code, answer.json()))
            if len(answers) >= KILL_AFTER and not court_down.is_set():
                court_down.set()

    async def killer() -> float:
        await court_down.wait()
        await asyncio.to_thread(d.court.stop)
        await asyncio.sleep(DOWN_FOR_S)
        while len(answers) < FILINGS:  # the court stays down until every filing has been answered
            await asyncio.sleep(0.1)
        await asyncio.to_thread(d.court.start)
        return time.monotonic()

    kill = asyncio.create_task(killer())
    await asyncio.gather(*(filer() for _ in range(CONCURRENCY)))
    return answers, await kill


async def _until_the_court_has(d: Deployment, count: int, since: float, limit_s: float) -> float:
    while len(d.records("粤0106")["filings"]) < count:
        waited = time.monotonic() - since
        assert waited < limit_s, f"only {len(d.records('粤0106')['filings'])} of {count} after {limit_s} s"
        await asyncio.sleep(0.2)
    return time.monotonic() - since


async def _delivered_ids(d: Deployment, client: httpx.AsyncClient, delivery_ids: list[str]) -> dict[str, str]:
    headers = d.headers()
    found: dict[str, str] = {}
    for start in range(0, len(delivery_ids), 50):
        batch = delivery_ids[start:start + 50]
        answers = await asyncio.gather(*(client.get(f"/api/v1/deliveries/{i}", headers=headers) for i in batch))
        for delivery_id, answer in zip(batch, answers, strict=True):
            shown = answer.json()
            assert shown["status"] == "delivered" and shown["operation"] == "filings.submit", shown
            found[shown["result"]["filing_id"]] = delivery_id
    return found


async def _replays_answer_what_the_court_answered(d: Deployment, client: httpx.AsyncClient,
                                                  queued: list[tuple[str, str]], delivered: dict[str, str]) -> None:
    by_delivery = {delivery_id: filing_id for filing_id, delivery_id in delivered.items()}
    headers = d.headers()
    for key, delivery_id in queued:
        replay = await client.post("/api/v1/filings", json=filing_args(), headers={**headers, "Idempotency-Key": key})
        assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json()["filing_id"] == by_delivery[delivery_id]
