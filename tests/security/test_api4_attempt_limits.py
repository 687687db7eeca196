"""OWASP API4:2023: sign-in, real-name, face and password attempts are limited per client and per
device (QUALITY.md security item 4), each refusal in the channel's own format and HTTP status.

Issue 14, finding 9 (WeChat /login and kiosk face checks had no per-client limit): both tests fail on
f0109a2 (the settings did not exist and every attempt went upstream) and pass now. Password attempts
are test_api2_ivr_password_guessing.py; real-name checks per account are tests/adapters/wechat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from adapters.kiosk.driver import EfatingDriver
from adapters.kiosk.standins import card_read
from adapters.wechat.driver import WechatDriver, login_code_for
from reference_court.seed import DEMO_PEOPLE
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack
from workbench.drivers import Person

WECHAT = WechatDriver(login_attempts_per_client="3/minute")
EFATING = EfatingDriver(face_checks_per_device="4/minute", face_checks_per_card="2/hour")
ZW, WF = DEMO_PEOPLE["zhangwei"], DEMO_PEOPLE["wangfang"]


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with channel_stack([WECHAT, EFATING]) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


async def test_wechat_sign_ins_are_limited_per_client(stack: Stack, client: httpx.AsyncClient) -> None:
    url = f"{stack.gateway_url}/channels/wechat/login"
    logins_before = WECHAT.wechat.logins
    answers = [await client.post(url, json={"code": login_code_for(Person(ZW.name, ZW.id_number))})
               for _ in range(4)]
    assert [a.json()["errcode"] for a in answers] == [0, 0, 0, 42901]
    assert answers[-1].status_code == 200 and int(answers[-1].headers["retry-after"]) >= 1
    assert WECHAT.wechat.logins - logins_before == 3  # the refused one never reached WeChat


def _read(person: Any) -> dict[str, Any]:
    return card_read(person.name, person.id_number)


async def test_kiosk_face_checks_are_limited_per_card_and_per_device(stack: Stack, client: httpx.AsyncClient) -> None:
    opened = [await EFATING.open_session(client, stack.gateway_url, _read(ZW)) for _ in range(3)]
    assert [r.status_code for r in opened] == [200, 200, 429]
    assert opened[-1].json()["code"] == "RATE_LIMITED" and "retry-after" in opened[-1].headers
    # another card at the same terminal: the card's limit is its own, the terminal's is shared
    other = [await EFATING.open_session(client, stack.gateway_url, _read(WF)) for _ in range(2)]
    assert [r.status_code for r in other] == [200, 429]  # the terminal's 4 a minute are used up
    assert other[-1].json()["code"] == "RATE_LIMITED"
