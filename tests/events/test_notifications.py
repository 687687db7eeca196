"""Citizens hear about their matters on the channel they used, once per event, end to end.

Real servers on loopback: the gateway (with its background jobs), the reference court posting its
signed events when its /_ref hooks move a filing along, the WeChat stand-ins, the provincial IdP
stand-in and the SMS stand-in. Run over memory and over a private redis-server.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from adapters.wechat.driver import WechatDriver
from adapters.yueshengshi.driver import YueshengshiDriver
from gateway.domain.courts import court_env_suffix
from gateway.notify.standin import SmsStandIn
from gateway.sla.timers import timer_id
from reference_court.events import encode_event, sign_event
from reference_court.routing import court_slug
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.support.channel_stack import channel_stack
from tests.support.stack import RedisServer, Stack, serving
from workbench.drivers import ChannelDriver, Person, Session

COURT = "粤0106"
ZW, WF, CZQ, CJ = (DEMO_PEOPLE[key] for key in ("zhangwei", "wangfang", "chenzhiqiang", "chenjing"))
TRIAL = DEMO_CASES["zhangwei_yue0106_trial"]


@dataclass
class World:
    stack: Stack
    wechat: WechatDriver
    yss: YueshengshiDriver
    sms: SmsStandIn
    http: httpx.AsyncClient

    def person(self, key: str) -> Person:
        demo = DEMO_PEOPLE[key]
        return Person(demo.name, demo.id_number, phone=demo.phone)

    async def sign_in(self, driver: ChannelDriver, key: str) -> Session:
        return await driver.sign_in(self.http, self.stack.gateway_url, self.person(key))

    async def call(self, driver: ChannelDriver, session: Session, operation: str, args: dict[str, Any]) -> Any:
        answer = await driver.call(self.http, self.stack.gateway_url, session, operation, args, secrets.token_hex(8))
        assert answer.ok, answer.body
        return answer.data

    async def hook(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"{self.stack.court_root}/_ref/{court_slug(COURT)}{path}", json=body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        assert [e["delivery"] for e in answer["events"]] == ["delivered"] * len(answer["events"])
        return answer

    async def advance(self, filing_id: str, status: str, **extra: Any) -> dict[str, Any]:
        answer = await self.hook(f"/filings/{filing_id}/advance", {"status": status, **extra})
        event: dict[str, Any] = answer["events"][0]["event"]
        return event

    async def resend(self, event: dict[str, Any]) -> str:
        """The court delivers the same event again (a retry after a lost answer)."""
        body = encode_event(event)
        secret = self.stack.env[f"COURT_{court_env_suffix(COURT)}_EVENT_SECRET"]
        response = await self.http.post(f"{self.stack.gateway_url}/internal/v1/events", content=body,
                                        headers={"X-Court-Signature": sign_event(secret, body)})
        return str(response.json()["status"])

    def pushes(self, template: str) -> list[dict[str, Any]]:
        return [m for m in self.wechat.wechat.messages if m.get("template_id") == template]

    def texts(self, phone: str, event_code: str) -> list[str | None]:
        return [m.text for m in self.sms.messages if m.phone == phone and m.template_code == event_code]


@pytest.fixture(scope="module", params=["memory", "redis"])
async def world(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[World]:
    state = "memory" if request.param == "memory" else redis_server.url
    if request.param == "redis":
        redis_server.flush()
    sms = SmsStandIn()
    wechat, yss = WechatDriver(), YueshengshiDriver()
    async with serving(Starlette(routes=sms.routes())) as sms_url, \
            channel_stack([wechat, yss], state=state, court_events=True, sms_url=sms_url) as stack, \
            httpx.AsyncClient(timeout=20) as http:
        yield World(stack, wechat, yss, sms, http)


async def settle(check: Callable[[], bool], timeout_s: float = 8.0) -> None:
    """Wait for the notification worker (it polls every second), then a little longer, so that a
    second copy, if the gateway were to send one, would have arrived too."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the notification did not arrive")
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)


def filing_args(person: Any, **extra: Any) -> dict[str, Any]:
    return {"court": COURT, "case_type": "民初", "cause": "民间借贷纠纷",
            "plaintiffs": [{"kind": "person", "name": person.name, "id_type": "ID_CARD", "id_number": person.id_number,
                            **extra}],
            "defendants": [{"kind": "person", "name": "刘洋", "id_type": "ID_CARD",
                            "id_number": DEMO_PEOPLE["liuyang"].id_number}],
            "claims": "判令被告偿还借款本金50000元", "facts": "被告借款到期未还。", "documents": []}


async def test_the_wechat_filer_is_told_about_a_correction_request(world: World) -> None:
    session = await world.sign_in(world.wechat, "zhangwei")
    openid = session.values["openid"]
    filing = (await world.call(world.wechat, session, "filings.submit", filing_args(ZW, phone=ZW.phone)))["filing_id"]

    received = await world.advance(filing, "UNDER_REVIEW")
    await settle(lambda: len(world.pushes("DEMO_FILING_RECEIVED")) >= 1)
    [push] = [m for m in world.pushes("DEMO_FILING_RECEIVED") if m["touser"] == openid]
    assert push["data"]["character_string1"]["value"] == filing

    correction = await world.advance(filing, "CORRECTION_REQUIRED", items=["请补充提交借条原件照片"])
    await settle(lambda: len(world.pushes("DEMO_FILING_CORRECTION_REQUIRED")) >= 1)
    [push] = world.pushes("DEMO_FILING_CORRECTION_REQUIRED")
    assert push["touser"] == openid and push["page"] == "pages/filing/detail"
    assert push["data"] == {"character_string1": {"value": filing}, "thing2": {"value": "请补充提交借条原件照片"},
                            "thing3": {"value": "请进入小程序按要求补正材料"}}
    # Told on WeChat, so not by SMS as well.
    assert world.texts(ZW.phone, "GZCOURT_FILING_RECEIVED") == []
    assert world.texts(ZW.phone, "GZCOURT_FILING_CORRECTION_REQUIRED") == []

    reviewed = await world.advance(filing, "ACCEPTED")
    await settle(lambda: len(world.pushes("DEMO_FILING_REVIEWED")) >= 1)
    [push] = [m for m in world.pushes("DEMO_FILING_REVIEWED") if m["touser"] == openid]
    assert push["data"]["character_string1"]["value"] == filing
    assert push["data"]["phrase2"]["value"] == "审核通过"

    # The court sends the events again: nothing reaches anybody twice.
    resent = [await world.resend(event) for event in (received, correction, reviewed)]
    assert resent == ["duplicate"] * 3
    await asyncio.sleep(1.5)
    assert [len(world.pushes("DEMO_FILING_" + name)) for name in ("RECEIVED", "CORRECTION_REQUIRED", "REVIEWED")] \
        == [1, 1, 1]
    assert world.texts(ZW.phone, "GZCOURT_FILING_REVIEWED") == []

    # Docketed: the filer follows the new case, so its hearing reaches them on WeChat too.
    docketed = await world.advance(filing, "DOCKETED")
    await settle(lambda: len(world.pushes("DEMO_FILING_DOCKETED")) >= 1)
    case_no = docketed["data"]["case_no"]
    await world.hook(f"/cases/{quote(case_no, safe='')}/hearings",
                     {"at": "2026-12-21T09:30:00+08:00", "place": "天河法院第三法庭", "mode": "in_person"})
    await settle(lambda: len(world.pushes("DEMO_HEARING_SCHEDULED")) >= 1)
    [hearing] = world.pushes("DEMO_HEARING_SCHEDULED")
    assert hearing["touser"] == openid and hearing["data"]["thing1"]["value"] == case_no


async def test_a_wechat_filer_who_refused_subscriptions_gets_the_correction_request_by_sms(world: World) -> None:
    session = await world.sign_in(world.wechat, "chenjing")
    world.wechat.wechat.refusing.add(session.values["openid"])  # 43101: no subscription accepted
    filing = (await world.call(world.wechat, session, "filings.submit", filing_args(CJ, phone=CJ.phone)))["filing_id"]
    await world.advance(filing, "CORRECTION_REQUIRED", items=["请补充提交借条原件照片"])
    await settle(lambda: len(world.texts(CJ.phone, "GZCOURT_FILING_CORRECTION_REQUIRED")) >= 1)
    assert world.texts(CJ.phone, "GZCOURT_FILING_CORRECTION_REQUIRED") == [
        f"【广州法院】您提交的立案申请（编号{filing}）需要补正材料，请在原办理渠道查看补正要求并按期提交。"]
    assert not [m for m in world.wechat.wechat.messages if m["touser"] == session.values["openid"]]


async def test_a_yueshengshi_filer_is_told_by_sms_once(world: World) -> None:
    session = await world.sign_in(world.yss, "wangfang")
    filing = (await world.call(world.yss, session, "filings.submit", filing_args(WF)))["filing_id"]
    pushes_before = len(world.wechat.wechat.messages)
    rejected = await world.advance(filing, "REJECTED", reason="不属于本院管辖")
    await settle(lambda: len(world.texts(WF.phone, "GZCOURT_FILING_REVIEWED")) >= 1)
    assert world.texts(WF.phone, "GZCOURT_FILING_REVIEWED") == [
        f"【广州法院】您提交的立案申请（编号{filing}）审查结果：审核不通过。详情请在原办理渠道查看。"]
    assert await world.resend(rejected) == "duplicate"
    await asyncio.sleep(1.5)
    assert len(world.texts(WF.phone, "GZCOURT_FILING_REVIEWED")) == 1
    assert len(world.wechat.wechat.messages) == pushes_before  # 粤省事 has no push: nothing went to WeChat
    assert len([m for m in world.sms.messages if m.phone == WF.phone]) == 1


async def test_a_judges_reply_reaches_the_agent_who_asked_and_stops_its_timer(world: World) -> None:
    session = await world.sign_in(world.yss, "chenzhiqiang")
    sent = await world.call(world.yss, session, "judge_messages.send", {"case_no": TRIAL, "text": "请问何时开庭？"})
    message_id = sent["message_id"]
    runtime = world.stack.host.runtime
    assert runtime is not None
    timer = await runtime.sla.timers.get(timer_id(COURT, "message_id", message_id))
    assert timer is not None and timer.status == "running" and timer.counting == "working"
    await world.hook(f"/cases/{quote(TRIAL, safe='')}/judge-messages/{message_id}/reply", {"text": "已排期，请留意通知。"})
    await settle(lambda: len(world.texts(CZQ.phone, "GZCOURT_JUDGE_MESSAGE_REPLIED")) >= 1)
    assert world.texts(CZQ.phone, "GZCOURT_JUDGE_MESSAGE_REPLIED") == [
        f"【广州法院】您就案件{TRIAL}的留言法官已回复，请在原办理渠道查看。"]
    stopped = await runtime.sla.timers.get(timer.id)
    assert stopped is not None and (stopped.status, stopped.end_reason) == ("stopped", "judge_message.replied")
