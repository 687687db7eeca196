"""A queued write on every channel: HTTP 200 with ``{"status": "queued", "delivery_id"}`` where the
result goes in the channel's envelope (the canonical API: 202), and the citizen can follow it on
the same channel until it is delivered.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.drivers import installed_drivers
from tests.reliability.support import ZW
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack
from workbench.drivers import ChannelDriver, Person

DRIVERS = installed_drivers(exclude=("ivr12368", "rcs5g"))  # their menus have no consultation
ZHANG = Person(ZW.name, ZW.id_number, phone=ZW.phone)
QUESTION = {"court": "粤0106", "topic": "立案咨询", "question": "网上立案需要哪些材料？"}


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with channel_stack(DRIVERS) as running:
        yield running


async def fault(stack: Stack, mode: str, count: int | None = None) -> None:
    body = {"court": "粤0106", "mode": mode, **({"count": count} if count else {})}
    async with httpx.AsyncClient(base_url=stack.court_root) as court:
        (await court.post("/_ref/faults", json=body)).raise_for_status()


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: d.channel)
async def test_a_queued_write_is_a_success_in_the_channels_envelope(stack: Stack, driver: ChannelDriver) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        session = await driver.sign_in(client, stack.gateway_url, ZHANG)
        await fault(stack, "unavailable_503", count=1)  # the write's own attempt: the court is down
        answer = await driver.call(client, stack.gateway_url, session, "consultations.create", QUESTION,
                                   "q-" + secrets.token_hex(6))
        assert answer.ok and answer.http_status == 200, answer.body
        assert answer.data["status"] == "queued" and answer.data["delivery_id"].startswith("d-")
        delivery_id = answer.data["delivery_id"]
        deadline = time.monotonic() + 20
        while True:
            shown = await driver.call(client, stack.gateway_url, session, "deliveries.get",
                                      {"delivery_id": delivery_id})
            assert shown.ok, shown.body
            if shown.data["status"] == "delivered":
                break
            assert time.monotonic() < deadline, shown.data
            await asyncio.sleep(0.2)
        assert shown.data["result"]["consultation_id"] and shown.data["court"] == "粤0106"


async def test_the_canonical_api_answers_a_queued_write_with_202(stack: Stack) -> None:
    token = stack.issuer.citizen({"name": ZW.name, "id_number": ZW.id_number})
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "q-" + secrets.token_hex(6)}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as client:
        await fault(stack, "unavailable_503")
        try:
            first = await client.post("/api/v1/consultations", json=QUESTION, headers=headers)
            again = await client.post("/api/v1/consultations", json=QUESTION, headers=headers)
        finally:
            await fault(stack, "ok")
    assert first.status_code == again.status_code == 202 and first.json()["status"] == "queued"
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
