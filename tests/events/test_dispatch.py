"""The notification dispatcher's choices: push, SMS fallback, retries, channel preferences, once."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal, cast

import pytest

from gateway.actor import Actor
from gateway.channels import Adapter
from gateway.config import ChannelSettings
from gateway.errors import ErrorCode, GatewayError
from gateway.events import CourtEvent
from gateway.notify import SmsResult
from gateway.notify.dispatch import RETRY_PAUSES_S, NotificationDispatcher, NotificationQueue, sms_params
from gateway.notify.routes import NotificationRoutes, Route, route_key
from gateway.notify.templates import render, template_text
from gateway.resilience.deliverer import DeliveryReport
from gateway.resilience.follow import following
from gateway.state.memory import MemoryState

PHONE = "13631415926"


class FakeChannel:
    """A channel adapter's push: answers from a script (True, False or an exception)."""

    def __init__(self, *answers: bool | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[Actor, str, dict[str, Any]]] = []

    async def notify(self, actor: Actor, event: str, data: dict[str, Any]) -> bool:
        self.calls.append((actor, event, data))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeSms:
    def __init__(self) -> None:
        self.sent: dict[str, tuple[str, str, Mapping[str, object]]] = {}

    async def sms(self, phone: str, event: str, params: Mapping[str, object], out_id: str) -> SmsResult:
        if out_id in self.sent:
            return SmsResult("duplicate", out_id, reason="sent")
        self.sent[out_id] = (phone, event, params)
        return SmsResult("sent", out_id, 1, attempts=1)


def reviewed(event_id: str = "evt-1", filing: str = "LA-1") -> CourtEvent:
    return CourtEvent(event_id, "filing.reviewed", "粤0106", time.time(),
                      {"filing_id": filing, "status": "REJECTED", "reason": "不属于本院管辖"})


async def world(route: Route, channel: FakeChannel | None = None,
                settings: Mapping[str, ChannelSettings] | None = None) -> tuple[NotificationDispatcher, FakeSms,
                                                                               NotificationQueue]:
    state = MemoryState()
    routes = NotificationRoutes(state, route_key(b"g" * 32))
    await routes.remember_item("粤0106", "filing_id", "LA-1", route)
    sms = FakeSms()
    adapters = {"wechat": cast(Adapter, channel)} if channel is not None else {}
    dispatcher = NotificationDispatcher(state, routes, adapters, settings or {}, sms, {"粤0106": "天河区人民法院"})
    return dispatcher, sms, NotificationQueue(state)


async def test_a_push_that_works_is_the_only_notice() -> None:
    channel = FakeChannel(True)
    dispatcher, sms, queue = await world(Route("wechat", "p_1", "L2", PHONE, "openid-1"), channel)
    await queue.enqueue(reviewed())
    await queue.enqueue(reviewed())  # queued twice: still one event
    assert await dispatcher.tick(time.time()) == 1
    assert [(a.account, e) for a, e, _ in channel.calls] == [("openid-1", "filing.reviewed")]
    assert sms.sent == {} and await dispatcher.tick(time.time() + 3600) == 0


async def test_a_channel_that_cannot_reach_the_person_falls_back_to_sms() -> None:
    dispatcher, sms, queue = await world(Route("wechat", "p_1", "L2", PHONE, "openid-1"), FakeChannel(False))
    await queue.enqueue(reviewed())
    await dispatcher.tick(time.time())
    [(phone, event, params)] = sms.sent.values()
    assert (phone, event, params["result"], params["filing_id"]) == (PHONE, "filing.reviewed", "审核不通过", "LA-1")


async def test_a_push_service_that_is_down_is_tried_again_then_sms_is_used() -> None:
    down = GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "wechat down")
    channel = FakeChannel(down)
    dispatcher, sms, queue = await world(Route("wechat", "p_1", "L2", PHONE, "openid-1"), channel)
    await queue.enqueue(reviewed())
    now = time.time()
    assert await dispatcher.tick(now) == 1 and sms.sent == {}
    assert await dispatcher.tick(now + 1) == 0  # not before its pause
    for pause in RETRY_PAUSES_S:
        now += pause + 1
        assert await dispatcher.tick(now) == 1
    assert len(channel.calls) == len(RETRY_PAUSES_S) + 1
    assert len(sms.sent) == 1 and await dispatcher.tick(now + 10_000) == 0


async def test_a_channel_that_does_not_want_the_event_tells_nobody() -> None:
    quiet = ChannelSettings.model_validate({"notify": {"events": ["hearing.scheduled"]}})
    channel = FakeChannel(True)
    dispatcher, sms, queue = await world(Route("wechat", "p_1", "L2", PHONE, "openid-1"), channel,
                                         {"wechat": quiet})
    await queue.enqueue(reviewed())
    await dispatcher.tick(time.time())
    assert channel.calls == [] and sms.sent == {}


@pytest.mark.parametrize("phone", [PHONE, None])
async def test_a_channel_without_push_uses_sms_when_there_is_a_phone(phone: str | None) -> None:
    dispatcher, sms, queue = await world(Route("yueshengshi", "p_1", "L2", phone, None))
    await queue.enqueue(reviewed())
    await dispatcher.tick(time.time())
    assert len(sms.sent) == (1 if phone else 0)


async def test_an_adapter_bug_still_leaves_the_citizen_an_sms() -> None:
    dispatcher, sms, queue = await world(Route("wechat", "p_1", "L2", PHONE, "o"), FakeChannel(RuntimeError("bug")))
    await queue.enqueue(reviewed())
    await dispatcher.tick(time.time())
    assert len(sms.sent) == 1


def test_sms_parameters_in_chinese() -> None:
    hearing = CourtEvent("e", "hearing.scheduled", "粤0106", 0.0, {
        "case_no": "（2026）粤0106民初1号", "hearing_id": "H", "at": "2026-12-21T01:30:00Z", "place": "第三法庭",
        "mode": "in_person"})
    params = sms_params(hearing, "天河区人民法院")
    assert (params["at"], params["place"], params["case_no"]) == ("2026年12月21日09:30", "第三法庭", "（2026）粤0106民初1号")
    update = CourtEvent("e", "application.updated", "粤0106", 0.0,
                        {"application_id": "A-1", "kind": "refund", "status": "APPROVED"})
    assert (sms_params(update, "x")["kind"], sms_params(update, "x")["status"]) == ("退费", "已批准")


async def test_an_event_the_operator_routed_to_sms_skips_the_push() -> None:
    by_sms = ChannelSettings.model_validate({"notify": {"sms_events": ["filing.reviewed"]}})
    channel = FakeChannel(True)
    dispatcher, sms, queue = await world(Route("wechat", "p_1", "L2", PHONE, "openid-1"), channel, {"wechat": by_sms})
    await queue.enqueue(reviewed())
    await dispatcher.tick(time.time())
    assert channel.calls == [] and [event for _, event, _ in sms.sent.values()] == ["filing.reviewed"]


def delivery(status: Literal["delivered", "failed"], delivery_id: str = "d-Qm9vLXhxZW5n") -> DeliveryReport:
    citizen = Actor(sub="p_1", assurance="L2", channel="yueshengshi")
    return DeliveryReport(delivery_id, "filings.submit", "粤0106", "yueshengshi", status, citizen, "req-1",
                          result={"filing_id": "LA-9"} if status == "delivered" else None,
                          error={"code": "BACKEND_REJECTED", "message": "不符合", "detail": ""}
                          if status == "failed" else None)


@pytest.mark.parametrize(("status", "words"), [("delivered", "法院已接收"), ("failed", "转交未成功")])
async def test_a_queued_writes_outcome_is_told_once_however_often_it_is_settled(
        status: Literal["delivered", "failed"], words: str) -> None:
    dispatcher, sms, _ = await world(Route("yueshengshi", "p_2", "L2", "13800000000", None))
    routes = dispatcher._routes
    await routes.remember_item("粤0106", "delivery_id", "d-Qm9vLXhxZW5n", Route("yueshengshi", "p_1", "L2", PHONE))
    hook = following(routes)
    await hook(delivery(status))
    await dispatcher.tick(time.time())
    await hook(delivery(status))  # another worker settles the same delivery again after a crash
    assert await dispatcher.tick(time.time() + 60) == 0
    [(phone, event, params)] = sms.sent.values()
    assert (phone, event, params["result"], params["operation"]) == (PHONE, "delivery.finished", words, "网上立案")
    assert render(template_text(event), params) == (
        f"您提交的网上立案（受理编号d-Qm9vLXhxZW5n）转交天河区人民法院的结果：{words}。详情请在原办理渠道查看。")
    if status == "delivered":  # the route follows the write to the filing the court created
        moved = await routes.item("粤0106", "filing_id", "LA-9")
        assert moved is not None and moved.phone == PHONE
