"""The SMS sender against the fake SMS provider, over real HTTP: dedupe, segments, refusals, retries."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import gateway.notify.sms as sms_module
from gateway.config import ConfigContext, SmsSettings
from gateway.logs import get_logger
from gateway.notify import Notifier, RetryPolicy, SmsSender
from gateway.notify.standin import SmsStandIn
from gateway.state import StateStore
from gateway.state.memory import MemoryState
from gateway.state.redis import RedisState
from tests.support.stack import RedisServer, serving

PHONE = "13631415926"
FAST = RetryPolicy(attempts=3, first_wait_s=0.01, max_wait_s=0.05)


def settings(base_url: str, *, secret: bool = False, timeout_s: float = 5.0, **extra: Any) -> SmsSettings:
    env = {"SMS_ACCESS_KEY": "ak-test-0001", "SMS_ACCESS_SECRET": "sk-test-secret"}
    raw: dict[str, Any] = {"base_url": base_url, "sign_name": "广州法院", "access_key_env": "SMS_ACCESS_KEY",
                           "timeout_s": timeout_s, **extra}
    if secret:
        raw["access_secret_env"] = "SMS_ACCESS_SECRET"
    return SmsSettings.model_validate(raw, context=ConfigContext(env=env))


@contextlib.asynccontextmanager
async def provider(standin: SmsStandIn | None = None) -> AsyncIterator[tuple[SmsStandIn, str]]:
    standin = standin or SmsStandIn(access_key="ak-test-0001")
    async with serving(Starlette(routes=standin.routes())) as url:
        yield standin, url


@contextlib.asynccontextmanager
async def sender(url: str, state: StateStore | None = None, **extra: Any) -> AsyncIterator[SmsSender]:
    async with httpx.AsyncClient() as http:
        yield SmsSender(settings(url, **extra), state or MemoryState(), http, FAST)


def out_id() -> str:
    return "test-" + secrets.token_hex(8)


async def test_a_message_goes_out_as_the_contract_says() -> None:
    async with provider() as (standin, url), sender(url) as sms:
        result = await sms.send(PHONE, "judge_message.callback_requested", {"due": "12月1日前"}, "cb-1")
    assert (result.status, result.segments, result.attempts) == ("sent", 1, 1)
    assert result.delivered and result.biz_id == standin.messages[0].biz_id
    message = standin.messages[0]
    assert (message.phone, message.sign_name, message.out_id) == (PHONE, "广州法院", "cb-1")
    assert message.template_code == "GZCOURT_JUDGE_MESSAGE_CALLBACK_REQUESTED"
    assert message.params == {"due": "12月1日前"}
    assert message.text == "【广州法院】您的来电已记录，法官将在12月1日前回电，请保持电话畅通。"


async def test_template_param_is_a_json_string_and_the_template_may_be_named_by_its_code() -> None:
    seen: list[dict[str, Any]] = []

    async def send(request: Request) -> JSONResponse:
        seen.append(orjson.loads(await request.body()))
        return JSONResponse({"Code": "OK", "BizId": "b1", "RequestId": "r1"})

    async with serving(Starlette(routes=[Route("/send", send, methods=["POST"])])) as url, sender(url) as sms:
        result = await sms.send("+86 136-3141-5926", "GZCOURT_PAYMENT_CONFIRMED",
                                {"case_no": "（2026）粤0106民初22468号", "amount": "6640.00"}, "pay-1")
    assert result.status == "sent" and result.biz_id == "b1"
    body = seen[0]
    assert set(body) == {"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam", "OutId"}
    assert body["PhoneNumbers"] == PHONE and body["TemplateCode"] == "GZCOURT_PAYMENT_CONFIRMED"
    assert isinstance(body["TemplateParam"], str)
    assert orjson.loads(body["TemplateParam"]) == {"case_no": "（2026）粤0106民初22468号", "amount": "6640.00"}


async def test_the_same_out_id_is_never_sent_twice_one_after_the_other_or_at_once() -> None:
    async with provider() as (standin, url), sender(url) as sms:
        first = await sms.send(PHONE, "judge_message.callback_requested", {"due": "12月1日前"}, "same-1")
        again = await sms.send(PHONE, "judge_message.callback_requested", {"due": "12月1日前"}, "same-1")
        racing = await asyncio.gather(*(sms.send(PHONE, "judge_message.callback_requested", {"due": "明天"}, "same-2")
                                        for _ in range(10)))
    assert first.status == "sent"
    assert (again.status, again.reason, again.biz_id) == ("duplicate", "sent", first.biz_id) and again.delivered
    assert sorted(r.status for r in racing).count("sent") == 1
    assert [m.out_id for m in standin.messages] == ["same-1", "same-2"]


async def test_two_senders_sharing_redis_send_an_out_id_once(redis_server: RedisServer) -> None:
    states = [RedisState(redis_server.url), RedisState(redis_server.url)]
    shared = out_id()
    try:
        async with provider() as (standin, url), sender(url, states[0]) as one, sender(url, states[1]) as two:
            results = await asyncio.gather(
                *(s.send(PHONE, "judge_message.callback_requested", {"due": "明天"}, shared)
                  for s in (one, two, one, two)))
    finally:
        for state in states:
            await state.close()
    assert [r.status for r in results].count("sent") == 1
    assert len(standin.messages) == 1


async def test_segments_are_counted_with_the_sign_name() -> None:
    long_item = "（2026）粤0106民初22468号买卖合同纠纷一案的立案审查及诉讼费用核定、送达起诉状副本等事项"
    async with provider() as (standin, url), sender(url) as sms:
        short = await sms.send(PHONE, "judge_message.callback_requested", {"due": "12月1日前"}, out_id())
        long = await sms.send(PHONE, "sla.reminder", {"item": long_item, "due": "2026年12月1日"}, out_id())
    assert short.segments == 1
    text = standin.messages[1].text
    assert text is not None and 70 < len(text) <= 134
    assert long.segments == 2 == standin.messages[1].segments


@pytest.mark.parametrize(("params", "reason"), [
    ({"due": "明天，详见 https://pay.example.invalid"}, "url"),
    ({"due": "明天，登录www.court-pay.cn"}, "url"),
    ({"due": "明天，请先转账至法官指定账户"}, "payment_request"),
    ({"due": "明天，请提供银行卡号"}, "payment_request"),
])
async def test_links_and_payment_requests_are_refused_before_anything_is_sent(params: dict[str, str],
                                                                             reason: str) -> None:
    identifier = out_id()
    async with provider() as (standin, url), sender(url) as sms:
        refused = await sms.send(PHONE, "judge_message.callback_requested", params, identifier)
        # Nothing was claimed: the corrected message may still go out under the same OutId.
        fixed = await sms.send(PHONE, "judge_message.callback_requested", {"due": "明天"}, identifier)
    assert (refused.status, refused.reason, refused.attempts) == ("refused", reason, 0)
    assert fixed.status == "sent" and len(standin.messages) == 1 and standin.requests == 1


@pytest.mark.parametrize(("phone", "template", "params", "identifier", "reason"), [
    ("020-8300-1234", "judge_message.callback_requested", {"due": "明天"}, "x-1", "not_a_mobile_number"),
    (PHONE, "no.such_event", {}, "x-2", "unknown_template:no.such_event"),
    (PHONE, "judge_message.callback_requested", {}, "x-3", "missing_param:due"),
    (PHONE, "judge_message.callback_requested", {"due": "明天"}, "bad out id", "invalid_out_id"),
])
async def test_messages_that_cannot_be_sent_are_refused_without_a_request(
        phone: str, template: str, params: dict[str, str], identifier: str, reason: str) -> None:
    async with provider() as (standin, url), sender(url) as sms:
        result = await sms.send(phone, template, params, identifier)
    assert (result.status, result.reason) == ("refused", reason)
    assert standin.requests == 0


async def test_failures_that_did_not_deliver_are_retried_with_backoff() -> None:
    async with provider() as (standin, url), sender(url) as sms:
        standin.fail_next(1, status=503)
        standin.fail_next(1, status=200, code="isp.SYSTEM_ERROR")
        result = await sms.send(PHONE, "judge_message.callback_requested", {"due": "明天"}, out_id())
    assert (result.status, result.attempts) == ("sent", 3)
    assert standin.requests == 3 and len(standin.messages) == 1


async def test_after_the_last_retry_the_failure_is_reported_logged_without_the_phone_and_never_resent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    identifier = out_id()
    async with provider() as (standin, url), sender(url) as sms:
        standin.fail_next(3, status=503)
        with structlog.testing.capture_logs() as logs:
            # loggers are cached on first use: a fresh one logs into the capture
            monkeypatch.setattr(sms_module, "_log", get_logger("court_gateway.sms"))
            failed = await sms.send(PHONE, "judge_message.callback_requested", {"due": "明天"}, identifier)
        again = await sms.send(PHONE, "judge_message.callback_requested", {"due": "明天"}, identifier)
    assert (failed.status, failed.reason, failed.attempts) == ("failed", "http_503", 3)
    assert not failed.delivered
    assert (again.status, again.reason) == ("duplicate", "failed")
    assert standin.requests == 3 and standin.messages == []
    line = next(entry for entry in logs if entry["event"] == "sms")
    assert line["status"] == "failed" and line["out_id"] == identifier
    assert all("3141" not in str(value) for entry in logs for value in entry.values())


async def test_a_provider_refusal_is_final_and_not_retried() -> None:
    async with provider() as (standin, url), sender(url) as sms:
        standin.fail_next(1, status=200, code="isv.BUSINESS_LIMIT_CONTROL")
        result = await sms.send(PHONE, "judge_message.callback_requested", {"due": "明天"}, out_id())
    assert (result.status, result.reason, result.attempts) == ("refused", "isv.BUSINESS_LIMIT_CONTROL", 1)
    assert standin.requests == 1


async def test_an_unreachable_provider_is_retried_then_reported() -> None:
    async with provider() as (_, url):
        pass  # the server is gone: connections are refused
    async with sender(url) as sms:
        result = await sms.send(PHONE, "judge_message.callback_requested", {"due": "明天"}, out_id())
    assert (result.status, result.reason, result.attempts) == ("failed", "unreachable:ConnectError", 3)


async def test_an_answer_that_may_have_delivered_is_never_retried() -> None:
    calls: list[int] = []

    async def slow(request: Request) -> JSONResponse:
        calls.append(1)
        await asyncio.sleep(1.0)
        return JSONResponse({"Code": "OK", "BizId": "late"})

    async with serving(Starlette(routes=[Route("/send", slow, methods=["POST"])])) as url, \
            sender(url, timeout_s=0.2) as sms:
        result = await sms.send(PHONE, "judge_message.callback_requested", {"due": "明天"}, out_id())
    assert (result.status, result.reason) == ("failed", "unknown_outcome:ReadTimeout")
    assert calls == [1]


async def test_the_access_key_and_the_request_signature_are_checked_by_the_provider() -> None:
    async with provider(SmsStandIn(access_key="ak-test-0001", access_secret="sk-test-secret")) as (standin, url):
        async with sender(url, secret=True) as signed:
            ok = await signed.send(PHONE, "judge_message.callback_requested", {"due": "明天"}, out_id())
        async with sender(url) as unsigned:
            refused = await unsigned.send(PHONE, "judge_message.callback_requested", {"due": "明天"}, out_id())
    assert ok.status == "sent"
    assert (refused.status, refused.reason) == ("refused", "SignatureDoesNotMatch")
    assert len(standin.messages) == 1


async def test_the_sender_is_the_notifier_port_and_the_stand_in_lists_what_it_received() -> None:
    async with provider() as (_standin, url), sender(url) as sms:
        notifier: Notifier = sms
        result = await notifier.sms(PHONE, "hearing.scheduled",
                                    {"case_no": "（2026）粤0106民初22468号", "at": "12月2日14:30", "place": "第三法庭"},
                                    out_id())
        async with httpx.AsyncClient() as client:
            listed = (await client.get(url + "/messages")).json()["items"]
    assert result.status == "sent"
    assert listed[0]["phone"] == "136****5926" and PHONE not in str(listed)
    assert listed[0]["text"].startswith("【广州法院】案件（2026）粤0106民初22468号定于12月2日14:30")
