"""Whole 12368 calls over real HTTP: the gateway, the reference court and the SMS stand-in on loopback.

Both dialects, memory and Redis state: progress, the judge callback (with its SMS),
fees, the agent, wrong passwords and the lockout, silence, wrong keys, hang-up,
bad tokens. The spoken progress is compared with the canonical result (parity).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import structlog

import adapters.ivr12368.adapter as ivr_adapter_module
import gateway.case_passwords as case_passwords_module
import gateway.channels as channels_module
import gateway.core as core_module
import gateway.notify.sms as sms_module
from adapters.ivr12368.adapter import CALLBACK_TEXT, Ivr12368Adapter
from adapters.ivr12368.driver import JsonPhone, VoiceXmlBrowser
from adapters.ivr12368.protocol import VOICEXML_MEDIA_TYPE
from gateway.domain.case_numbers import parse_case_number
from gateway.errors import ErrorCode, GatewayError
from gateway.logs import get_logger
from gateway.state.redis import RedisState
from reference_court.seed import DEMO_PASSWORDS, DEMO_PEOPLE
from tests.adapters.ivr12368.support import (
    CALLER,
    CASE_NO,
    CHANNEL,
    COURT_DIGITS,
    PASSWORD,
    SERIAL,
    IvrStack,
    ivr_stack,
)
from tests.support.stack import RedisServer

AGENTS = "sip:12368-agents@callcenter.test.invalid"
SETTINGS = {"agent_queue": AGENTS, "lockout_s": 600}
CST = timezone(timedelta(hours=8))


@dataclass
class World:
    ivr: IvrStack
    client: httpx.AsyncClient
    state_url: str

    def phone(self, caller: str = CALLER) -> JsonPhone:
        return self.ivr.phone(self.client, caller)

    def browser(self, caller: str = CALLER) -> VoiceXmlBrowser:
        return self.ivr.browser(self.client, caller)

    @property
    def adapter(self) -> Ivr12368Adapter:
        runtime = self.ivr.stack.host.runtime
        assert runtime is not None
        adapter = runtime.adapters[CHANNEL]
        assert isinstance(adapter, Ivr12368Adapter)
        return adapter

    async def call_state(self, call_id: str) -> bytes | None:
        return await self.ivr.stack.state.get(self.adapter._state_key(call_id))

    def court_requests(self, court: str, path_end: str, since: int = 0) -> list[dict[str, Any]]:
        return [e for e in self.ivr.stack.journal.entries(court, since) if e["path"].split("?")[0].endswith(path_end)]

    def journal_mark(self) -> int:
        entries = self.ivr.stack.journal.entries()
        return int(entries[-1]["seq"]) if entries else 0


@pytest.fixture(scope="module", params=["memory", "redis"])
async def world(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[World]:
    state = "memory" if request.param == "memory" else redis_server.url
    async with ivr_stack(state=state, settings=SETTINGS) as ivr, httpx.AsyncClient(timeout=20) as client:
        yield World(ivr, client, state)


def fresh_caller(tag: int) -> str:
    """A caller number of its own per test, so one test's lockout never touches another."""
    return f"1390000{tag:04d}"


async def verified_phone(world: World, service: str, caller: str = CALLER, court: str = COURT_DIGITS,
                         password: str = PASSWORD) -> tuple[JsonPhone, dict[str, Any]]:
    phone = world.phone(caller)
    await phone.start()
    await phone.press(service)
    await phone.press(court + "#")
    await phone.press(serial_of(password) + "#")
    return phone, await phone.press(password + "#")


def serial_of(password: str) -> str:
    """The serial number (digits before 号) of the case the demo password belongs to."""
    return str(parse_case_number(DEMO_PASSWORDS[password][1]).sequence) if password in DEMO_PASSWORDS else SERIAL


async def wait_for(condition: Any, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


# --- independent spelling of the facts a prompt must carry (the parity test's own reading) ------------

_CN = "零一二三四五六七八九"


def _small(n: int) -> str:
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else _CN[tens]) + "十" if tens else "") + (_CN[ones] if ones or not tens else "")


def cn_date(day: date) -> str:
    return "".join(_CN[int(c)] for c in str(day.year)) + f"年{_small(day.month)}月{_small(day.day)}日"


def cn_clock(moment: datetime) -> str:
    hour = moment.hour
    period = "凌晨" if hour < 6 else "上午" if hour < 12 else "中午" if hour < 13 else "下午" if hour < 18 else "晚上"
    twelve = hour if hour <= 12 else hour - 12
    minutes = f"{_small(moment.minute)}分" if moment.minute else ""
    return f"{period}{'两' if twelve == 2 else _small(twelve)}点{minutes}"


def cst(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(CST)


def facts_of_progress(result: dict[str, Any]) -> list[str]:
    """What the canonical result says, as the ear must hear it."""
    facts = [result["court_name"], result["stage_label"]]
    for run in re.findall(r"\d+", result["case_no"]):  # year, court code, sequence: each digit by digit
        facts.append("".join(_CN[int(c)] for c in run))
    nodes = sorted(result["nodes"], key=lambda n: cst(n["at"]))
    if nodes:
        facts += [nodes[-1]["label"], cn_date(cst(nodes[-1]["at"]).date())]
    hearing = result["next_hearing"]
    if hearing:
        at = cst(hearing["at"])
        facts += [cn_date(at.date()) + cn_clock(at), hearing["place"]]
        if hearing["mode"] == "online":
            facts.append("在线开庭")
    else:
        facts.append("没有已安排的开庭")
    return facts


# --- case progress ----------------------------------------------------------------------------------


async def test_case_progress_through_the_json_dialect(world: World) -> None:
    mark = world.journal_mark()
    phone, answer = await verified_phone(world, "1")
    assert phone.last is not None and phone.last.status_code == 200
    assert answer["code"] == 0 and answer["action"] == "play" and answer["max_digits"] == 0
    progress = answer["data"]
    assert progress["case_no"] == CASE_NO and progress["court"] == "粤0106"
    assert answer["prompt"].startswith("您查询的是天河区人民法院二零二六年粤零一零六民初 二二四 六八号案件。")
    # the court verified the password for an L1 caller, then served an L2 actor scoped to that case
    verify = world.court_requests("粤0106", "/api/v1/case-query-passwords/verify", mark)
    assert len(verify) == 1 and verify[0]["body"] == {"password": PASSWORD, "caller": CALLER, "serial": SERIAL}
    assert verify[0]["actor"]["assurance"] == "L1" and verify[0]["actor"]["channel"] == CHANNEL
    progress_requests = world.court_requests("粤0106", "/progress", mark)
    assert len(progress_requests) == 1
    actor = progress_requests[0]["actor"]
    person = DEMO_PEOPLE["zhangwei"]
    assert (actor["assurance"], actor["channel"], actor["id_number"], actor["name"]) == (
        "L2", CHANNEL, person.id_number, person.name)
    after = await phone.send("input")
    assert after["action"] == "collect" and after["prompt"].startswith("重听请按1")
    await phone.hangup()


@pytest.mark.parametrize("password", sorted(p for p, (_, _, who) in DEMO_PASSWORDS.items() if who == "zhangwei"))
async def test_the_spoken_progress_carries_the_facts_of_the_canonical_result(world: World, password: str) -> None:
    court, case_no, _ = DEMO_PASSWORDS[password]
    phone, answer = await verified_phone(world, "1", court=court[1:], password=password)
    await phone.hangup()
    assert answer["code"] == 0, answer
    result = answer["data"]
    assert result["case_no"] == case_no
    spoken = answer["prompt"].replace(" ", "")
    for fact in facts_of_progress(result):
        assert fact in spoken, (fact, answer["prompt"])
    # and the canonical result is what the canonical API gives the same person
    token = world.ivr.stack.issuer.citizen({"name": DEMO_PEOPLE["zhangwei"].name,
                                            "id_number": DEMO_PEOPLE["zhangwei"].id_number})
    canonical = await world.client.get(f"{world.ivr.gateway_url}/api/v1/cases/{case_no}/progress",
                                       headers={"Authorization": f"Bearer {token}"})
    assert canonical.status_code == 200 and canonical.json() == result


async def test_a_legacy_case_is_found_through_the_court_the_caller_chose(world: World) -> None:
    password = next(p for p, (court, case_no, _) in DEMO_PASSWORDS.items() if court not in case_no)
    court, case_no, who = DEMO_PASSWORDS[password]
    phone, answer = await verified_phone(world, "1", caller=DEMO_PEOPLE[who].phone, court=court[1:],
                                         password=password)
    await phone.hangup()
    assert answer["code"] == 0 and answer["data"]["case_no"] == case_no and answer["data"]["court"] == court


async def test_a_password_of_another_court_is_a_wrong_password(world: World) -> None:
    phone, answer = await verified_phone(world, "1", caller=fresh_caller(1), court="01")
    await phone.hangup()
    assert answer["code"] == 1 and answer["error"] == "NOT_FOUND" and "您还可以再试两次" in answer["prompt"]


# --- the judge callback -----------------------------------------------------------------------------


async def test_asking_the_judge_to_call_back_creates_a_judge_message_and_confirms_by_sms(world: World) -> None:
    caller = fresh_caller(2)
    before = len(world.ivr.sms.sent_to(caller))
    mark = world.journal_mark()
    phone, answer = await verified_phone(world, "2", caller=caller)
    assert answer["code"] == 0 and answer["action"] == "play"
    result = answer["data"]
    due = datetime.fromisoformat(result["reply_due"]).date()
    assert f"承办法官将在{cn_date(due)}前给您回电" in answer["prompt"] and "确认短信" in answer["prompt"]
    posts = world.court_requests("粤0106", "/judge-messages", mark)
    assert len(posts) == 1 and posts[0]["method"] == "POST"
    assert posts[0]["body"] == {"text": CALLBACK_TEXT, "callback_phone": caller}
    sub = posts[0]["actor"]["sub"]
    key = hashlib.sha256(f"{CHANNEL}\n{sub}\n{phone.call_id}:callback".encode()).hexdigest()
    assert posts[0]["headers"]["idempotency-key"] == key
    await wait_for(lambda: len(world.ivr.sms.sent_to(caller)) == before + 1)
    message = world.ivr.sms.sent_to(caller)[-1]
    assert message.params == {"due": f"{due.month}月{due.day}日前"}
    assert message.text == f"【广州法院】您的来电已记录，法官将在{due.month}月{due.day}日前回电，请保持电话畅通。"
    # "1" hears it again: the same write, replayed by the gateway, and no second SMS
    await phone.send("input")
    again = await phone.press("1")
    assert phone.last is not None and phone.last.headers.get("idempotent-replayed") == "true"
    assert again["data"] == result
    await phone.hangup()
    await asyncio.sleep(0.3)
    assert len(world.court_requests("粤0106", "/judge-messages", mark)) == 1
    assert len(world.ivr.sms.sent_to(caller)) == before + 1


async def test_a_landline_callback_carries_the_number_in_the_message_and_gets_no_sms(world: World) -> None:
    landline = "02083009999"
    mark = world.journal_mark()
    sent = len(world.ivr.sms.messages)
    phone, answer = await verified_phone(world, "2", caller=landline)
    await phone.hangup()
    assert answer["code"] == 0 and "短信" not in answer["prompt"]
    posts = world.court_requests("粤0106", "/judge-messages", mark)
    assert posts[0]["body"] == {"text": f"{CALLBACK_TEXT}回电号码：{landline}。"}
    await asyncio.sleep(0.3)
    assert len(world.ivr.sms.messages) == sent


# --- fees, the agent ----------------------------------------------------------------------------------


async def test_fees_read_out_amount_and_status(world: World) -> None:
    phone, answer = await verified_phone(world, "3")
    await phone.hangup()
    assert answer["code"] == 0 and answer["action"] == "play"
    items = answer["data"]["items"]
    assert items, "the demo case has fees"
    assert answer["prompt"].startswith("本案共有")
    for item in items:
        assert item["item"] in answer["prompt"]
    if any(i["status"] in ("ASSESSED", "PENDING", "OVERDUE") for i in items):
        assert "法院不会通过电话或短信要求您向任何个人账户转账" in answer["prompt"]


async def test_zero_puts_the_caller_through_to_the_agent_queue_and_ends_the_call_state(world: World) -> None:
    phone = world.phone()
    await phone.start()
    answer = await phone.press("0")
    assert answer == {"code": 0, "action": "transfer", "prompt": "正在为您转接人工服务，请稍候。", "max_digits": 0,
                      "finish_key": "", "timeout_s": 0, "transfer_to": AGENTS}
    assert await world.call_state(phone.call_id) is None


# --- wrong passwords, silence, wrong keys, hang-up ------------------------------------------------------


async def test_three_wrong_passwords_end_the_call_and_limit_the_caller(world: World) -> None:
    caller = fresh_caller(3)
    mark = world.journal_mark()
    phone = world.phone(caller)
    await phone.start()
    await phone.press("1")
    await phone.press(COURT_DIGITS + "#")
    await phone.press(SERIAL + "#")
    first = await phone.press("111111#")
    second = await phone.press("222222#")
    third = await phone.press("333333#")
    assert (first["code"], first["error"], first["action"]) == (1, "NOT_FOUND", "collect")
    assert "再试一次" in second["prompt"]
    assert (third["code"], third["error"], third["action"]) == (1, "RATE_LIMITED", "hangup")
    assert "十分钟后再试" in third["prompt"]
    assert await world.call_state(phone.call_id) is None
    assert len(world.court_requests("粤0106", "/case-query-passwords/verify", mark)) == 3
    # the next call from that number: menu and agent yes, case services no, and no password reaches a court
    later = world.phone(caller)
    await later.start()
    refused = await later.press("1")
    assert (refused["code"], refused["error"], refused["action"]) == (1, "RATE_LIMITED", "collect")
    assert (await later.press("0"))["action"] == "transfer"
    assert len(world.court_requests("粤0106", "/case-query-passwords/verify", mark)) == 3
    # another number is not affected
    other, answer = await verified_phone(world, "1", caller=fresh_caller(4))
    await other.hangup()
    assert answer["code"] == 0


async def test_guesses_spread_over_several_calls_are_cut_off_too(world: World) -> None:
    caller = fresh_caller(5)
    phone = world.phone(caller)
    await phone.start()
    await phone.press("1")
    await phone.press(COURT_DIGITS + "#")
    await phone.press(SERIAL + "#")
    await phone.press("111111#")
    await phone.press("222222#")
    await phone.hangup()
    again = world.phone(caller)
    await again.start()
    await again.press("1")
    await again.press(COURT_DIGITS + "#")
    await again.press(SERIAL + "#")
    last = await again.press("333333#")
    assert (last["error"], last["action"]) == ("RATE_LIMITED", "hangup")


async def test_silence_repeats_the_prompt_then_says_goodbye(world: World) -> None:
    phone = world.phone()
    await phone.start()
    first = await phone.send("noinput")
    assert (first["code"], first["action"]) == (0, "collect") and first["prompt"].startswith("您没有按键。查询案件进展请按1")
    await phone.send("noinput")
    last = await phone.send("noinput")
    assert last["action"] == "hangup" and last["prompt"].startswith("您长时间没有按键")
    assert await world.call_state(phone.call_id) is None


async def test_wrong_keys_say_so_and_then_lead_to_an_agent(world: World) -> None:
    phone = world.phone()
    await phone.start()
    first = await phone.press("8")
    assert (first["code"], first["error"]) == (1, "VALIDATION_FAILED") and first["prompt"].startswith("您的输入有误。")
    await phone.send("nomatch")
    out = await phone.press("ABC")
    assert (out["action"], out["transfer_to"], out["error"]) == ("transfer", AGENTS, "VALIDATION_FAILED")


async def test_hang_up_clears_the_call_state(world: World) -> None:
    phone = world.phone()
    await phone.start()
    await phone.press("1")
    assert await world.call_state(phone.call_id) is not None
    bye = await phone.hangup()
    assert (bye["code"], bye["action"]) == (0, "hangup")
    assert await world.call_state(phone.call_id) is None
    late = await phone.press("0106#")
    assert (late["code"], late["error"], late["action"]) == (1, "SESSION_EXPIRED", "hangup")


async def test_the_call_state_is_small_and_expires(world: World) -> None:
    phone, _ = await verified_phone(world, "1")
    raw = await world.call_state(phone.call_id)
    assert raw is not None and len(raw) <= 1024
    if world.state_url != "memory":
        redis = RedisState(world.state_url)
        try:
            key = world.adapter._state_key(phone.call_id)
            assert 0 < await redis.client.pttl(key) <= 1800 * 1000
            usage = await redis.client.memory_usage(key)
            assert usage is not None and usage <= 1024, usage  # QUALITY.md: <= 1 KB per call in Redis
        finally:
            await redis.close()
    await phone.hangup()


# --- tokens and malformed steps ----------------------------------------------------------------------


async def test_a_bad_ivr_token_is_401_in_the_json_dialect(world: World) -> None:
    url = f"{world.ivr.gateway_url}/channels/{CHANNEL}/json"
    body = {"call_id": "c-401", "caller": CALLER, "event": "start"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {world.ivr.token}"}):
        response = await world.client.post(url, json=body, headers=headers)
        assert response.status_code == 401
        answer = response.json()
        assert (answer["code"], answer["error"], answer["action"]) == (1, "UNAUTHENTICATED", "hangup")
        assert response.headers["x-request-id"]


@pytest.mark.parametrize(("content", "error"), [
    (b"not json", "VALIDATION_FAILED"), (b"[]", "VALIDATION_FAILED"), (b'{"event": "start"}', "VALIDATION_FAILED"),
    (b'{"call_id": "c", "event": "ringing"}', "VALIDATION_FAILED"),
    (b'{"call_id": "c", "event": "start", "pad": "' + b"x" * 20000 + b'"}', "PAYLOAD_TOO_LARGE"),
])
async def test_malformed_json_steps_are_answered_in_the_dialect(world: World, content: bytes, error: str) -> None:
    response = await world.client.post(f"{world.ivr.gateway_url}/channels/{CHANNEL}/json", content=content,
                                       headers={"Authorization": f"Bearer {world.ivr.token}"})
    assert response.status_code == 200
    answer = response.json()
    assert (answer["code"], answer["error"], answer["action"]) == (1, error, "hangup")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer["prompt"])


# --- the VoiceXML dialect ------------------------------------------------------------------------------


async def test_a_whole_progress_call_through_a_voicexml_browser(world: World) -> None:
    browser = world.browser()
    await browser.start()
    assert browser.last is not None
    assert browser.last.headers["content-type"].startswith(VOICEXML_MEDIA_TYPE)
    assert browser.last.headers["cache-control"] == "no-store"
    assert browser.kind == "collect" and browser.prompt.startswith("您好，欢迎致电")
    await browser.press("1")
    assert browser.prompt.startswith("请输入案号中法院代码")
    await browser.press(COURT_DIGITS + "#")
    await browser.press(SERIAL + "#")
    await browser.press(PASSWORD + "#")
    assert browser.kind == "play" and "目前状态：" in browser.prompt and "二二四 六八号" in browser.prompt
    await browser.event("continue")
    assert browser.kind == "collect" and browser.prompt.startswith("重听请按1")
    assert CALLER not in browser.last.text  # the caller's number stays out of the submit URLs
    await browser.hangup()
    assert browser.kind == "hangup" and await world.call_state(browser.call_id) is None


async def test_callback_fees_and_agent_through_a_voicexml_browser(world: World) -> None:
    caller = fresh_caller(6)
    browser = world.browser(caller)
    await browser.start()
    await browser.press("2")
    await browser.press(COURT_DIGITS + "#")
    await browser.press(SERIAL + "#")
    await browser.press(PASSWORD + "#")
    assert browser.kind == "play" and "承办法官将在" in browser.prompt
    await wait_for(lambda: len(world.ivr.sms.sent_to(caller)) == 1)
    await browser.event("continue")
    await browser.press("9")
    await browser.press("3")
    assert browser.kind == "play" and browser.prompt.startswith("本案共有")
    await browser.event("continue")
    await browser.press("0")
    assert browser.kind == "transfer"
    assert browser.document is not None
    transfer = browser.document.find("{http://www.w3.org/2001/vxml}form/{http://www.w3.org/2001/vxml}transfer")
    assert transfer is not None and transfer.get("dest") == AGENTS


async def test_voicexml_wrong_passwords_no_input_and_wrong_keys(world: World) -> None:
    browser = world.browser(fresh_caller(7))
    await browser.start()
    await browser.press("5")  # not in the grammar: the browser's nomatch
    assert browser.prompt.startswith("您的输入有误。")
    await browser.event("noinput")
    assert browser.prompt.startswith("您没有按键。")
    await browser.press("1")
    await browser.press(COURT_DIGITS + "#")
    await browser.press(SERIAL + "#")
    for wrong in ("111111#", "222222#"):
        await browser.press(wrong)
        assert browser.kind == "collect" and browser.prompt.startswith("查询密码不正确")
    await browser.press("333333#")
    assert browser.kind == "hangup" and "分钟后再试" in browser.prompt


async def test_voicexml_steps_need_the_ivr_token_first_and_the_call_token_after(world: World) -> None:
    url = f"{world.ivr.gateway_url}/channels/{CHANNEL}/vxml"
    start = {"call_id": "vx-auth", "caller": CALLER, "called": "12368", "event": "start"}
    refused = await world.client.post(url, data=start)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith(VOICEXML_MEDIA_TYPE) and b"<disconnect" in refused.content
    assert (await world.client.post(url, params={"token": "wrong"}, data=start)).status_code == 401
    by_header = await world.client.post(url, data=start, headers={"Authorization": f"Bearer {world.ivr.token}"})
    assert by_header.status_code == 200
    browser = world.browser()
    await browser.start()
    assert browser.document is not None
    submit = next(browser.document.iter("{http://www.w3.org/2001/vxml}submit")).get("next", "")
    call_token = httpx.URL(submit).params["ct"]
    tampered = call_token[:-1] + ("1" if call_token.endswith("0") else "0")
    # the call token is bound to its call: not another call id, not a new call, not tampered with
    for params, form in (({"call_id": "other-call", "ct": call_token}, {"event": "input", "digits": "1"}),
                         ({"call_id": browser.call_id, "ct": call_token}, {"event": "start"}),
                         ({"call_id": browser.call_id, "ct": tampered}, {"event": "input", "digits": "1"}),
                         ({"call_id": browser.call_id, "ct": call_token}, {"call_id": "x", "event": "input"})):
        response = await world.client.post(url, params=params, data=form)
        assert response.status_code == 401, (params, form)
    good = await world.client.post(url, params={"call_id": browser.call_id, "ct": call_token},
                                   data={"event": "input", "digits": "0"})
    assert good.status_code == 200 and b"<transfer" in good.content


async def test_a_voicexml_browser_may_fetch_the_first_document_with_get(world: World) -> None:
    response = await world.client.get(f"{world.ivr.gateway_url}/channels/{CHANNEL}/vxml",
                                      params={"token": world.ivr.token, "call_id": "vx-get", "caller": CALLER,
                                              "event": "start"})
    assert response.status_code == 200 and "欢迎致电" in response.text


# --- personal data stays out of the logs --------------------------------------------------------------


async def test_a_whole_call_logs_no_number_password_name_or_id_number(world: World,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    caller = fresh_caller(8)
    person = DEMO_PEOPLE["zhangwei"]
    with structlog.testing.capture_logs() as logs:
        # Loggers are cached on first use: give the modules of this flow fresh ones that log into the capture.
        for module, name in ((ivr_adapter_module, "court_gateway.ivr12368"), (sms_module, "court_gateway.sms"),
                             (core_module, "court_gateway.request"), (channels_module, "court_gateway.channel"),
                             (case_passwords_module, "court_gateway.case_passwords")):
            monkeypatch.setattr(module, "_log", get_logger(name))
        phone, answer = await verified_phone(world, "2", caller=caller)
        await wait_for(lambda: len(world.ivr.sms.sent_to(caller)) == 1)
        await phone.send("input")
        await phone.press("9")
        await phone.press("1")
        await phone.hangup()
    assert answer["code"] == 0
    steps = [entry for entry in logs if entry["event"] == "ivr step"]
    assert len(steps) == 9 and all(entry["call"].startswith("h_") for entry in steps)
    assert any(entry["event"] == "sms" and entry["status"] == "sent" for entry in logs)
    text = repr(logs)
    for secret in (caller, PASSWORD, person.name, person.id_number, phone.call_id):
        assert secret not in text, secret


# --- the adapter's encode methods, as Adapter defines them -------------------------------------------


@pytest.mark.parametrize("dialect", ["json", "vxml"])
def test_encode_speaks_an_outcome_for_the_calls_service_in_the_current_dialect(world: World, dialect: str) -> None:
    from adapters.ivr12368.adapter import _CONTEXT, Dialect, _StepContext
    from adapters.ivr12368.flow import CallState
    from gateway.calls import Outcome

    context = _StepContext(Dialect(dialect), f"/channels/{CHANNEL}/{dialect}", call=CallState(CALLER, service="3"))
    token = _CONTEXT.set(context)
    try:
        response = world.adapter.encode(Outcome({"items": [], "next_cursor": None}, 200, replayed=True), "req-1")
        error = world.adapter.encode_error(GatewayError(ErrorCode.UNAUTHENTICATED), "req-1")
    finally:
        _CONTEXT.reset(token)
    assert response.status_code == 200 and response.headers["idempotent-replayed"] == "true"
    assert "本案目前没有诉讼费用记录。".encode() in bytes(response.body)
    assert error.status_code == 401 and "系统身份验证未通过".encode() in bytes(error.body)
