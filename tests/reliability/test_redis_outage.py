"""QUALITY.md reliability 3: Redis is killed under a running gateway.

Reads keep working under a per-process rate limit; a signed channel falls back to a per-process
nonce cache, flagged as degraded; kiosk sessions fail closed; writes answer SERVICE_UNAVAILABLE
with Retry-After and nothing reaches a court; when Redis is back (same AOF files), everything
recovers without a restart.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from adapters.kiosk.driver import EfatingDriver
from reference_court.seed import DEMO_PEOPLE
from tests.reliability.support import ZW, Deployment, deployment, filing_args, metric, progress_path
from workbench.drivers import Person

pytestmark = pytest.mark.slow

PER_ACTOR = 40  # per minute, the canonical API's limit in this test's config
CJ = DEMO_PEOPLE["chenjing"]
KIOSK_PERSON = Person(ZW.name, ZW.id_number, phone=ZW.phone)
FEES = {"case_type": "民初", "amount": "50000"}


async def test_reads_go_on_writes_are_refused_and_everything_recovers(topology: str) -> None:
    kiosk = EfatingDriver()
    async with deployment(topology=topology, channels={"efating": kiosk.channel_config("")}, env=kiosk.env(),
                          per_actor=f"{PER_ACTOR}/minute") as d:
        gateway = d.gateway()
        async with httpx.AsyncClient(base_url=gateway.url, timeout=20) as client:
            warm = await client.get(progress_path(), headers=d.headers())
            assert warm.status_code == 200, warm.text
            session = await kiosk.sign_in(client, gateway.url, KIOSK_PERSON)

            d.redis.kill()
            since = d.last_seq()
            await _reads_keep_working(d, client)
            await _signed_channels_degrade_and_kiosk_sessions_fail_closed(d, client, kiosk, session)
            await _writes_are_refused(d, client, since)
            ready = (await client.get("/readyz")).json()
            assert ready["status"] == "ready" and ready["state"] == "down"
            assert set(ready["degraded"]) == {"rate_limits", "sessions", "nonces"}
            metrics = (await client.get("/metrics")).text
            assert metric(metrics, "court_gateway_degraded", part="rate_limit") == 1
            assert metric(metrics, "court_gateway_state_fallbacks_total", part="write") >= 5

            d.redis.start()
            recovered_in = await _recovers(d, client)
            again = await kiosk.call(client, gateway.url, session, "cases.progress", {"case_no": _case()})
            assert again.ok, again.body  # the session was kept in Redis's AOF
            ready = (await client.get("/readyz")).json()
            assert ready["state"] == "up" and "rate_limits" not in ready["degraded"]
    print(f"\nreliability 3: writes accepted again {recovered_in:.1f} s after Redis came back")


async def _reads_keep_working(d: Deployment, client: httpx.AsyncClient) -> None:
    headers = d.headers()
    since = d.last_seq()
    answers = [await client.get(progress_path(), headers=headers) for _ in range(PER_ACTOR + 5)]
    statuses = [a.status_code for a in answers]
    # The local limiter keeps the configured per-person limit: a full burst, then 429 in the API's format.
    assert statuses == [200] * PER_ACTOR + [429] * 5, statuses
    limited = answers[-1]
    assert limited.json()["code"] == "RATE_LIMITED" and int(limited.headers["Retry-After"]) >= 1
    # No participant cache without Redis: the court checked access for every read that passed.
    access = [e for e in d.journal(since) if e["path"].endswith("/access")]
    assert len(access) == PER_ACTOR
    fees = await client.post("/api/v1/fees/calculate", json=FEES)
    assert fees.status_code == 200 and fees.json()["total"] == "1050.00"
    listed = await client.get("/api/v1/cases", headers=d.headers(CJ))  # another person: within their limit
    assert listed.status_code == 200 and listed.json()["partial"] == []


async def _signed_channels_degrade_and_kiosk_sessions_fail_closed(d: Deployment, client: httpx.AsyncClient,
                                                                   kiosk: EfatingDriver, session: Any) -> None:
    gateway = str(client.base_url).rstrip("/")
    url = f"{kiosk.base(gateway)}/ops/fees.calculate"
    body = b'{"case_type": "\\u6c11\\u521d", "amount": "50000"}'
    from adapters.kiosk.sign_request import signed_headers

    headers = signed_headers(kiosk.device_id, kiosk.key.encode(), "POST", url, body)
    first = await client.post(url, content=body, headers=headers)
    assert kiosk.answer_of(first).ok, first.text  # the nonce was checked in this process
    replayed = kiosk.answer_of(await client.post(url, content=body, headers=headers))
    assert (replayed.ok, replayed.code) == (False, "REPLAYED_REQUEST")
    read = await kiosk.call(client, gateway, session, "cases.progress", {"case_no": _case()})
    assert (read.ok, read.code, read.http_status) == (False, "SERVICE_UNAVAILABLE", 503)
    reopened = kiosk.answer_of(await kiosk.open_session(client, gateway, _card()))
    assert (reopened.ok, reopened.code) == (False, "SERVICE_UNAVAILABLE")


async def _writes_are_refused(d: Deployment, client: httpx.AsyncClient, since: int) -> None:
    for index in range(5):
        answer = await client.post("/api/v1/filings", json=filing_args(),
                                   headers=d.headers(key=f"outage-{index}"))
        assert answer.status_code == 503 and answer.json()["code"] == "SERVICE_UNAVAILABLE", answer.text
        assert int(answer.headers["Retry-After"]) >= 1
    unguarded = [e for e in d.journal(since) if e["method"] == "POST" and not e["path"].endswith("/fees/calculate")]
    assert unguarded == []  # nothing but public reads reached a court


async def _recovers(d: Deployment, client: httpx.AsyncClient) -> float:
    started = time.monotonic()
    while True:
        answer = await client.post("/api/v1/filings", json=filing_args(), headers=d.headers(key="after-outage"))
        if answer.status_code == 201:
            return time.monotonic() - started
        assert answer.status_code == 503 and time.monotonic() - started < 15, answer.text
        await asyncio.sleep(0.2)


def _case() -> str:
    from tests.reliability.support import TRIAL

    return TRIAL


def _card() -> dict[str, Any]:
    from adapters.kiosk.standins import card_read

    return card_read(KIOSK_PERSON.name, KIOSK_PERSON.id_number, phone=KIOSK_PERSON.phone)
