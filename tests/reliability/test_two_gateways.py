"""QUALITY.md reliability 7: two gateway processes on one Redis behave as one gateway.

Rate limits, nonces, idempotency and IVR calls hold across both (a call moves between them
mid-flow), and queued writes are delivered once although both processes run a deliverer.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from adapters.ivr12368.driver import Ivr12368Driver, JsonPhone
from adapters.kiosk.driver import EfatingDriver
from adapters.kiosk.sign_request import signed_headers
from reference_court.seed import DEMO_PEOPLE
from tests.reliability.support import Deployment, GatewayProcess, deployment, filing_args

pytestmark = pytest.mark.slow

PER_ACTOR = 20  # per minute
#: 张伟's case at 粤0106, as its query password is printed on his acceptance notice (the seed)
COURT_DIGITS, SERIAL, PASSWORD, CASE_NO = "0106", "22468", "260615", "（2026）粤0106民初22468号"


async def test_two_processes_on_one_redis_share_limits_nonces_keys_calls_and_deliveries(topology: str) -> None:
    kiosk, ivr = EfatingDriver(), Ivr12368Driver()
    channels = {"efating": kiosk.channel_config(""), "ivr12368": ivr.channel_config("")}
    async with deployment(topology=topology, gateways=2, channels=channels, env={**kiosk.env(), **ivr.env()},
                          per_actor=f"{PER_ACTOR}/minute") as d:
        a, b = d.gateway(0), d.gateway(1)
        async with httpx.AsyncClient(timeout=30) as client:
            await _one_rate_limit(d, client, a, b)
            await _one_nonce_cache(client, kiosk, a, b)
            await _one_idempotency_store(d, client, a, b)
            await _one_call(client, ivr, a, b)
            await _one_delivery_each(d, client, a, b)


async def _one_rate_limit(d: Deployment, client: httpx.AsyncClient, a: GatewayProcess, b: GatewayProcess) -> None:
    headers = d.headers(DEMO_PEOPLE["chenjing"])  # someone of their own: the other parts file as 张伟
    statuses = [(await client.post((a if i % 2 else b).url + "/api/v1/fees/calculate", headers=headers,
                                   json={"case_type": "民初", "amount": "50000"})).status_code
                for i in range(PER_ACTOR + 6)]
    assert statuses == [200] * PER_ACTOR + [429] * 6, statuses


async def _one_nonce_cache(client: httpx.AsyncClient, kiosk: EfatingDriver, a: GatewayProcess,
                           b: GatewayProcess) -> None:
    body = b'{"case_type": "\\u6c11\\u521d", "amount": "50000"}'
    path = "/channels/efating/ops/fees.calculate"
    headers = signed_headers(kiosk.device_id, kiosk.key.encode(), "POST", a.url + path, body)
    assert kiosk.answer_of(await client.post(a.url + path, content=body, headers=headers)).ok
    replayed = kiosk.answer_of(await client.post(b.url + path, content=body, headers=headers))
    assert (replayed.ok, replayed.code) == (False, "REPLAYED_REQUEST")


async def _one_idempotency_store(d: Deployment, client: httpx.AsyncClient, a: GatewayProcess,
                                 b: GatewayProcess) -> None:
    headers = d.headers(key="two-gateways-1")
    first = await client.post(a.url + "/api/v1/filings", json=filing_args(), headers=headers)
    again = await client.post(b.url + "/api/v1/filings", json=filing_args(), headers=headers)
    assert first.status_code == 201 and again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = await client.post(b.url + "/api/v1/filings", json=filing_args(claims="另一诉请"), headers=headers)
    assert (changed.status_code, changed.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")

    d.fault("粤0106", "slow", seconds=1.0, count=1)
    headers = d.headers(key="two-gateways-2")
    slow, concurrent = await asyncio.gather(
        client.post(a.url + "/api/v1/filings", json=filing_args(), headers=headers),
        _after(0.3, client.post(b.url + "/api/v1/filings", json=filing_args(), headers=headers)),
    )
    assert slow.status_code == 201
    assert (concurrent.status_code, concurrent.json()["code"]) == (409, "IDEMPOTENCY_IN_PROGRESS")


async def _one_call(client: httpx.AsyncClient, ivr: Ivr12368Driver, a: GatewayProcess, b: GatewayProcess) -> None:
    on_a = ivr.phone(client, a.url, "13631415926")
    on_b = JsonPhone(client, f"{b.url}/channels/ivr12368/json", ivr.token, on_a.caller, call_id=on_a.call_id)
    assert (await on_a.start())["action"] == "collect"
    await on_b.press("1")
    assert "天河区人民法院" in (await on_a.press(COURT_DIGITS + "#"))["prompt"]
    await on_b.press(SERIAL + "#")
    progress = await on_a.press(PASSWORD + "#")  # verified on A with the court digits given on A, the serial on B
    assert progress["action"] == "play" and progress["data"]["case_no"] == CASE_NO
    assert (await on_a.hangup())["action"] == "hangup"
    assert (await on_b.press("1"))["error"] == "SESSION_EXPIRED"  # the call ended for both


async def _one_delivery_each(d: Deployment, client: httpx.AsyncClient, a: GatewayProcess, b: GatewayProcess) -> None:
    already = len(d.records("粤0106")["filings"])
    d.fault("粤0106", "unavailable_503")
    wf = DEMO_PEOPLE["wangfang"]  # within her own rate limit
    answers = [await client.post((a if i % 2 else b).url + "/api/v1/filings", json=filing_args(wf),
                                 headers=d.headers(wf, key=f"two-gateways-queued-{i}")) for i in range(20)]
    assert {answer.status_code for answer in answers} == {202}
    d.fault("粤0106", "ok")
    deadline = time.monotonic() + 30
    while len(d.records("粤0106")["filings"]) < already + 20:
        assert time.monotonic() < deadline, "queued writes not delivered"
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # time for a second, wrong delivery to show up, were there one
    assert len(d.records("粤0106")["filings"]) == already + 20


async def _after(delay: float, awaitable: object) -> httpx.Response:
    await asyncio.sleep(delay)
    answer: httpx.Response = await awaitable  # type: ignore[misc]
    return answer
