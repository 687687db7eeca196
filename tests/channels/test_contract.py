"""The table-driven contract every channel keeps, whatever its wire format.

For each installed channel: a good request decodes to the canonical call and
its data equals the canonical result; and each failure of the table below
comes back in the channel's own format, with the stable code, never a 500.
Signature, replay and session details are channel-specific and tested in each
adapter's own tests.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.drivers import installed_drivers
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack
from workbench.drivers import ChannelDriver, Person

CASE = DEMO_CASES["zhangwei_yue0106_trial"]
ZHANG = Person(DEMO_PEOPLE["zhangwei"].name, DEMO_PEOPLE["zhangwei"].id_number,
               phone=DEMO_PEOPLE["zhangwei"].phone)
DRIVERS = installed_drivers(exclude=("ivr12368", "rcs5g"))
# Every channel may offer everything but hearings.join; the per-person limit is small so the
# table can reach it.
OVERRIDES = {
    "services": [op for op in __import__("gateway.catalog", fromlist=["BY_ID"]).BY_ID if op != "hearings.join"],
    "rate_limits": {"per_actor": "12/minute", "per_channel": "2000/second"},
}


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with channel_stack(DRIVERS, channel_overrides=OVERRIDES) as running:
        yield running


async def set_fault(stack: Stack, mode: str, **extra: Any) -> None:
    async with httpx.AsyncClient(base_url=stack.court_root) as court:
        answer = await court.post("/_ref/faults", json={"court": "粤0106", "mode": mode, **extra})
        assert answer.status_code == 200, answer.text


CASES: list[tuple[str, str, dict[str, Any], str | None, str]] = [
    # (name, operation, arguments, fault at the court, expected code)
    ("unknown operation", "cases.nonsense", {}, None, "NOT_FOUND"),
    ("bad arguments", "judge_messages.send", {"case_no": CASE, "text": ""}, None, "VALIDATION_FAILED"),
    ("mass assignment", "judge_messages.send", {"case_no": CASE, "text": "x", "status": "REPLIED"}, None,
     "VALIDATION_FAILED"),
    ("bad case number", "cases.progress", {"case_no": "粤0106民初1号"}, None, "INVALID_CASE_NUMBER"),
    ("unknown court", "cases.progress", {"case_no": "（2026）粤0199民初1号"}, None, "NOT_FOUND"),
    ("service not offered", "hearings.join", {"case_no": CASE, "hearing_id": "h"}, None, "SERVICE_NOT_ENABLED"),
    ("court down", "templates.list", {"court": "粤0106"}, "unavailable_503", "BACKEND_UNAVAILABLE"),
    ("court malformed", "templates.list", {"court": "粤0106"}, "malformed", "BACKEND_UNAVAILABLE"),
    ("court answers 10 MB", "templates.list", {"court": "粤0106"}, "huge", "BACKEND_UNAVAILABLE"),
    ("court redirects", "templates.list", {"court": "粤0106"}, "redirect", "BACKEND_UNAVAILABLE"),
]


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: d.channel)
async def test_a_good_request_equals_the_canonical_result(stack: Stack, driver: ChannelDriver) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        session = await driver.sign_in(client, stack.gateway_url, ZHANG)
        answer = await driver.call(client, stack.gateway_url, session, "fees.calculate",
                                   {"case_type": "民初", "amount": "200000"})
        canonical = await client.post("/api/v1/fees/calculate", json={"case_type": "民初", "amount": "200000"})
    assert answer.ok and answer.http_status == 200
    assert answer.data == canonical.json()


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: d.channel)
@pytest.mark.parametrize(("name", "operation", "args", "fault", "code"), CASES, ids=[c[0] for c in CASES])
async def test_failures_come_back_in_the_channels_format(
    stack: Stack, driver: ChannelDriver, name: str, operation: str, args: dict[str, Any], fault: str | None,
    code: str,
) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        session = await driver.sign_in(client, stack.gateway_url, ZHANG)
        if fault:
            await set_fault(stack, fault, count=1)
        key = "k-" + secrets.token_hex(6) if operation in ("judge_messages.send", "hearings.join") else None
        answer = await driver.call(client, stack.gateway_url, session, operation, args, key)
    assert not answer.ok and answer.code == code, (name, answer.http_status, answer.body)
    assert answer.http_status < 500 or code in ("BACKEND_UNAVAILABLE", "SERVICE_UNAVAILABLE", "BACKEND_TIMEOUT")


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: d.channel)
async def test_the_per_person_rate_limit(stack: Stack, driver: ChannelDriver) -> None:
    person = Person(DEMO_PEOPLE["liuyang"].name, DEMO_PEOPLE["liuyang"].id_number, phone=DEMO_PEOPLE["liuyang"].phone)
    codes = []
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        session = await driver.sign_in(client, stack.gateway_url, person)
        for _ in range(14):
            answer = await driver.call(client, stack.gateway_url, session, "courts.list", {})
            codes.append(answer.code)
    assert codes[-1] == "RATE_LIMITED" and codes.count("RATE_LIMITED") <= 3
