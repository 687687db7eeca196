"""Whole 5G conversations over real HTTP: the gateway, the reference court, the carrier's MaaP stand-in and the
SMS stand-in on loopback, with memory and Redis state.

From the menu to case progress with the password; a judge message that a re-sent callback does not send twice;
a refused signature; a replayed nonce; a file from a host not in file_hosts refused; a notification delivered
as a card, and another falling back to SMS after DeliveryImpossible.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.rcs5g import cards, protocol
from adapters.rcs5g.adapter import write_key
from adapters.rcs5g.phone import Phone, inbound_document, signed_post
from gateway import ErrorCode, GatewayError
from tests.adapters.rcs5g.support import CASE_NO, CHANNEL, NUMBER, PASSWORD, RcsWorld, rcs_world, wait_for
from tests.support.stack import RedisServer


@pytest.fixture(scope="module", params=["memory", "redis"])
async def world(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[RcsWorld]:
    state = "memory" if request.param == "memory" else redis_server.url
    async with rcs_world(state=state, settings={"lockout_s": 600}) as running:
        yield running


def fresh_number(tag: int) -> str:
    """A number of its own per test, so one test's conversation or lockout never touches another."""
    return f"1370000{tag:04d}"


async def verified(world: RcsWorld, number: str, service: str = "progress") -> Any:
    phone = world.phone(number)
    await phone.say("你好")
    await phone.tap(f"svc:{service}")
    await phone.say(CASE_NO)
    return phone, await phone.say(PASSWORD)


async def test_from_the_menu_to_case_progress_with_the_password(world: RcsWorld) -> None:
    phone = world.phone(fresh_number(1))
    menu = await phone.say("你好")
    assert phone.last is not None and phone.last.status_code == 200 and phone.last.json() == {"code": 0}
    assert menu.title == "广州法院诉讼服务"
    assert set(menu.chips) >= {"案件进展", "开庭信息", "缴费信息", "诉讼费计算", "文书模板", "给法官留言"}
    assert menu.dial == "12368"
    asked = await phone.tap("svc:progress", "案件进展")
    assert asked.text == cards.ASK_CASE_NO
    # typed with full-width digits and brackets, as phones often do
    asked = await phone.say("（２０２６）粤０１０６民初２２４６８号")
    assert asked.text.endswith(cards.ASK_PASSWORD) and "天河区人民法院" in asked.text
    card = await phone.say(PASSWORD)
    assert card.title == CASE_NO
    canonical = await _canonical(world, f"/api/v1/cases/{CASE_NO}/progress")
    assert f"当前状态：{canonical['stage_label']}" in card.text
    if canonical.get("judge"):
        assert f"承办法官：{canonical['judge']}" in card.text
    assert "开庭信息" in card.chips and "菜单" in card.chips
    # L2 for that case for the rest of the conversation: no password again
    hearings = await phone.tap("svc:hearings")
    assert hearings.title == f"{CASE_NO} 开庭信息"
    assert phone.sent and all(m["clientCorrelator"] in phone.sent for m in world.maap.to(phone.number))


async def test_a_judge_message_is_sent_once_when_the_platform_resends_the_callback(world: RcsWorld) -> None:
    number = fresh_number(2)
    phone, _ = await verified(world, number, "message")
    mark = world.journal_mark()
    conversation_key = f"rcs5g:{CHANNEL}:conv:{world.adapter.pseudonym(number)}"
    asking = await world.stack.state.get(conversation_key)  # waiting for the message text
    assert asking is not None
    document = inbound_document("judge-msg-" + number, number, world.maap.carrier.chatbot_id, protocol.TEXT,
                                "请问开庭时间能否调整？")
    url = phone.messages_url
    first = await signed_post(world.client, url, phone.token, document)
    again = await signed_post(world.client, url, phone.token, document)  # same messageId, a fresh nonce
    assert first.json() == again.json() == {"code": 0}
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    replies = await _replies(world, "judge-msg-" + number)
    assert replies[0]["contentType"] == protocol.BOT_MESSAGE and "留言已提交" in replies[0]["bodyText"]
    await wait_for(lambda: world.adapter.busy == 0)  # the second delivery was acknowledged, not processed
    posts = [e for e in world.court_requests("/judge-messages", mark) if e["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["body"] == {"text": "请问开庭时间能否调整？"}
    assert len(await _replies(world, "judge-msg-" + number)) == 1
    # the write's key is the inbound messageId's: even a redelivery the gateway forgot having seen, after
    # a crash that lost the conversation's step too, reaches the court as the same write
    sub = posts[0]["actor"]["sub"]
    key = hashlib.sha256(f"{CHANNEL}\n{sub}\n{write_key('judge-msg-' + number)}".encode()).hexdigest()
    assert posts[0]["headers"]["idempotency-key"] == key
    seen = f"rcs5g:{CHANNEL}:seen:" + hashlib.sha256(("judge-msg-" + number).encode()).hexdigest()[:40]
    assert await world.stack.state.delete(seen) == 1
    await world.stack.state.set(conversation_key, asking, 600)
    await signed_post(world.client, url, phone.token, document)
    await wait_for(lambda: len([m for m in world.maap.sent if m.get("clientCorrelator") == "judge-msg-" + number])
                   == 2)
    replayed = [m for m in world.maap.sent if m.get("clientCorrelator") == "judge-msg-" + number][-1]
    assert "留言已提交" in replayed["bodyText"]
    assert len([e for e in world.court_requests("/judge-messages", mark) if e["method"] == "POST"]) == 1


async def test_an_empty_judge_message_is_answered_with_what_is_missing(world: RcsWorld) -> None:
    phone, _ = await verified(world, fresh_number(20), "message")
    mark = world.journal_mark()
    empty = await phone.say("")
    assert empty.title is None and empty.text.startswith(GatewayError(ErrorCode.VALIDATION_FAILED).message)
    assert "给法官留言" in empty.chips  # to write it again
    assert [e for e in world.court_requests("/judge-messages", mark) if e["method"] == "POST"] == []


@pytest.mark.parametrize(("content_type", "body_text", "code", "acknowledged"), [
    ("audio/amr", "voice", ErrorCode.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),  # refused at the callback
    (protocol.CHIP_RESPONSE, "{not json", ErrorCode.VALIDATION_FAILED, 0),  # read in the conversation
])
async def test_a_message_the_chatbot_cannot_read_is_still_answered_in_words(
        world: RcsWorld, content_type: str, body_text: str, code: ErrorCode, acknowledged: object) -> None:
    phone = world.phone(fresh_number(21))
    message_id = await phone.post(content_type, body_text)
    assert phone.last is not None and phone.last.json() == {"code": acknowledged}
    answer = await phone.shown(message_id)
    assert answer.title is None and answer.text == GatewayError(code).message and "案件进展" in answer.chips
    await phone.post(content_type, body_text, message_id)  # the platform delivers it again: answered once
    await wait_for(lambda: world.adapter.busy == 0)
    assert len([m for m in world.maap.sent if m.get("clientCorrelator") == message_id]) == 1


async def test_a_wrong_signature_is_refused_with_401(world: RcsWorld) -> None:
    body = json.dumps(inbound_document("bad-sig", NUMBER, "sip:x@y", protocol.TEXT, "菜单")).encode()
    headers = protocol.signed_headers(b"not-the-token-not-the-token-32bytes", int(time.time() * 1000), "n-1", body)
    answer = await world.client.post(f"{world.stack.gateway_url}/channels/{CHANNEL}/notify/messages", content=body,
                                     headers=headers)
    assert answer.status_code == 401 and answer.json() == {"code": "SIGNATURE_INVALID"}
    unsigned = await world.client.post(f"{world.stack.gateway_url}/channels/{CHANNEL}/notify/messages", content=body)
    assert unsigned.status_code == 401 and unsigned.json()["code"] in ("SIGNATURE_INVALID",)
    stale = protocol.signed_headers(world.maap.callback_token, int((time.time() - 3600) * 1000), "n-2", body)
    old = await world.client.post(f"{world.stack.gateway_url}/channels/{CHANNEL}/notify/messages", content=body,
                                  headers=stale)
    assert old.status_code == 401 and old.json() == {"code": "REPLAYED_REQUEST"}
    assert world.maap.to(NUMBER) == [] or all(m.get("clientCorrelator") != "bad-sig" for m in world.maap.sent)


async def test_a_replayed_nonce_is_refused(world: RcsWorld) -> None:
    number = fresh_number(4)
    document = inbound_document("nonce-1-" + number, number, world.maap.carrier.chatbot_id, protocol.TEXT, "菜单")
    url = f"{world.stack.gateway_url}/channels/{CHANNEL}/notify/messages"
    stamp = int(time.time() * 1000)
    first = await signed_post(world.client, url, world.maap.callback_token, document, timestamp_ms=stamp,
                              nonce="nonce-" + number)
    document["inboundMessage"]["messageId"] = "nonce-2-" + number
    replay = await signed_post(world.client, url, world.maap.callback_token, document, timestamp_ms=stamp,
                               nonce="nonce-" + number)
    assert first.status_code == 200 and replay.status_code == 401
    assert replay.json() == {"code": "REPLAYED_REQUEST"}


async def test_the_echo_check_answers_echo_str_when_signed(world: RcsWorld) -> None:
    url = f"{world.stack.gateway_url}/channels/{CHANNEL}/notify?echoStr=abc123"
    headers = protocol.signed_headers(world.maap.callback_token, int(time.time() * 1000), "echo-nonce", b"")
    answer = await world.client.get(url, headers=headers)
    assert answer.status_code == 200 and answer.text == "abc123"
    assert (await world.client.get(url)).status_code == 401


async def test_a_file_from_a_host_not_in_file_hosts_is_refused(world: RcsWorld) -> None:
    number = fresh_number(5)
    phone, _ = await verified(world, number, "materials")
    mark = world.journal_mark()
    outsider = {"url": "http://169.254.169.254/latest/meta-data", "contentType": "application/pdf",
                "fileSize": 10, "fileName": "x.pdf"}
    refused = await phone.send_files([outsider])
    assert refused.title is None
    assert refused.text == GatewayError(ErrorCode.VALIDATION_FAILED).message + "\n文件来源不受信任，请重新发送。"
    assert world.court_requests("/uploads", mark) == []
    accepted = await phone.send_files([world.maap.file_info("evidence.pdf")])
    assert "evidence" in accepted.text and "作为证据提交" in accepted.chips
    note = await phone.tap("kind:evidence")
    assert note.text == cards.ASK_NOTE
    done = await phone.say("补充证据")
    assert done.title == f"{CASE_NO} 材料已提交"
    posts = world.court_requests("/materials", mark)
    assert len(posts) == 1 and posts[0]["body"]["kind"] == "evidence" and posts[0]["body"]["note"] == "补充证据"
    assert posts[0]["body"]["documents"][0]["name"] == "evidence"


async def notified(world: RcsWorld, tag: int, no_5g: str | None = None) -> tuple[str, dict[str, Any]]:
    """A person's judge message, the judge's reply, and the notification the person was sent about it."""
    number = fresh_number(tag)
    phone, _ = await verified(world, number, "message")
    message = await _send_judge_message(world, phone, f"请法官回复我（{tag}）")
    if no_5g is not None:
        world.maap.no_5g[number] = no_5g
    before = len(world.maap.to(number))
    await _court_replies(world, message)
    await wait_for(lambda: len(world.maap.to(number)) > before)
    return number, world.maap.to(number)[-1]


async def settled(world: RcsWorld, message_id: str, reports: int = 1) -> None:
    """The platform's reports of the message were answered and the gateway finished what they started."""
    await wait_for(lambda: [m for m, _ in world.maap.reported].count(message_id) >= reports)
    await wait_for(lambda: world.adapter.busy == 0)


async def test_a_notification_arrives_as_a_card_with_its_sms_version(world: RcsWorld) -> None:
    _, notice = await notified(world, 6)
    assert "clientCorrelator" not in notice and notice["smsSupported"] is True
    assert notice["contentType"] == protocol.BOT_MESSAGE and "法官已回复" in notice["bodyText"]
    assert notice["smsContent"].startswith("【广州法院】") and CASE_NO in notice["smsContent"]


async def test_an_undeliverable_notification_goes_out_by_sms_once(world: RcsWorld) -> None:
    number, notice = await notified(world, 7, no_5g="terminal does not support 5G messages")
    await settled(world, notice["messageId"])
    assert [sms.text for sms in world.sms.sent_to(number)] == [notice["smsContent"]]
    # the platform reports it again: still one SMS
    report = {"deliveryInfo": {"address": protocol.tel_uri(number), "messageId": notice["messageId"],
                               "deliveryStatus": protocol.DELIVERY_IMPOSSIBLE}}
    assert (await world.maap.post_callback("/notify/delivery", report)).json() == {"code": 0}
    await wait_for(lambda: world.adapter.busy == 0)
    assert len(world.sms.sent_to(number)) == 1


async def test_a_notification_the_platform_sent_as_sms_itself_is_not_texted_again(world: RcsWorld) -> None:
    number, notice = await notified(world, 8, no_5g="converted to SMS")
    await settled(world, notice["messageId"])
    assert world.sms.sent_to(number) == []


# --- helpers --------------------------------------------------------------------------------------


async def _replies(world: RcsWorld, correlator: str) -> list[dict[str, Any]]:
    await wait_for(lambda: any(m.get("clientCorrelator") == correlator for m in world.maap.sent))
    return [m for m in world.maap.sent if m.get("clientCorrelator") == correlator]


async def _canonical(world: RcsWorld, path: str) -> Any:
    """The same question through the canonical API, as 张伟 (the parity reference)."""
    token = world.stack.issuer.citizen({"name": "张伟", "id_number": "440106199001011235"})
    answer = await world.client.get(f"{world.stack.gateway_url}{path}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _message_ids(world: RcsWorld) -> set[str]:
    listed = await _canonical(world, f"/api/v1/cases/{CASE_NO}/judge-messages")
    return {str(item["message_id"]) for item in listed["items"]}


async def _send_judge_message(world: RcsWorld, phone: Phone, text: str) -> str:
    """Send a judge message in the conversation; the court's id of it."""
    before = await _message_ids(world)
    card = await phone.say(text)
    assert card.title == f"{CASE_NO} 留言已提交", card.text
    (new,) = await _message_ids(world) - before
    return new


async def _court_replies(world: RcsWorld, message_id: str) -> None:
    url = f"{world.stack.court_root}/_ref/yue0106/cases/{CASE_NO}/judge-messages/{message_id}/reply"
    answer = await world.client.post(url, json={"text": "已收到，开庭时间不变。"})
    assert answer.status_code in (200, 201, 202), answer.text
