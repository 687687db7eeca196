"""adapters.yueshengshi.protocol: signatures (known vectors), headers, envelopes, the code table, id_tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest
from cryptography.hazmat.primitives import hashes

from adapters.yueshengshi import protocol
from gateway.calls import BinaryAnswer
from gateway.errors import CODES, ErrorCode, FieldError, GatewayError

#: CONTRACTS.md section 3, column "yueshengshi code", copied from the contract (not from the code under test)
CONTRACT_TABLE = {
    "VALIDATION_FAILED": 1001, "INVALID_CASE_NUMBER": 1002, "INVALID_ID_NUMBER": 1003, "PAYLOAD_TOO_LARGE": 1004,
    "UNSUPPORTED_MEDIA_TYPE": 1005, "UNAUTHENTICATED": 2001, "SIGNATURE_INVALID": 2002, "REPLAYED_REQUEST": 2005,
    "SESSION_EXPIRED": 2006, "IDENTITY_REJECTED": 2007, "ASSURANCE_TOO_LOW": 2003, "SERVICE_NOT_ENABLED": 2008,
    "NOT_FOUND": 2004, "IDEMPOTENCY_IN_PROGRESS": 3003, "DEADLINE_PASSED": 3001, "IDEMPOTENCY_KEY_REUSED": 3002,
    "BACKEND_REJECTED": 3004, "RATE_LIMITED": 4001, "INTERNAL": 5000, "BACKEND_UNAVAILABLE": 5001,
    "SERVICE_UNAVAILABLE": 5003, "BACKEND_TIMEOUT": 5002,
}
CHINESE = re.compile(r"[\u4e00-\u9fa5]")

SECRET = b"yss-test-secret-0123456789"
PATH = b"/channels/yueshengshi/gateway/cases.progress"
TIMESTAMP = "1767225600000"
NONCE = "abcdEFGH12345678"
BODY = '{"case_no":"（2026）粤0106民初22468号"}'.encode()


# --- an independent SM3 HMAC, built from the hash alone (RFC 2104) -----------------------------------


def sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def hmac_sm3(key: bytes, message: bytes) -> bytes:
    block = 64
    key = sm3(key) if len(key) > block else key
    key = key.ljust(block, b"\0")
    inner = sm3(bytes(b ^ 0x36 for b in key) + message)
    return sm3(bytes(b ^ 0x5C for b in key) + inner)


def by_formula(algorithm: str, method: str, path: bytes, timestamp: str, nonce: str, body: bytes) -> str:
    """The contract's formula written out: hex(HMAC(secret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex(DIGEST(body))))."""
    if algorithm == "hmac-sm3":
        message = b"\n".join([method.encode(), path, timestamp.encode(), nonce.encode(), sm3(body).hex().encode()])
        return hmac_sm3(SECRET, message).hex()
    message = b"\n".join([method.encode(), path, timestamp.encode(), nonce.encode(),
                          hashlib.sha256(body).hexdigest().encode()])
    return hmac.new(SECRET, message, hashlib.sha256).hexdigest()


def test_sm3_is_the_national_standard_hash() -> None:
    # GB/T 32905-2016 appendix A examples 1 and 2
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert protocol.body_digest("hmac-sm3", b"abcd" * 16) == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")


@pytest.mark.parametrize("algorithm", ["hmac-sm3", "hmac-sha256"])
@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", PATH, BODY),
    ("POST", b"/channels/yueshengshi/login", b'{"code":"yss-demo-zhangwei"}'),
    ("GET", b"/channels/yueshengshi/gateway/courts.list?page=2&q=%E8%B5%B7", b""),
    ("POST", b"/channels/yueshengshi/gateway/judge_messages.send", "留言".encode() * 5000),
])
def test_signatures_match_the_formula(algorithm: protocol.SignAlgorithm, method: str, path: bytes,
                                      body: bytes) -> None:
    offered = protocol.signature(algorithm, SECRET, method, path, TIMESTAMP, NONCE,
                                 protocol.body_digest(algorithm, body))
    assert offered == by_formula(algorithm, method, path, TIMESTAMP, NONCE, body)
    assert re.fullmatch(r"[0-9a-f]{64}", offered)


def test_pinned_vectors() -> None:
    # Computed once with `openssl dgst -sm3 -hmac` and Python's hmac module, then pinned.
    assert protocol.body_digest("hmac-sm3", BODY) == "36f4fd450143c4802951c2bdfae41a8c413288cd3ebbbe3595ca61b3e1995035"
    assert protocol.signature("hmac-sm3", SECRET, "POST", PATH, TIMESTAMP, NONCE,
                              protocol.body_digest("hmac-sm3", BODY)) == (
        "14b0729d4a29a93b570198a9f27333f57026752c0683123e15b42f511e3eab69")
    assert protocol.signature("hmac-sha256", SECRET, "POST", PATH, TIMESTAMP, NONCE,
                              protocol.body_digest("hmac-sha256", BODY)) == (
        "8af2d480a982c2f190c3031eedd7bef1891a434e3bcec13eaa6325b4793ee93e")


@pytest.mark.parametrize("algorithm", ["hmac-sm3", "hmac-sha256"])
def test_the_streamed_digest_equals_the_one_shot_digest(algorithm: protocol.SignAlgorithm) -> None:
    digest = protocol.BodyDigest(algorithm)
    for start in range(0, len(BODY), 7):
        digest.update(BODY[start:start + 7])
    assert digest.hexdigest() == protocol.body_digest(algorithm, BODY)


def test_every_part_of_the_request_is_covered_by_the_signature() -> None:
    base = ("hmac-sm3", SECRET, "POST", PATH, TIMESTAMP, NONCE, protocol.body_digest("hmac-sm3", BODY))
    reference = protocol.signature(*base)  # type: ignore[arg-type]
    variants = [
        ("hmac-sha256", *base[1:]), (base[0], b"other-secret", *base[2:]), (*base[:2], "PUT", *base[3:]),
        (*base[:3], PATH + b"?x=1", *base[4:]), (*base[:4], "1767225600001", *base[5:]),
        (*base[:5], "abcdEFGH12345679", base[6]), (*base[:6], protocol.body_digest("hmac-sm3", BODY + b" ")),
    ]
    assert all(protocol.signature(*v) != reference for v in variants)  # type: ignore[arg-type]


def test_path_keeps_the_raw_query() -> None:
    assert protocol.request_path(b"/channels/yueshengshi/login") == b"/channels/yueshengshi/login"
    assert protocol.request_path(b"/a/b%20c", b"x=1&y=%E4%B8%AD") == b"/a/b%20c?x=1&y=%E4%B8%AD"


def test_signing_headers_are_what_the_platform_sends() -> None:
    headers = protocol.signing_headers("hmac-sm3", SECRET, "yss-gz-court", "POST", PATH, BODY, 1767225600000, NONCE)
    assert headers == {"X-Dgi-Req-App": "yss-gz-court", "X-Dgi-Req-Nonce": NONCE,
                       "X-Dgi-Req-Timestamp": TIMESTAMP,
                       "X-Dgi-Req-Signature": "14b0729d4a29a93b570198a9f27333f57026752c0683123e15b42f511e3eab69"}


# --- header parsing ---------------------------------------------------------------------------------


def good_headers(**changes: str) -> dict[str, str]:
    headers = {protocol.HEADER_APP: "yss-gz-court", protocol.HEADER_NONCE: NONCE,
               protocol.HEADER_TIMESTAMP: TIMESTAMP, protocol.HEADER_SIGNATURE: "ab" * 32}
    headers.update(changes)
    return {k: v for k, v in headers.items() if v is not None}


def test_signed_headers_are_read() -> None:
    parsed = protocol.signed_headers(good_headers(), "yss-gz-court")
    assert (parsed.app, parsed.nonce, parsed.timestamp, parsed.signature) == ("yss-gz-court", NONCE, TIMESTAMP,
                                                                               "ab" * 32)


@pytest.mark.parametrize(("changes", "code"), [
    ({protocol.HEADER_APP: ""}, ErrorCode.UNAUTHENTICATED),
    ({protocol.HEADER_APP: "yss-other-app"}, ErrorCode.UNAUTHENTICATED),
    ({protocol.HEADER_APP: "yss-other-app", protocol.HEADER_NONCE: "short"}, ErrorCode.UNAUTHENTICATED),
    ({protocol.HEADER_SIGNATURE: ""}, ErrorCode.SIGNATURE_INVALID),
    ({protocol.HEADER_TIMESTAMP: ""}, ErrorCode.SIGNATURE_INVALID),
    ({protocol.HEADER_NONCE: "short"}, ErrorCode.SIGNATURE_INVALID),
    ({protocol.HEADER_NONCE: "a" * 17}, ErrorCode.SIGNATURE_INVALID),
    ({protocol.HEADER_NONCE: "abcdefgh\n1234567"}, ErrorCode.SIGNATURE_INVALID),
])
def test_missing_or_misshapen_headers(changes: dict[str, str], code: ErrorCode) -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.signed_headers(good_headers(**changes), "yss-gz-court")
    assert caught.value.code is code


# --- envelopes and the code table ---------------------------------------------------------------------


def test_the_table_covers_every_code_exactly_as_the_contract_says() -> None:
    assert {code.value: number for code, number in protocol.ERROR_CODES.items()} == CONTRACT_TABLE
    assert set(protocol.ERROR_CODES) == set(ErrorCode)


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.value)
def test_every_error_renders_its_code_status_and_a_chinese_message(code: ErrorCode) -> None:
    body = protocol.error_body(GatewayError(code, "developer detail"), "req-00000001")
    assert body["code"] == CONTRACT_TABLE[code.value]
    assert body["msg"] == CODES[code].message and CHINESE.search(body["msg"])
    assert body["requestId"] == "req-00000001" and body["detail"] == "developer detail"
    assert "data" not in body
    expected_status = 401 if code in (ErrorCode.SIGNATURE_INVALID, ErrorCode.REPLAYED_REQUEST) else 200
    assert protocol.http_status(code) == expected_status
    assert protocol.canonical_code(body["code"]) is code


def test_errors_carry_field_errors_and_extras_without_overwriting_the_envelope() -> None:
    error = GatewayError(ErrorCode.ASSURANCE_TOO_LOW, "needs L3", [FieldError("case_no", "缺少案号")],
                         extra={"required_assurance": "L3", "code": 0, "msg": "success"})
    body = protocol.error_body(error, "req-2")
    assert body["code"] == 2003 and body["msg"] == CODES[ErrorCode.ASSURANCE_TOO_LOW].message
    assert body["errors"] == [{"field": "case_no", "message": "缺少案号"}]
    assert body["requiredAssurance"] == "L3"


def test_success_carries_the_result_unchanged() -> None:
    result = {"case_no": "（2026）粤0106民初22468号", "nodes": [{"code": "FILED"}], "next_hearing": None}
    assert protocol.success_body(result) == {"code": 0, "msg": "success", "data": result}
    queued = {"status": "queued", "delivery_id": "d-1"}
    assert protocol.success_body(queued)["data"] == queued


def test_a_file_is_rendered_as_base64() -> None:
    answer = BinaryAnswer(b"%PDF-1.7 template", "application/pdf", "起诉状.pdf")
    data = protocol.success_body(answer)["data"]
    assert data == {"file_name": "起诉状.pdf", "content_type": "application/pdf", "size": 17,
                    "content_base64": base64.b64encode(b"%PDF-1.7 template").decode()}


def test_req_seq_is_taken_out_of_the_arguments() -> None:
    body = {"case_no": "（2026）粤0106民初22468号", "text": "请回电", "reqSeq": "seq-1"}
    args, key = protocol.split_arguments(body)
    assert key == "seq-1" and "reqSeq" not in args and args["text"] == "请回电"
    assert body["reqSeq"] == "seq-1"  # the caller's dict is left alone
    assert protocol.split_arguments({"a": 1}) == ({"a": 1}, None)
    with pytest.raises(GatewayError) as caught:
        protocol.split_arguments({"reqSeq": 42})
    assert caught.value.code is ErrorCode.VALIDATION_FAILED


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 5}, {"code": "x" * 513}])
def test_login_needs_a_code(body: dict[str, object]) -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.login_code(body)
    assert caught.value.code is ErrorCode.VALIDATION_FAILED


# --- the identity platform's answers ------------------------------------------------------------------


def test_token_request_is_client_secret_post() -> None:
    assert protocol.token_request("c0de", "gz-court", "s3cret") == {
        "grant_type": "authorization_code", "code": "c0de", "client_id": "gz-court", "client_secret": "s3cret"}


@pytest.mark.parametrize(("status", "answer", "code"), [
    (400, {"error": "invalid_grant"}, ErrorCode.UNAUTHENTICATED),
    (400, {"error": "invalid_request"}, ErrorCode.UNAUTHENTICATED),
    (401, {"error": "invalid_client"}, ErrorCode.SERVICE_UNAVAILABLE),
    (500, {"error": "server_error"}, ErrorCode.SERVICE_UNAVAILABLE),
    (502, None, ErrorCode.SERVICE_UNAVAILABLE),
    (200, {"access_token": "a"}, ErrorCode.SERVICE_UNAVAILABLE),
    (200, ["not", "an", "object"], ErrorCode.SERVICE_UNAVAILABLE),
])
def test_token_endpoint_answers(status: int, answer: object, code: ErrorCode) -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.id_token_of(status, answer)
    assert caught.value.code is code


def test_token_endpoint_success() -> None:
    assert protocol.id_token_of(200, {"access_token": "a", "id_token": "h.p.s", "expires_in": 600}) == "h.p.s"


CLAIMS = {"iss": "https://idp.test", "aud": "gz-court", "exp": 1_000_000, "sub": "u1"}


@pytest.mark.parametrize("changes", [
    {"iss": "https://evil.test"}, {"aud": "another-client"}, {"aud": ["x", "y"]}, {"exp": None},
    {"exp": 1_000_000 - 10_000}, {"nbf": 1_000_000 + 10_000}, {"exp": True},
])
def test_id_token_claims_are_checked(changes: dict[str, object]) -> None:
    claims = {**CLAIMS, **changes}
    with pytest.raises(GatewayError) as caught:
        protocol.check_id_token_claims(claims, issuer="https://idp.test", audience="gz-court", now=999_000)
    assert caught.value.code is ErrorCode.UNAUTHENTICATED


def test_id_token_claims_pass() -> None:
    protocol.check_id_token_claims(CLAIMS, issuer="https://idp.test", audience="gz-court", now=999_000)
    protocol.check_id_token_claims({**CLAIMS, "aud": ["other", "gz-court"]}, issuer="https://idp.test",
                                   audience="gz-court", now=1_000_010)  # within the clock skew


def test_identity_of_a_real_name_person_is_normalised() -> None:
    identity = protocol.identity_of({"sub": "u1", "acr": "L3", "name": " 张伟 ", "id_number": "11010519491231002x",
                                     "phone_number": "+86 136 3141 5926"})
    assert identity == protocol.Identity("u1", "L3", "13631415926", "张伟", "ID_CARD", "11010519491231002X")


def test_identity_of_the_demo_person() -> None:
    identity = protocol.identity_of({"sub": "u1", "acr": "L2", "name": "张伟", "id_number": "440106199001011235",
                                     "phone_number": "13631415926"})
    assert identity == protocol.Identity("u1", "L2", "13631415926", "张伟", "ID_CARD", "440106199001011235")


@pytest.mark.parametrize("acr", ["L1", None, "L4", "", 2])
def test_anything_but_l2_or_l3_is_an_account_only(acr: object) -> None:
    identity = protocol.identity_of({"sub": "u1", "acr": acr, "name": "张伟", "id_number": "440106199001011235",
                                     "phone_number": "not a phone"})
    assert identity == protocol.Identity("u1", "L1", None)


@pytest.mark.parametrize(("claims", "code"), [
    ({"acr": "L2", "name": "张伟", "id_number": "440106199001011235"}, ErrorCode.UNAUTHENTICATED),
    ({"sub": "u1", "acr": "L2", "id_number": "440106199001011235"}, ErrorCode.IDENTITY_REJECTED),
    ({"sub": "u1", "acr": "L2", "name": "张伟"}, ErrorCode.IDENTITY_REJECTED),
    ({"sub": "u1", "acr": "L2", "name": "张伟", "id_number": "440106199001011234"}, ErrorCode.IDENTITY_REJECTED),
])
def test_incomplete_identities_are_refused(claims: dict[str, object], code: ErrorCode) -> None:
    with pytest.raises(GatewayError) as caught:
        protocol.identity_of(claims)
    assert caught.value.code is code
