"""adapters.suihaoban.protocol: the sign (known vectors), envelopes, the resultCode table, user-center answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes

from adapters.suihaoban import protocol
from gateway.calls import BinaryAnswer
from gateway.errors import CODES, ErrorCode, FieldError, GatewayError

#: CONTRACTS.md section 3, column "suihaoban resultCode", copied from the contract (not from the code under test)
CONTRACT_TABLE = {
    "VALIDATION_FAILED": "4001", "INVALID_CASE_NUMBER": "4002", "INVALID_ID_NUMBER": "4003",
    "PAYLOAD_TOO_LARGE": "4130", "UNSUPPORTED_MEDIA_TYPE": "4150", "UNAUTHENTICATED": "4010",
    "SIGNATURE_INVALID": "4011", "REPLAYED_REQUEST": "4012", "SESSION_EXPIRED": "4013",
    "IDENTITY_REJECTED": "4014", "ASSURANCE_TOO_LOW": "4030", "SERVICE_NOT_ENABLED": "4031", "NOT_FOUND": "4040",
    "IDEMPOTENCY_IN_PROGRESS": "4090", "DEADLINE_PASSED": "4220", "IDEMPOTENCY_KEY_REUSED": "4221",
    "BACKEND_REJECTED": "4222", "RATE_LIMITED": "4290", "INTERNAL": "5000", "BACKEND_UNAVAILABLE": "5030",
    "SERVICE_UNAVAILABLE": "5031", "BACKEND_TIMEOUT": "5040",
}
CHINESE = re.compile(r"[\u4e00-\u9fa5]")

SECRET = b"shb-test-secret-0123456789"
FIELDS = {"appId": "shb-gz-court", "method": "cases.progress", "timestamp": "1767225600", "nonceStr": "n0nce-42",
          "bizContent": '{"case_no":"（2026）粤0106民初22468号"}', "userTicket": "shb-demo-zhangwei"}


def sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def hmac_sm3(key: bytes, message: bytes) -> bytes:
    """RFC 2104 over the SM3 hash, written out (independent of the code under test)."""
    key = (sm3(key) if len(key) > 64 else key).ljust(64, b"\0")
    return sm3(bytes(b ^ 0x5C for b in key) + sm3(bytes(b ^ 0x36 for b in key) + message))


def by_formula(sign_type: str, fields: dict[str, str]) -> str:
    """The contract's rule written out: every other non-empty field, key=value, sorted by key, joined by &."""
    text = "&".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "sign" and fields[key])
    if sign_type == "HMAC-SM3":
        return hmac_sm3(SECRET, text.encode()).hex().upper()
    return hmac.new(SECRET, text.encode(), hashlib.sha256).hexdigest().upper()


def test_the_string_to_sign() -> None:
    assert protocol.string_to_sign(FIELDS).decode() == (
        'appId=shb-gz-court&bizContent={"case_no":"（2026）粤0106民初22468号"}&method=cases.progress'
        "&nonceStr=n0nce-42&timestamp=1767225600&userTicket=shb-demo-zhangwei")


def test_empty_fields_and_the_sign_itself_are_left_out() -> None:
    fields = {**FIELDS, "userTicket": "", "sign": "ABC", "signType": "HMAC-SM3"}
    text = protocol.string_to_sign(fields).decode()
    assert "userTicket" not in text and "sign=" not in text and "&signType=HMAC-SM3&" in text


@pytest.mark.parametrize("sign_type", ["HMAC-SHA256", "HMAC-SM3"])
@pytest.mark.parametrize("fields", [
    FIELDS,
    {**FIELDS, "userTicket": ""},
    {**FIELDS, "bizContent": '{"text":"请法官回电 & 谢谢=","outBizNo":"b-1"}', "extraField": "x"},
    {"appId": "a", "method": "courts.list", "timestamp": "1", "nonceStr": "n"},
])
def test_signs_match_the_formula(sign_type: str, fields: dict[str, str]) -> None:
    signed = {**fields, "signType": sign_type}
    offered = protocol.sign(sign_type, SECRET, signed)
    assert offered == by_formula(sign_type, signed)
    assert re.fullmatch(r"[0-9A-F]{64}", offered)


def test_pinned_vectors() -> None:
    # Computed once with `openssl dgst -sm3 -hmac` and Python's hmac module, then pinned.
    assert protocol.sign("HMAC-SHA256", SECRET, FIELDS) == (
        "3975A28DF963E1A0C62DFF29D5277229352DB49D42D3D03DAE55092046342C3F")
    assert protocol.sign("HMAC-SM3", SECRET, FIELDS) == (
        "015E59A8215AFFBD29A8D5ABA671A24F0AB648CF9260538D25665EED9B448825")


def test_signed_fields_add_sign_type_and_sign() -> None:
    signed = protocol.signed_fields({**FIELDS, "sign": "stale"}, "HMAC-SM3", SECRET)
    assert signed["signType"] == "HMAC-SM3"
    assert signed["sign"] == by_formula("HMAC-SM3", {**FIELDS, "signType": "HMAC-SM3"})


def test_an_unknown_sign_type_is_signature_invalid() -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.sign("MD5", SECRET, FIELDS)
    assert caught.value.code is ErrorCode.SIGNATURE_INVALID


# --- envelopes --------------------------------------------------------------------------------------


def test_the_envelope_is_read_as_strings() -> None:
    envelope = protocol.envelope_of({**FIELDS, "signType": "HMAC-SM3", "sign": "AB", "note": None})
    assert (envelope.app_id, envelope.method, envelope.timestamp, envelope.nonce) == (
        "shb-gz-court", "cases.progress", "1767225600", "n0nce-42")
    assert envelope.user_ticket == "shb-demo-zhangwei" and envelope.sign_type == "HMAC-SM3"
    assert "note" not in envelope.fields
    assert protocol.envelope_of({**FIELDS, "userTicket": ""}).user_ticket is None


@pytest.mark.parametrize("bad", [{"timestamp": 1767225600}, {"bizContent": {"case_no": "x"}},
                                 {"nonceStr": "n" * 2000}])
def test_fields_that_cannot_be_signed_as_text_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.envelope_of({**FIELDS, **bad})
    assert caught.value.code is ErrorCode.VALIDATION_FAILED


def test_app_and_signature_fields() -> None:
    envelope = protocol.envelope_of({**FIELDS, "signType": "HMAC-SM3", "sign": "AB"})
    protocol.known_app(envelope, "shb-gz-court")
    protocol.signature_fields_present(envelope)
    with pytest.raises(GatewayError) as caught:
        protocol.known_app(envelope, "another-app")
    assert caught.value.code is ErrorCode.UNAUTHENTICATED
    for missing in ("sign", "signType", "timestamp", "nonceStr"):
        partial = protocol.envelope_of({k: v for k, v in envelope.fields.items() if k != missing})
        with pytest.raises(GatewayError) as caught:
            protocol.signature_fields_present(partial)
        assert caught.value.code is ErrorCode.SIGNATURE_INVALID


def test_arguments_and_out_biz_no() -> None:
    envelope = protocol.envelope_of({**FIELDS, "bizContent": '{"case_no":"x","text":"留言","outBizNo":"b-1"}'})
    assert protocol.arguments_of(envelope) == ({"case_no": "x", "text": "留言"}, "b-1")
    assert protocol.arguments_of(protocol.envelope_of({**FIELDS, "bizContent": ""})) == ({}, None)


@pytest.mark.parametrize("biz", ["not json", "[1, 2]", '{"outBizNo": 5}', "[" * 40 + "]" * 40,
                                 '{"a":' * 40 + "1" + "}" * 40])
def test_bad_biz_content(biz: str) -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.arguments_of(protocol.envelope_of({**FIELDS, "bizContent": biz}))
    assert caught.value.code is ErrorCode.VALIDATION_FAILED


def test_the_file_digest_is_taken_out_of_an_uploads_arguments() -> None:
    args = {"court": "粤0106", "fileSha256": "AB" * 32}
    assert protocol.file_digest_of(args) == "ab" * 32 and args == {"court": "粤0106"}
    for bad in ({}, {"fileSha256": "abc"}, {"fileSha256": 7}):
        with pytest.raises(GatewayError) as caught:
            protocol.file_digest_of(dict(bad))
        assert caught.value.code is ErrorCode.SIGNATURE_INVALID


# --- the resultCode table -----------------------------------------------------------------------------


def test_the_table_covers_every_code_exactly_as_the_contract_says() -> None:
    assert {code.value: number for code, number in protocol.ERROR_CODES.items()} == CONTRACT_TABLE
    assert set(protocol.ERROR_CODES) == set(ErrorCode)


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.value)
def test_every_error_renders_its_result_code_and_a_chinese_message(code: ErrorCode) -> None:
    body = protocol.error_body(GatewayError(code, "developer detail"), "req-00000001")
    assert body["resultCode"] == CONTRACT_TABLE[code.value] and isinstance(body["resultCode"], str)
    assert body["resultMsg"] == CODES[code].message and CHINESE.search(body["resultMsg"])
    assert body["requestId"] == "req-00000001" and body["detail"] == "developer detail"
    assert "data" not in body
    assert protocol.canonical_code(body["resultCode"]) is code


def test_errors_carry_field_errors_and_extras_without_overwriting_the_envelope() -> None:
    error = GatewayError(ErrorCode.BACKEND_REJECTED, "the court says no", [FieldError("amount", "金额有误")],
                         extra={"court_code": "FEE_MISMATCH", "resultCode": "0000"})
    body = protocol.error_body(error, "req-2")
    assert body["resultCode"] == "4222" and body["courtCode"] == "FEE_MISMATCH"
    assert body["errors"] == [{"field": "amount", "message": "金额有误"}]


def test_success() -> None:
    result = {"items": [{"code": "粤0106"}], "next_cursor": None}
    assert protocol.success_body(result) == {"resultCode": "0000", "resultMsg": "成功", "data": result}
    file = protocol.success_body(BinaryAnswer(b"%PDF-1.7", "application/pdf", "起诉状.pdf"))["data"]
    assert file == {"file_name": "起诉状.pdf", "content_type": "application/pdf", "size": 8,
                    "content_base64": base64.b64encode(b"%PDF-1.7").decode()}


# --- the user center's answers ------------------------------------------------------------------------

HOLDER = {"etOpenid": "et-1", "name": "张伟", "idNo": "440106199001011235", "mobile": "13631415926",
          "realNameLevel": 2, "expiresIn": 1800}


def verified(**changes: Any) -> dict[str, Any]:
    return {"resultCode": "0000", "resultMsg": "成功", "data": {**HOLDER, **changes}}


@pytest.mark.parametrize(("level", "assurance"), [(2, "L2"), (3, "L3")])
def test_a_real_name_holder(level: int, assurance: str) -> None:
    holder = protocol.ticket_holder(verified(realNameLevel=level))
    assert holder == protocol.TicketHolder("et-1", assurance, 1800, "13631415926", "张伟", "440106199001011235")


def test_an_account_only_holder() -> None:
    holder = protocol.ticket_holder(verified(realNameLevel=1, name=None, idNo=None, mobile="+8613600000002"))
    assert holder == protocol.TicketHolder("et-1", "L1", 1800, "13600000002")


@pytest.mark.parametrize(("answer", "code"), [
    ({"resultCode": "1002", "resultMsg": "票据已过期"}, ErrorCode.UNAUTHENTICATED),
    (verified(expiresIn=0), ErrorCode.UNAUTHENTICATED),
    (verified(idNo="440106199001011234"), ErrorCode.IDENTITY_REJECTED),
    (verified(name=""), ErrorCode.IDENTITY_REJECTED),
    (verified(realNameLevel=4), ErrorCode.SERVICE_UNAVAILABLE),
    (verified(realNameLevel="2"), ErrorCode.SERVICE_UNAVAILABLE),
    (verified(expiresIn="1800"), ErrorCode.SERVICE_UNAVAILABLE),
    (verified(etOpenid=""), ErrorCode.SERVICE_UNAVAILABLE),
    ({"resultCode": "0000"}, ErrorCode.SERVICE_UNAVAILABLE),
    ({"resultCode": 0}, ErrorCode.SERVICE_UNAVAILABLE),
    (["0000"], ErrorCode.SERVICE_UNAVAILABLE),
])
def test_refusals_and_broken_answers(answer: Any, code: ErrorCode) -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.ticket_holder(answer)
    assert caught.value.code is code
