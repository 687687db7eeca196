"""A queued write finally delivered is told to the person who made it, once, end to end.

Real servers on loopback: the gateway with its background jobs (the deliverer and the notification
dispatcher), the reference court made to refuse one attempt (503) so the write is queued, the
WeChat and 粤省事 stand-ins and the SMS stand-in. Run over memory and over a private redis-server.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.notify.standin import SmsStandIn
from reference_court.seed import DEMO_PEOPLE
from tests.drivers.wechat import WechatDriver
from tests.drivers.yueshengshi import YueshengshiDriver
from tests.events.test_notifications import filing_args, settle
from tests.support.channel_stack import channel_stack
from tests.support.stack import RedisServer, Stack, serving
from workbench.drivers import ChannelDriver, Person, Session

ZW, WF = DEMO_PEOPLE["zhangwei"], DEMO_PEOPLE["wangfang"]


@dataclass
class World:
    stack: Stack
    wechat: WechatDriver
    yss: YueshengshiDriver
    sms: SmsStandIn
    http: httpx.AsyncClient

    async def sign_in(self, driver: ChannelDriver, key: str) -> Session:
        demo = DEMO_PEOPLE[key]
        return await driver.sign_in(self.http, self.stack.gateway_url, Person(demo.name, demo.id_number,
                                                                               phone=demo.phone))

    async def queued_filing(self, driver: ChannelDriver, session: Session, args: dict[str, Any]) -> str:
        """File while the court is down for one request: the answer is a queued write's delivery id."""
        fault = {"court": "粤0106", "mode": "unavailable_503", "count": 1}
        (await self.http.post(f"{self.stack.court_root}/_ref/faults", json=fault)).raise_for_status()
        answer = await driver.call(self.http, self.stack.gateway_url, session, "filings.submit", args,
                                   "f-" + secrets.token_hex(6))
        assert answer.ok and answer.data["status"] == "queued", answer.body
        return str(answer.data["delivery_id"])

    def texts(self, phone: str) -> list[str | None]:
        return [m.text for m in self.sms.messages if m.phone == phone and m.template_code == "GZCOURT_DELIVERY_FINISHED"]


@pytest.fixture(scope="module", params=["memory", "redis"])
async def world(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[World]:
    state = "memory" if request.param == "memory" else redis_server.url
    if request.param == "redis":
        redis_server.flush()
    sms = SmsStandIn()
    wechat, yss = WechatDriver(), YueshengshiDriver()
    async with serving(Starlette(routes=sms.routes())) as sms_url, \
            channel_stack([wechat, yss], state=state, sms_url=sms_url) as stack, \
            httpx.AsyncClient(timeout=20) as http:
        yield World(stack, wechat, yss, sms, http)


async def test_a_queued_filings_final_delivery_is_told_to_the_wechat_filer(world: World) -> None:
    session = await world.sign_in(world.wechat, "zhangwei")
    openid = session.values["openid"]
    delivery_id = await world.queued_filing(world.wechat, session, filing_args(ZW, phone=ZW.phone))

    def notices() -> list[dict[str, Any]]:
        return [m for m in world.wechat.wechat.messages
                if m["template_id"] == "DEMO_DELIVERY_FINISHED" and m["touser"] == openid]

    await settle(lambda: len(notices()) >= 1, timeout_s=20)
    assert [m["data"] for m in notices()] == [{"thing1": {"value": "网上立案"}, "phrase2": {"value": "法院已接收"},
                                               "character_string3": {"value": delivery_id}}]
    assert world.texts(ZW.phone) == []  # told on WeChat, not by SMS as well


async def test_a_queued_filings_final_delivery_is_told_by_sms_on_a_channel_without_push(world: World) -> None:
    session = await world.sign_in(world.yss, "wangfang")
    delivery_id = await world.queued_filing(world.yss, session, filing_args(WF))
    await settle(lambda: len(world.texts(WF.phone)) >= 1, timeout_s=20)
    await asyncio.sleep(1.0)  # the deliverer and the dispatcher had every chance to tell it twice
    assert world.texts(WF.phone) == [
        f"【广州法院】您提交的网上立案（受理编号{delivery_id}）转交天河区人民法院的结果：法院已接收。详情请在原办理渠道查看。"]
