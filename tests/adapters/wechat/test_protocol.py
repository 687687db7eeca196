"""adapters.wechat.protocol: envelopes, the errcode table, WeChat and real-name answers, subscribe data."""

from __future__ import annotations

import base64
import re

import orjson
import pytest

from adapters.wechat import protocol
from adapters.wechat.protocol import (
    ERRCODES,
    AccessToken,
    Reason,
    SendOutcome,
    WeChatAccount,
    WeChatApiError,
)
from gateway.calls import BinaryAnswer
from gateway.errors import CODES, ErrorCode, FieldError, GatewayError

#: CONTRACTS.md section 3, copied from the table (not from the code under test)
CONTRACT_TABLE = {
    "VALIDATION_FAILED": 41001, "INVALID_CASE_NUMBER": 41002, "INVALID_ID_NUMBER": 41003,
    "PAYLOAD_TOO_LARGE": 41301, "UNSUPPORTED_MEDIA_TYPE": 41501, "UNAUTHENTICATED": 40001,
    "SIGNATURE_INVALID": 40002, "REPLAYED_REQUEST": 40005, "SESSION_EXPIRED": 40006,
    "IDENTITY_REJECTED": 40007, "ASSURANCE_TOO_LOW": 40003, "SERVICE_NOT_ENABLED": 40008,
    "NOT_FOUND": 40004, "IDEMPOTENCY_IN_PROGRESS": 40901, "DEADLINE_PASSED": 42201,
    "IDEMPOTENCY_KEY_REUSED": 42202, "BACKEND_REJECTED": 42203, "RATE_LIMITED": 42901, "INTERNAL": 50001,
    "BACKEND_UNAVAILABLE": 50301, "SERVICE_UNAVAILABLE": 50302, "BACKEND_TIMEOUT": 50401,
}
CHINESE = re.compile(r"[\u4e00-\u9fa5]")


# --- envelopes and the error table ------------------------------------------------------------------


def test_the_table_covers_every_code_exactly_as_the_contract_says() -> None:
    assert {code.value: number for code, number in ERRCODES.items()} == CONTRACT_TABLE
    assert set(ERRCODES) == set(ErrorCode)


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.value)
def test_every_error_renders_its_errcode_and_a_chinese_message(code: ErrorCode) -> None:
    body = protocol.error_body(GatewayError(code, "developer detail"), "req-00000001")
    assert body["errcode"] == CONTRACT_TABLE[code.value]
    assert body["errmsg"] == CODES[code].message and CHINESE.search(body["errmsg"])
    assert body["request_id"] == "req-00000001"
    assert body["detail"] == "developer detail"
    assert "data" not in body
    assert protocol.canonical_code(body["errcode"]) is code


def test_errors_carry_field_errors_and_safe_extras_but_never_overwrite_the_envelope() -> None:
    error = GatewayError(ErrorCode.ASSURANCE_TOO_LOW, "needs L2", [FieldError("case_no", "缺少案号")],
                         extra={"required_assurance": "L2", "errcode": 0, "errmsg": "ok", "data": {"x": 1}})
    body = protocol.error_body(error, "req-00000002")
    assert body["errcode"] == 40003 and body["errmsg"] == CODES[ErrorCode.ASSURANCE_TOO_LOW].message
    assert body["errors"] == [{"field": "case_no", "message": "缺少案号"}]
    assert body["required_assurance"] == "L2"
    assert "data" not in body


def test_a_refusal_reason_chooses_a_message_that_says_which() -> None:
    error = protocol.refusal(ErrorCode.UNAUTHENTICATED, Reason.WECHAT_USER_HIGH_RISK, "40226")
    body = protocol.error_body(error, "req-00000003")
    assert body["errcode"] == 40001
    assert body["reason"] == "wechat_user_high_risk"
    assert "安全风险" in body["errmsg"]
    assert body["errmsg"] != CODES[ErrorCode.UNAUTHENTICATED].message


def test_every_reason_has_a_chinese_message() -> None:
    for reason in Reason:
        assert CHINESE.search(protocol.REASON_MESSAGES[reason])


def test_success_envelope_carries_the_result_unchanged() -> None:
    result = {"case_no": "（2026）粤0106民初22468号", "nodes": [{"code": "FILED"}], "next_hearing": None}
    assert protocol.success_body(result) == {"errcode": 0, "errmsg": "ok", "data": result}
    queued = {"status": "queued", "delivery_id": "d-1"}
    assert protocol.success_body(queued)["data"] == queued


def test_a_file_answer_is_rendered_as_base64_inside_the_envelope() -> None:
    content = b"%PDF-1.7 template"
    body = protocol.success_body(BinaryAnswer(content, "application/pdf", "民事起诉状.pdf"))
    assert body["data"] == {"file_name": "民事起诉状.pdf", "content_type": "application/pdf", "size": len(content),
                            "content_base64": base64.b64encode(content).decode()}


# --- arguments --------------------------------------------------------------------------------------


def test_client_request_id_is_removed_from_the_arguments() -> None:
    args = {"case_no": "x", "client_request_id": "k-1"}
    assert protocol.pop_client_request_id(args) == "k-1"
    assert args == {"case_no": "x"}
    assert protocol.pop_client_request_id({"case_no": "x"}) is None


def test_a_client_request_id_that_is_not_a_string_is_a_validation_error() -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.pop_client_request_id({"client_request_id": 12})
    assert caught.value.code is ErrorCode.VALIDATION_FAILED
    assert caught.value.errors[0].field == "client_request_id"


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 5}, {"code": "a b"}, {"code": "x" * 129}])
def test_a_login_without_a_usable_code_is_a_validation_error(body: dict[str, object]) -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.login_code(body)
    assert caught.value.code is ErrorCode.VALIDATION_FAILED


# --- jscode2session ---------------------------------------------------------------------------------


def test_code2session_success_gives_the_openid_and_drops_the_session_key() -> None:
    account = protocol.parse_code2session(200, b'{"openid":"oABC","session_key":"k","unionid":"uX"}')
    assert account == WeChatAccount("oABC", "uX")
    assert not hasattr(account, "session_key")


@pytest.mark.parametrize(("errcode", "code", "reason"), [
    (40029, ErrorCode.UNAUTHENTICATED, Reason.WECHAT_CODE_INVALID),
    (40226, ErrorCode.UNAUTHENTICATED, Reason.WECHAT_USER_HIGH_RISK),
    (45011, ErrorCode.SERVICE_UNAVAILABLE, Reason.WECHAT_RATE_LIMITED),
    (-1, ErrorCode.SERVICE_UNAVAILABLE, Reason.WECHAT_BUSY),
    (40125, ErrorCode.SERVICE_UNAVAILABLE, Reason.WECHAT_REFUSED),  # our AppSecret is wrong: not the citizen's doing
])
def test_wechat_refusals_map_to_the_contract_codes(errcode: int, code: ErrorCode, reason: Reason) -> None:
    body = orjson.dumps({"errcode": errcode, "errmsg": "refused"})
    with pytest.raises(GatewayError) as caught:
        protocol.parse_code2session(200, body)
    assert caught.value.code is code
    assert caught.value.extra["reason"] == reason.value
    assert str(errcode) in caught.value.detail


@pytest.mark.parametrize(("status", "body", "reason"), [
    (200, b"<html>busy</html>", Reason.WECHAT_BAD_ANSWER),
    (200, b"[]", Reason.WECHAT_BAD_ANSWER),
    (200, b'{"session_key":"k"}', Reason.WECHAT_BAD_ANSWER),
    (200, b'{"errcode":"x"}', Reason.WECHAT_BAD_ANSWER),
    (502, b"bad gateway", Reason.WECHAT_UNREACHABLE),
])
def test_nonsense_from_wechat_is_service_unavailable(status: int, body: bytes, reason: Reason) -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.parse_code2session(status, body)
    assert caught.value.code is ErrorCode.SERVICE_UNAVAILABLE
    assert caught.value.extra["reason"] == reason.value


# --- real-name results ------------------------------------------------------------------------------


def test_a_passed_real_name_check_gives_the_person_and_the_similarity() -> None:
    body = orjson.dumps({"result": "0", "name": "张伟", "id_number": "440106199001011235", "similarity": 93.1})
    result = protocol.parse_realname(200, body)
    assert (result.name, result.id_number, result.similarity) == ("张伟", "440106199001011235", 93.1)


def test_a_lower_case_x_is_upper_cased() -> None:
    body = orjson.dumps({"result": "0", "name": "甲", "id_number": "11010519491231002x", "similarity": "85.5"})
    result = protocol.parse_realname(200, body)
    assert result.id_number == "11010519491231002X" and result.similarity == 85.5


@pytest.mark.parametrize("answer", [{"result": "1"}, {"result": 2, "name": "甲", "id_number": "1"}, {}])
def test_anything_but_result_0_is_identity_rejected(answer: dict[str, object]) -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.parse_realname(200, orjson.dumps(answer))
    assert caught.value.code is ErrorCode.IDENTITY_REJECTED


def test_an_unknown_verify_token_is_identity_rejected_and_a_provider_fault_is_unavailable() -> None:
    with pytest.raises(GatewayError) as refused:
        protocol.parse_realname(404, b"{}")
    assert refused.value.code is ErrorCode.IDENTITY_REJECTED
    for status, body in ((500, b"{}"), (200, b"not json"), (200, orjson.dumps({"result": "0", "name": "甲"}))):
        with pytest.raises(GatewayError) as down:
            protocol.parse_realname(status, body)
        assert down.value.code is ErrorCode.SERVICE_UNAVAILABLE


@pytest.mark.parametrize(("similarity", "expected"), [(93.1, "L3"), (80.0, "L3"), (79.99, "L2"), (None, "L2")])
def test_assurance_from_the_face_similarity(similarity: float | None, expected: str) -> None:
    assert protocol.assurance_for(similarity, 80.0) == expected


# --- access token and subscribe/send ----------------------------------------------------------------


def test_access_token_answers() -> None:
    assert protocol.parse_access_token(200, b'{"access_token":"T","expires_in":7200}') == AccessToken("T", 7200)
    for status, body in ((200, b'{"errcode":40125,"errmsg":"invalid appsecret"}'), (500, b""), (200, b"x")):
        with pytest.raises(WeChatApiError):
            protocol.parse_access_token(status, body)


@pytest.mark.parametrize(("errcode", "outcome"), [
    (0, SendOutcome.SENT), (40001, SendOutcome.TOKEN_INVALID), (40014, SendOutcome.TOKEN_INVALID),
    (42001, SendOutcome.TOKEN_INVALID), (43101, SendOutcome.UNREACHABLE), (40003, SendOutcome.UNREACHABLE),
])
def test_send_answers(errcode: int, outcome: SendOutcome) -> None:
    assert protocol.parse_send_answer(200, orjson.dumps({"errcode": errcode, "errmsg": "x"})) is outcome


def test_a_send_wechat_refuses_for_another_reason_is_an_error() -> None:
    with pytest.raises(WeChatApiError) as caught:
        protocol.parse_send_answer(200, b'{"errcode":47003,"errmsg":"argument invalid"}')
    assert caught.value.errcode == 47003


def test_hearing_message_values_fit_wechat_field_types() -> None:
    data = {"case_no": "（2026）粤0106民初22468号", "hearing_id": "KT-1", "at": "2026-11-10T07:00:00+00:00",
            "place": "广州市天河区人民法院第三审判庭（天河路一号院内东侧大楼）", "mode": "online"}
    values = protocol.event_values("hearing.scheduled", data)
    fields = protocol.DEFAULT_FIELDS["hearing.scheduled"]
    rendered = protocol.template_data(fields, values)
    assert rendered["thing1"] == {"value": "（2026）粤0106民初22468号"}
    assert rendered["time2"] == {"value": "2026年11月10日 15:00"}  # Beijing time
    assert len(rendered["thing3"]["value"]) == 20 and rendered["thing3"]["value"].endswith("…")
    assert rendered["phrase4"] == {"value": "在线庭审"}  # gateway.vocabulary, as on every channel


def test_messages_never_carry_fields_the_event_does_not_offer() -> None:
    data = {"application_id": "AP-2026-0001", "kind": "refund", "status": "APPROVED",
            "id_number": "440106199001011235", "name": "张伟"}
    values = protocol.event_values("application.updated", data)
    assert "id_number" not in values and "name" not in values
    rendered = protocol.template_data(protocol.DEFAULT_FIELDS["application.updated"], values)
    assert rendered == {"thing1": {"value": "退费"}, "phrase2": {"value": "已批准"},
                        "character_string3": {"value": "AP-2026-0001"}}


def test_a_filing_review_shows_the_reason_and_character_strings_lose_non_ascii() -> None:
    values = protocol.event_values("filing.reviewed", {"filing_id": "LA-粤0106-77", "status": "REJECTED",
                                                       "reason": "不属于本院管辖"})
    rendered = protocol.template_data(protocol.DEFAULT_FIELDS["filing.reviewed"], values)
    assert rendered == {"character_string1": {"value": "LA-0106-77"}, "phrase2": {"value": "审核不通过"},
                        "thing3": {"value": "不属于本院管辖"}}


def test_amounts_and_dates() -> None:
    assert protocol.fit("amount2", "1250.50") == "1250.50元"
    assert protocol.fit("amount2", "not money") == "0元"
    assert protocol.fit("date3", "2026-12-01T09:00:00+08:00") == "2026年12月1日"
    assert protocol.fit("phrase1", "一二三四五六") == "一二三四五"


def test_the_subscribe_body() -> None:
    body = protocol.subscribe_body("oX", "TPL", "pages/a", {"thing1": {"value": "v"}}, "formal")
    assert body == {"touser": "oX", "template_id": "TPL", "page": "pages/a", "data": {"thing1": {"value": "v"}},
                    "miniprogram_state": "formal", "lang": "zh_CN"}
    assert "page" not in protocol.subscribe_body("oX", "TPL", None, {}, "trial")
