"""Whatever channel a person used, a court event about their matter reaches them: one test per channel.

One stack with every built-in channel (real servers on loopback: the gateway and its background
jobs, the reference court posting signed events from its /_ref hooks, each channel's platform
stand-ins, the SMS stand-in). WeChat tells on its own push (subscribe messages); 粤省事, 穗好办,
the kiosks and the 12368 hotline have none, so their people are told by SMS.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from adapters.ivr12368.driver import Ivr12368Driver
from adapters.kiosk.driver import EfatingDriver, YuezhizhuDriver
from adapters.suihaoban.driver import SuihaobanDriver
from adapters.wechat.driver import WechatDriver
from adapters.yueshengshi.driver import YueshengshiDriver
from gateway.notify.standin import SmsStandIn
from reference_court.routing import court_slug
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.events.test_notifications import filing_args, settle
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack, serving
from workbench.drivers import ChannelDriver, Person, Session

COURT = "粤0106"
ZW = DEMO_PEOPLE["zhangwei"]
ZHANG = Person(ZW.name, ZW.id_number, phone=ZW.phone)
TRIAL = DEMO_CASES["zhangwei_yue0106_trial"]
CORRECTION_TEXT = "【广州法院】您提交的立案申请（编号{filing}）需要补正材料，请在原办理渠道查看补正要求并按期提交。"


@dataclass
class World:
    stack: Stack
    drivers: dict[str, ChannelDriver]
    sms: SmsStandIn
    http: httpx.AsyncClient

    async def sign_in(self, channel: str) -> Session:
        return await self.drivers[channel].sign_in(self.http, self.stack.gateway_url, ZHANG)

    async def call(self, channel: str, session: Session, operation: str, args: dict[str, Any]) -> Any:
        answer = await self.drivers[channel].call(self.http, self.stack.gateway_url, session, operation, args,
                                                  "k-" + secrets.token_hex(8))
        assert answer.ok, answer.body
        return answer.data

    async def hook(self, path: str, body: dict[str, Any]) -> None:
        response = await self.http.post(f"{self.stack.court_root}/_ref/{court_slug(COURT)}{path}", json=body)
        assert response.status_code == 200, response.text
        assert [e["delivery"] for e in response.json()["events"]] == ["delivered"]

    async def correction_requested(self, channel: str) -> str:
        """The person files on ``channel``; the court asks for corrections. Returns the filing id."""
        session = await self.sign_in(channel)
        filing = str((await self.call(channel, session, "filings.submit", filing_args(ZW)))["filing_id"])
        await self.hook(f"/filings/{filing}/advance", {"status": "CORRECTION_REQUIRED", "items": ["请补充借条原件"]})
        return filing

    def texts(self, template_code: str) -> list[str | None]:
        return [m.text for m in self.sms.messages if m.phone == ZW.phone and m.template_code == template_code]

    def pushes(self, template_id: str) -> list[dict[str, Any]]:
        wechat = self.drivers["wechat"]
        assert isinstance(wechat, WechatDriver)
        return [m for m in wechat.wechat.messages if m["template_id"] == template_id]


@pytest.fixture(scope="module")
async def world() -> AsyncIterator[World]:
    sms = SmsStandIn()
    drivers: list[ChannelDriver] = [WechatDriver(), YueshengshiDriver(), SuihaobanDriver(), EfatingDriver(),
                                    YuezhizhuDriver(), Ivr12368Driver()]
    async with serving(Starlette(routes=sms.routes())) as sms_url, \
            channel_stack(drivers, court_events=True, sms_url=sms_url) as stack, \
            httpx.AsyncClient(timeout=20) as http:
        yield World(stack, {driver.channel: driver for driver in drivers}, sms, http)


async def test_wechat_tells_a_correction_request_and_a_payment_on_its_own_push(world: World) -> None:
    filing = await world.correction_requested("wechat")
    await settle(lambda: any(m["data"]["character_string1"]["value"] == filing
                             for m in world.pushes("DEMO_FILING_CORRECTION_REQUIRED")))
    assert not [t for t in world.texts("GZCOURT_FILING_CORRECTION_REQUIRED") if t and filing in t]

    session = await world.sign_in("wechat")
    fees = await world.call("wechat", session, "payments.list", {"case_no": TRIAL})
    fee = next(f for f in fees["items"] if f["status"] in ("ASSESSED", "PENDING"))
    payment = await world.call("wechat", session, "payments.create", {"case_no": TRIAL, "fee_id": fee["fee_id"]})
    await world.hook(f"/payments/{payment['payment_id']}/confirm", {})
    await settle(lambda: len(world.pushes("DEMO_PAYMENT_CONFIRMED")) >= 1)
    [push] = world.pushes("DEMO_PAYMENT_CONFIRMED")
    assert push["touser"] == session.values["openid"] and push["data"]["thing1"]["value"] == TRIAL
    assert push["data"]["amount2"]["value"].endswith("元")


@pytest.mark.parametrize("channel", ["yueshengshi", "suihaoban", "efating", "yuezhizhu"])
async def test_a_channel_without_push_tells_a_correction_request_by_sms(world: World, channel: str) -> None:
    filing = await world.correction_requested(channel)
    expected = CORRECTION_TEXT.format(filing=filing)
    await settle(lambda: expected in world.texts("GZCOURT_FILING_CORRECTION_REQUIRED"))
    assert world.texts("GZCOURT_FILING_CORRECTION_REQUIRED").count(expected) == 1


async def test_a_12368_caller_hears_of_the_judges_reply_by_sms(world: World) -> None:
    session = await world.sign_in("ivr12368")
    asked = await world.call("ivr12368", session, "judge_messages.send", {"case_no": TRIAL})
    await world.hook(f"/cases/{quote(TRIAL, safe='')}/judge-messages/{asked['message_id']}/reply",
                     {"text": "已收到，将于明日回电。"})
    expected = f"【广州法院】您就案件{TRIAL}的留言法官已回复，请在原办理渠道查看。"
    await settle(lambda: expected in world.texts("GZCOURT_JUDGE_MESSAGE_REPLIED"))
    assert world.texts("GZCOURT_JUDGE_MESSAGE_REPLIED") == [expected]
