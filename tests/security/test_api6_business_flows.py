"""OWASP API6:2023 Unrestricted access to sensitive business flows (QUALITY.md security item 6): bulk
case lookups and repeated payment starts are limited per person, on every channel, as RATE_LIMITED in
the channel's own format and HTTP status (a channel's ``rate_limits.per_actor``).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.drivers import installed_drivers
from tests.security.conftest import MENU_BOUND
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack
from workbench.drivers import ChannelDriver, Person

PER_PERSON = 4
DRIVERS: list[ChannelDriver] = [d for d in installed_drivers() if d.adapter not in MENU_BOUND]
CASE = DEMO_CASES["zhangwei_yue0106_trial"]
ZW = DEMO_PEOPLE["zhangwei"]
RATE_LIMITED_RAW = {"wechat": 42901, "yueshengshi": 4001, "suihaoban": "4290", "efating": "RATE_LIMITED",
                    "yuezhizhu": "RATE_LIMITED"}


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    limits = {"rate_limits": {"per_actor": f"{PER_PERSON}/minute", "per_channel": "1000/second"}}
    async with channel_stack(DRIVERS, channel_overrides=limits) as running:
        yield running


@pytest.mark.parametrize("flow", ["cases.progress", "payments.create"])
@pytest.mark.parametrize("channel", [d.channel for d in DRIVERS])
async def test_a_person_cannot_run_a_flow_in_bulk(stack: Stack, channel: str, flow: str) -> None:
    d = next(d for d in DRIVERS if d.channel == channel)
    async with httpx.AsyncClient(timeout=30) as client:
        session = await d.sign_in(client, stack.gateway_url, Person(ZW.name, ZW.id_number))
        codes = []
        for _ in range(PER_PERSON + 1):
            args = {"case_no": CASE} if flow == "cases.progress" else {"case_no": CASE, "fee_id": "FY-no-such"}
            key = "k-" + secrets.token_hex(6) if flow == "payments.create" else None
            answer = await d.call(client, stack.gateway_url, session, flow, args, key)
            codes.append(answer.code)
    # one person: the sign-in itself may have used part of the budget on channels that count it
    assert "RATE_LIMITED" in codes and codes[-1] == "RATE_LIMITED"
    raw = answer.body.get("errcode", answer.body.get("code", answer.body.get("resultCode", answer.body.get(
        "errorCode"))))
    if channel in RATE_LIMITED_RAW:  # the built-in channels' own wire codes
        assert raw == RATE_LIMITED_RAW[channel]
        assert answer.http_status == (429 if channel in ("efating", "yuezhizhu") else 200)
    else:  # an adapter installed from another package: its driver knows its wire contract
        assert answer.http_status == d.error_http_status("RATE_LIMITED")
