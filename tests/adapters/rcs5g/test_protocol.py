"""The 5G platform's wire format (adapters/rcs5g/protocol.py): pure functions, checked one by one."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys

import pytest

from adapters.rcs5g import protocol
from adapters.rcs5g.protocol import Reply
from gateway import ErrorCode, FieldError, GatewayError

TOKEN = b"callback-token-of-at-least-32-bytes!!"


def test_the_signature_is_the_contracts_hmac_over_timestamp_nonce_and_body_digest() -> None:
    body = '{"x": "中文"}'.encode()
    text = b"1733300000000\nabc\n" + hashlib.sha256(body).hexdigest().encode()
    expected = hmac.new(TOKEN, text, hashlib.sha256).hexdigest()
    assert protocol.callback_signature(TOKEN, "1733300000000", "abc", body) == expected
    assert expected == expected.lower()
    headers = protocol.signed_headers(TOKEN, 1733300000000, "abc", body)
    assert headers == {"X-Maap-Timestamp": "1733300000000", "X-Maap-Nonce": "abc", "X-Maap-Signature": expected}


def test_one_changed_byte_changes_the_signature() -> None:
    assert (protocol.callback_signature(TOKEN, "1", "n", b"{}")
            != protocol.callback_signature(TOKEN, "1", "n", b"{ }"))
    assert protocol.callback_signature(TOKEN, "1", "n", b"") != protocol.callback_signature(TOKEN, "2", "n", b"")


def inbound(**changes: object) -> dict[str, object]:
    message: dict[str, object] = {"messageId": "m1", "senderAddress": "tel:+8613800138000",
                                  "destinationAddress": "sip:bot@botplatform", "dateTime": "2026-12-05T01:00:00Z",
                                  "contentType": "text/plain", "bodyText": "菜单"}
    message.update(changes)
    return {"inboundMessage": message}


def test_an_inbound_text_message_parses() -> None:
    parsed = protocol.parse_inbound(inbound(conversationId="c-9"))
    assert parsed == protocol.Inbound("m1", "tel:+8613800138000", "sip:bot@botplatform", "text/plain", "菜单", "c-9")


@pytest.mark.parametrize(("changes", "code"), [
    ({"messageId": ""}, ErrorCode.VALIDATION_FAILED),
    ({"messageId": 7}, ErrorCode.VALIDATION_FAILED),
    ({"bodyText": "x" * (protocol.MAX_BODY_TEXT + 1)}, ErrorCode.VALIDATION_FAILED),
    ({"contentType": "image/png"}, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
])
def test_a_malformed_inbound_message_is_a_stable_error(changes: dict[str, object], code: ErrorCode) -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.parse_inbound(inbound(**changes))
    assert caught.value.code is code


def test_an_inbound_without_its_envelope_is_refused() -> None:
    with pytest.raises(GatewayError):
        protocol.parse_inbound({"message": {}})


def test_a_tapped_chip_gives_its_postback() -> None:
    body = json.dumps({"response": {"reply": {"displayText": "案件进展", "postback": {"data": "svc:progress"}}}})
    assert protocol.chip_postback(body) == ("案件进展", "svc:progress")
    for bad in ("not json", "[]", '{"response": {}}', '{"response": {"reply": {"postback": {"data": 1}}}}',
                "[" * 100000):
        with pytest.raises(GatewayError):
            protocol.chip_postback(bad)


def test_file_messages_list_their_files() -> None:
    body = json.dumps({"fileInfo": [{"url": "https://files.example/a.pdf", "contentType": "application/pdf",
                                     "fileSize": 1024, "fileName": "合同.pdf"}]})
    assert protocol.file_infos(body) == [protocol.FileInfo("https://files.example/a.pdf", "application/pdf", 1024,
                                                           "合同.pdf")]
    bad_size = {"url": "u", "contentType": "c", "fileSize": -1, "fileName": "n"}
    for bad in ('{"fileInfo": []}', json.dumps({"fileInfo": [bad_size]}),
                json.dumps({"fileInfo": [{**bad_size, "fileSize": True}]})):
        with pytest.raises(GatewayError):
            protocol.file_infos(bad)


def test_delivery_reports_parse_and_say_whether_the_platform_sent_an_sms() -> None:
    report = protocol.parse_delivery({"deliveryInfo": {"address": "tel:+8613800138000", "messageId": "cg-1",
                                                       "deliveryStatus": "DeliveryImpossible",
                                                       "description": "Converted to SMS"}})
    assert report.status == protocol.DELIVERY_IMPOSSIBLE and report.sms_sent_by_platform
    plain = protocol.parse_delivery({"deliveryInfo": {"address": "tel:+8613800138000", "messageId": "cg-1",
                                                      "deliveryStatus": "DeliveryImpossible"}})
    assert not plain.sms_sent_by_platform
    with pytest.raises(GatewayError):
        protocol.parse_delivery({"deliveryInfo": {"address": "a", "messageId": "m", "deliveryStatus": "Lost"}})


def test_typed_text_is_made_half_width() -> None:
    assert protocol.typed("  （２０２６）粤０１０６民初２２４６８号 ") == "(2026)粤0106民初22468号"
    assert protocol.typed("２６０６１５") == "260615"


def test_a_card_reply_with_chips_and_its_sms_version() -> None:
    reply = Reply("当前状态：审理中", title="（2026）粤0106民初22468号",
                  chips=[protocol.chip("菜单", "menu"), protocol.dial_chip("人工服务", "12368")], sms_content="短信")
    message = protocol.outbound_message(reply, message_id="cg-1", to="tel:+8613800138000",
                                        chatbot_id="sip:bot@botplatform", correlator="m1")["outboundIMMessage"]
    assert message["contentType"] == protocol.BOT_MESSAGE
    assert json.loads(message["bodyText"]) == {"message": {"generalPurposeCard": {"content": {
        "title": "（2026）粤0106民初22468号", "description": "当前状态：审理中"}}}}
    assert message["suggestions"] == [
        {"reply": {"displayText": "菜单", "postback": {"data": "menu"}}},
        {"action": {"displayText": "人工服务", "dialerAction": {"dialPhoneNumber": {"phoneNumber": "12368"}}}}]
    assert (message["smsSupported"], message["smsContent"], message["clientCorrelator"]) == (True, "短信", "m1")
    assert message["destinationAddress"] == ["tel:+8613800138000"] and message["senderAddress"] == "sip:bot@botplatform"


def test_a_text_reply_without_sms_or_correlator() -> None:
    message = protocol.outbound_message(Reply("你好"), message_id="cg-2", to="tel:+8613800138000",
                                        chatbot_id="sip:bot@botplatform")["outboundIMMessage"]
    assert message["contentType"] == "text/plain" and message["bodyText"] == "你好"
    assert message["smsSupported"] is False
    assert "smsContent" not in message and "clientCorrelator" not in message and "suggestions" not in message


def test_chip_texts_are_cut_to_the_gsma_limit() -> None:
    long = protocol.chip("很" * 40, "d")
    assert len(long["reply"]["displayText"]) == protocol.MAX_CHIP_TEXT


def test_an_error_reply_is_the_codes_chinese_message_then_what_people_can_act_on() -> None:
    error = GatewayError(ErrorCode.NOT_FOUND, "detail for developers")
    assert protocol.error_reply(error, []).text == error.message
    detailed = GatewayError(ErrorCode.VALIDATION_FAILED, "x", [FieldError("a", "must be str"),
                                                               FieldError("b", "文件过大")])
    assert protocol.error_reply(detailed, []).text == f"{detailed.message}\n文件过大"
    assert protocol.error_message_of(protocol.error_reply(detailed, []).text) == detailed.message


def test_the_token_answer_parses_and_is_cached_until_shortly_before_it_expires() -> None:
    token = protocol.parse_token(200, b'{"accessToken": "t-1", "expiresIn": 7200}')
    assert (token.token, token.expires_in) == ("t-1", 7200)
    assert protocol.token_cache_ttl(7200) == 6900 and protocol.token_cache_ttl(100) == 50
    for status, body in ((500, b"{}"), (200, b"nonsense"), (200, b'{"accessToken": "t"}'),
                         (200, b'{"accessToken": "", "expiresIn": 5}')):
        with pytest.raises(GatewayError) as caught:
            protocol.parse_token(status, body)
        assert caught.value.code is ErrorCode.SERVICE_UNAVAILABLE and "t-1" not in caught.value.detail


def test_echo_values_are_bounded_printable_ascii() -> None:
    assert protocol.echo_value("abc-123") == "abc-123"
    for bad in (None, "", "x" * 300, "<\n>", "中文"):
        with pytest.raises(GatewayError):
            protocol.echo_value(bad)


def test_protocol_imports_no_web_framework_state_store_or_http_client() -> None:
    code = ("import sys, adapters.rcs5g.protocol, adapters.rcs5g.cards, adapters.rcs5g.labels; "
            "print(','.join(sorted(m for m in ('starlette', 'redis', 'httpx', 'aiohttp') if m in sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == ""
