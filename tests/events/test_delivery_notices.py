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
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from adapters.wechat.driver import WechatDriver
from adapters.yueshengshi.driver import YueshengshiDriver
from gateway.notify.standin import SmsStandIn
from reference_court.routing import court_slug
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.events.test_notifications import filing_args, settle
from tests.support.channel_stack import channel_stack
from tests.support.stack import RedisServer, Stack, serving
from workbench.drivers import ChannelDriver, Person, Session

ZW, WF = DEMO_PEOPLE["zhangwei"], DEMO_PEOPLE["wangfang"]
TRIAL = DEMO_CASES["zhangwei_yue0106_trial"]


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
        return await self.queued(driver, session, "filings.submit", args)

    async def queued(self, driver: ChannelDriver, session: Session, operation: str, args: dict[str, Any]) -> str:
        """Write while the court is down for one request: the answer is a queued write's delivery id."""
        fault = {"court": "粤0106", "mode": "unavailable_503", "count": 1}
        (await self.http.post(f"{self.stack.court_root}/_ref/faults", json=fault)).raise_for_status()
        answer = await driver.call(self.http, self.stack.gateway_url, session, operation, args,
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
            channel_stack([wechat, yss], state=state, sms_url=sms_url, court_events=True) as stack, \
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
    await settle(lambda: any(delivery_id in (text or "") for text in world.texts(WF.phone)), timeout_s=20)
    await asyncio.sleep(1.0)  # the deliverer and the dispatcher had every chance to tell it twice
    assert [text for text in world.texts(WF.phone) if text and delivery_id in text] == [
        f"【广州法院】您提交的网上立案（受理编号{delivery_id}）转交天河区人民法院的结果：法院已接收。详情请在原办理渠道查看。"]


async def test_a_queued_write_the_court_refuses_is_told_and_its_case_is_not_followed(world: World) -> None:
    """王芳 is no party to 张伟's case. The court is down when she writes to its judge, so her
    participant check waits for delivery, where it fails: she is told the write did not go
    through, and she does not hear of the case's hearing afterwards."""
    session = await world.sign_in(world.yss, "wangfang")
    delivery_id = await world.queued(world.yss, session, "judge_messages.send", {"case_no": TRIAL, "text": "何时开庭？"})
    def notices() -> list[str | None]:
        return [text for text in world.texts(WF.phone) if text and delivery_id in text]

    await settle(lambda: len(notices()) >= 1, timeout_s=20)
    assert notices() == [
        f"【广州法院】您提交的联系法官（受理编号{delivery_id}）转交天河区人民法院的结果：转交未成功。详情请在原办理渠道查看。"]
    hearing = {"at": "2026-12-22T09:30:00+08:00", "place": "天河法院第五法庭", "mode": "in_person"}
    response = await world.http.post(
        f"{world.stack.court_root}/_ref/{court_slug('粤0106')}/cases/{quote(TRIAL, safe='')}/hearings", json=hearing)
    assert response.status_code == 200 and response.json()["events"][0]["delivery"] == "delivered"
    await asyncio.sleep(2.5)  # the dispatcher polls every second: a notice to her would have gone out
    assert [m for m in world.sms.messages if m.phone == WF.phone and m.template_code != "GZCOURT_DELIVERY_FINISHED"] \
        == []


async def test_a_queued_write_on_a_case_makes_its_author_follow_the_case_once_delivered(world: World) -> None:
    session = await world.sign_in(world.wechat, "zhangwei")
    openid = session.values["openid"]
    delivery_id = await world.queued(world.wechat, session, "judge_messages.send", {"case_no": TRIAL, "text": "请问案件进度"})
    await settle(lambda: any(m["data"].get("character_string3", {}).get("value") == delivery_id
                             for m in world.wechat.wechat.messages if m["touser"] == openid), timeout_s=20)
    hearing = {"at": "2026-12-23T14:30:00+08:00", "place": "天河法院第七法庭", "mode": "in_person"}
    response = await world.http.post(
        f"{world.stack.court_root}/_ref/{court_slug('粤0106')}/cases/{quote(TRIAL, safe='')}/hearings", json=hearing)
    assert response.status_code == 200

    def told() -> list[dict[str, Any]]:
        return [m for m in world.wechat.wechat.messages if m["template_id"] == "DEMO_HEARING_SCHEDULED"
                and m["touser"] == openid and m["data"]["thing3"]["value"] == "天河法院第七法庭"]

    await settle(lambda: len(told()) >= 1)
    assert len(told()) == 1
