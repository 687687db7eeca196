"""The kiosk wire protocol without a server: signatures (vectors computed with openssl), envelopes, errors."""

from __future__ import annotations

import re

import pytest

from adapters.kiosk import layout, protocol
from adapters.kiosk.receipts import Receipt
from adapters.kiosk.screens import ERROR_ADVICE, IDENTITY_ADVICE, Screen, advice_for, error_screen
from adapters.kiosk.sign_request import curl_command, main, signed_headers
from gateway.errors import CODES, ErrorCode, FieldError, GatewayError

# Vectors computed independently:
#   printf '%s' "$BODY" | openssl dgst -sha256 -r
#   printf 'POST\n<path>\n1767225600\nn-7f3a9c\n<digest>' | openssl dgst -sha256 -hmac '<key>' -binary | base64
BODY = '{"case_no":"（2026）粤0106民初22468号","txn_id":"T-0001"}'.encode()
BODY_DIGEST = "9479c8ea2960f9bda34b8cac39e4ba8ae51dfa2da846c0170c05d963c71ff840"
POST_SIGNATURE = "oNrpD0HxqwOrd4QkTxy+0t6jyNXkYtA2vjitebABDnM="
DELETE_SIGNATURE = "YIjbL4/ZO103RGsSGOWIGmSdU3UIupza17Lao0eef4k="
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_body_digest_is_lower_case_hex_sha256() -> None:
    assert protocol.body_digest(BODY) == BODY_DIGEST
    assert protocol.body_digest(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_signature_matches_the_openssl_vector() -> None:
    signature = protocol.sign(b"demo-device-key-0123456789", "POST",
                              "/channels/efating/sessions/abc.def.ghi/ops/cases.progress", "1767225600", "n-7f3a9c",
                              BODY)
    assert signature == POST_SIGNATURE


def test_signature_of_an_empty_body_with_a_query_string() -> None:
    signature = protocol.sign(b"yzz-key-abcdefghijkl", "delete", "/channels/yuezhizhu/sessions/tok?x=1",
                              "1767225600", "nonce-2", b"")
    assert signature == DELETE_SIGNATURE


def test_string_to_sign_layout() -> None:
    assert protocol.string_to_sign("post", "/p?q=1", "17", "n", "ab") == b"POST\n/p?q=1\n17\nn\nab"


@pytest.mark.parametrize("changed", ["method", "path", "timestamp", "nonce", "body"])
def test_any_signed_part_changed_breaks_the_signature(changed: str) -> None:
    parts = {"method": "POST", "path": "/channels/efating/sessions", "timestamp": "1767225600", "nonce": "n1",
             "digest": protocol.body_digest(BODY)}
    key = b"k" * 20
    offered = protocol.sign(key, parts["method"], parts["path"], parts["timestamp"], parts["nonce"], BODY)
    altered = dict(parts)
    if changed == "body":
        altered["digest"] = protocol.body_digest(BODY + b" ")
    else:
        altered[changed] = parts[changed] + "x"
    message = protocol.string_to_sign(altered["method"], altered["path"], altered["timestamp"], altered["nonce"],
                                      altered["digest"])
    assert not protocol.signature_matches([key], offered, message)


def test_any_key_in_force_is_accepted() -> None:
    message = protocol.string_to_sign("POST", "/x", "1", "n", protocol.body_digest(b""))
    old, new, other = b"o" * 16, b"n" * 16, b"z" * 16
    offered = protocol.sign(old, "POST", "/x", "1", "n", b"")
    assert protocol.signature_matches([new, old], offered, message)
    assert not protocol.signature_matches([new, other], offered, message)
    assert not protocol.signature_matches([new], "", message)
    assert not protocol.signature_matches([new], "签名", message)


def test_missing_device_id_is_unauthenticated() -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.DeviceHeaders.of({"x-device-signature": "abc"})
    assert caught.value.code is ErrorCode.UNAUTHENTICATED
    headers = protocol.DeviceHeaders.of({"x-device-id": " EFT-1 ", "x-device-nonce": "n"})
    assert (headers.device_id, headers.nonce, headers.timestamp, headers.signature) == ("EFT-1", "n", "", "")


def test_signer_tool_signs_the_percent_encoded_path_and_prints_curl(capsys: pytest.CaptureFixture[str]) -> None:
    headers = signed_headers("EFT-TH-001", b"demo-device-key-0123456789", "POST",
                             "http://127.0.0.1:8080/channels/efating/sessions/abc.def.ghi/ops/cases.progress", BODY,
                             timestamp=1767225600, nonce="n-7f3a9c")
    assert headers["X-Device-Signature"] == POST_SIGNATURE
    assert headers["X-Device-Timestamp"] == "1767225600" and headers["Content-Type"] == "application/json"
    command = curl_command("POST", "http://h/x", headers, "@card.json")
    assert command.startswith("curl -sS -X POST http://h/x -H 'X-Device-Id: EFT-TH-001'")
    assert command.endswith("--data-binary @card.json")
    assert main(["--device", "EFT-1", "--key", "k" * 16, "DELETE", "http://h/channels/efating/sessions/t"]) == 0
    printed = capsys.readouterr().out
    assert "-X DELETE" in printed and "X-Device-Signature" in printed and "--data-binary" not in printed


# --------------------------------------------------------------------------- envelopes


def _screen() -> Screen:
    return error_screen(GatewayError(ErrorCode.NOT_FOUND, "not found"))


def test_efating_success_envelope() -> None:
    receipt = Receipt(("line",), "CGW1|X|1|20260101|ABCDEF12")
    body = protocol.success("efating", {"a": 1}, _screen(), receipt)
    assert body["ok"] is True and body["data"] == {"a": 1}
    assert body["screen"]["title"] == "未查询到信息" and body["screen"]["font"] == "large"
    assert body["screen"]["actions"][0] == {"id": "back", "label": "返回"}
    assert body["print"] == {"encoding": "GB18030", "paper_mm": 80, "columns": 48, "lines": ["line"],
                             "qr": "CGW1|X|1|20260101|ABCDEF12"}
    assert protocol.success("efating", None, _screen(), None)["print"] is None


def test_yuezhizhu_success_envelope() -> None:
    body = protocol.success("yuezhizhu", [1], _screen(), None)
    assert body["status"] == "SUCCESS" and body["result"] == [1]
    display = body["display"]
    assert display["fontSize"] == "LARGE" and display["printData"] is None
    assert display["buttons"][0] == {"code": "back", "text": "返回"}
    assert display["sections"][0]["lines"]


@pytest.mark.parametrize("code", list(ErrorCode))
@pytest.mark.parametrize("profile", ["efating", "yuezhizhu"])
def test_every_error_code_in_both_envelopes(code: ErrorCode, profile: protocol.Profile) -> None:
    error = GatewayError(code, "developer detail")
    advice = advice_for(error)
    body = protocol.failure(profile, error, advice.message, error_screen(error), "req-12345678")
    assert protocol.http_status(error) == CODES[code].status
    if profile == "efating":
        assert body["ok"] is False and body["code"] == code.value and body["request_id"] == "req-12345678"
        message, screen = body["message"], body["screen"]
        assert screen["title"] == advice.title and screen["tone"] == "error"
    else:
        assert body["status"] == "FAIL" and body["errorCode"] == code.value
        message, screen = body["errorMessage"], body["display"]
    assert CJK.search(message) and "developer detail" not in str(body)
    assert screen["sections" if profile == "yuezhizhu" else "blocks"]


def test_every_code_and_every_refusal_says_what_to_do_next() -> None:
    assert set(ERROR_ADVICE) == set(ErrorCode)
    next_steps = ("请", "稍后", "拨打", "不要")
    for advice in [*ERROR_ADVICE.values(), *IDENTITY_ADVICE.values()]:
        assert any(step in advice.message for step in next_steps), advice
        assert advice.actions
        assert all(layout.width(line) <= layout.SCREEN_COLUMNS for line in advice.lines), advice.lines


@pytest.mark.parametrize("reason", sorted(IDENTITY_ADVICE))
def test_identity_refusals_have_their_own_screen(reason: str) -> None:
    error = GatewayError(ErrorCode.IDENTITY_REJECTED, "x", extra={"reason": reason})
    body = protocol.failure("efating", error, advice_for(error).message, error_screen(error), "r" * 8)
    assert body["reason"] == reason and body["screen"]["title"] == IDENTITY_ADVICE[reason].title
    assert body["code"] == "IDENTITY_REJECTED"


def test_court_words_in_chinese_are_shown_but_english_detail_is_not() -> None:
    rejected = GatewayError(ErrorCode.BACKEND_REJECTED, "该笔费用已缴纳，无需重复缴费。")
    lines = [line for block in error_screen(rejected).blocks for line in block.lines]
    assert "该笔费用已缴纳，无需重复缴费。" in "".join(lines)
    english = GatewayError(ErrorCode.VALIDATION_FAILED, "bad", [FieldError("case_no", "Field required"),
                                                                FieldError("court", "请选择法院。")])
    shown = "".join(line for block in error_screen(english).blocks for line in block.lines)
    assert "请选择法院。" in shown and "Field required" not in shown
    body = protocol.failure("yuezhizhu", english, "m", error_screen(english), "r" * 8)
    assert body["fieldErrors"] == [{"field": "case_no", "message": "Field required"},
                                   {"field": "court", "message": "请选择法院。"}]
