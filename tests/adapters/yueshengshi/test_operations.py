"""粤省事 operations end to end: signature checks in order, canonical results, access, idempotency, uploads,
and two gateway instances on one Redis."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from adapters.yueshengshi.driver import YueshengshiDriver, answer_of
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE, DemoPerson
from tests.adapters.yueshengshi.support import PDF, yss_stack
from tests.support.stack import RedisServer, Stack
from workbench.drivers import ChannelAnswer, Person, Session

ZW = DEMO_PEOPLE["zhangwei"]
WF = DEMO_PEOPLE["wangfang"]
TRIAL = DEMO_CASES["zhangwei_yue0106_trial"]


def person(demo: DemoPerson) -> Person:
    return Person(demo.name, demo.id_number, phone=demo.phone)


@dataclass
class Setup:
    stack: Stack
    sm3: YueshengshiDriver
    sha256: YueshengshiDriver
    zhangwei: Session
    wangfang: Session


@pytest.fixture(scope="module")
async def setup() -> AsyncIterator[Setup]:
    sm3 = YueshengshiDriver("yueshengshi", "hmac-sm3")
    sha256 = YueshengshiDriver("yss-sha256", "hmac-sha256", settings={"services": ["courts.list", "cases.progress"]})
    async with yss_stack([sm3, sha256]) as stack, httpx.AsyncClient(timeout=20) as client:
        zhangwei = await sm3.sign_in(client, stack.gateway_url, person(ZW))
        wangfang = await sm3.sign_in(client, stack.gateway_url, person(WF))
        yield Setup(stack, sm3, sha256, zhangwei, wangfang)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as http:
        yield http


def token(session: Session) -> str:
    return str(session.values["user_token"])


def last_seq(stack: Stack) -> int:
    entries = stack.journal.entries()
    return int(entries[-1]["seq"]) if entries else 0


def court_saw(stack: Stack, since: int, fragment: str) -> list[dict[str, Any]]:
    return [e for e in stack.journal.entries(since=since) if fragment in e["path"]]


async def canonical_progress(client: httpx.AsyncClient, stack: Stack, demo: DemoPerson, case_no: str) -> Any:
    bearer = stack.issuer.citizen({"name": demo.name, "id_number": demo.id_number}, acr="L2")
    answer = await client.get(f"{stack.gateway_url}/api/v1/cases/{quote(case_no, safe='')}/progress",
                              headers={"Authorization": f"Bearer {bearer}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


# --- results ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["sm3", "sha256"])
async def test_progress_for_a_party_is_the_canonical_result(setup: Setup, client: httpx.AsyncClient,
                                                            channel: str) -> None:
    driver = setup.sm3 if channel == "sm3" else setup.sha256
    session = setup.zhangwei if channel == "sm3" else await driver.sign_in(client, setup.stack.gateway_url,
                                                                           person(ZW))
    answer = await driver.call(client, setup.stack.gateway_url, session, "cases.progress", {"case_no": TRIAL})
    assert answer.http_status == 200 and answer.body["code"] == 0 and answer.body["msg"] == "success"
    assert answer.data == await canonical_progress(client, setup.stack, ZW, TRIAL)
    assert answer.headers["X-Request-Id"]


async def test_half_width_parentheses_reach_the_same_case(setup: Setup, client: httpx.AsyncClient) -> None:
    half = TRIAL.replace("（", "(").replace("）", ")")
    answer = await setup.sm3.call(client, setup.stack.gateway_url, setup.zhangwei, "cases.progress",
                                  {"case_no": half})
    assert answer.ok and answer.data["case_no"] == TRIAL


async def test_a_non_party_gets_not_found_and_the_court_never_sees_the_operation(
    setup: Setup, client: httpx.AsyncClient
) -> None:
    since = last_seq(setup.stack)
    answer = await setup.sm3.call(client, setup.stack.gateway_url, setup.wangfang, "cases.progress",
                                  {"case_no": TRIAL})
    assert answer.code == "NOT_FOUND" and answer.body["code"] == 2004 and answer.http_status == 200
    assert court_saw(setup.stack, since, "/progress") == []
    assert len(court_saw(setup.stack, since, "/access")) == 1  # only the participant check
    missing = await setup.sm3.call(client, setup.stack.gateway_url, setup.wangfang, "cases.progress",
                                   {"case_no": "（2026）粤0106民初99999号"})
    assert missing.body == {**answer.body, "requestId": missing.body["requestId"]}  # identical to a missing case


async def test_public_operations_need_no_user_token(setup: Setup, client: httpx.AsyncClient) -> None:
    answer = await setup.sm3.call(client, setup.stack.gateway_url, None, "courts.list", {})
    assert answer.ok and {"code": "粤0106", "name": "天河区人民法院"} in answer.data["items"]
    refused = await setup.sm3.call(client, setup.stack.gateway_url, None, "cases.progress", {"case_no": TRIAL})
    assert refused.code == "UNAUTHENTICATED" and refused.http_status == 200


async def test_a_template_file_comes_as_base64(setup: Setup, client: httpx.AsyncClient) -> None:
    listing = await setup.sm3.call(client, setup.stack.gateway_url, None, "templates.list", {})
    assert listing.ok and listing.data["items"]
    template_id = listing.data["items"][0]["template_id"]
    answer = await setup.sm3.call(client, setup.stack.gateway_url, None, "templates.download",
                                  {"template_id": template_id})
    assert answer.ok and set(answer.data) == {"file_name", "content_type", "size", "content_base64"}
    direct = await client.get(f"{setup.stack.gateway_url}/api/v1/templates/{template_id}/file")
    assert base64.b64decode(answer.data["content_base64"]) == direct.content
    assert answer.data["size"] == len(direct.content)


@pytest.mark.parametrize(("operation", "args", "code", "number"), [
    ("no.such.operation", {}, "NOT_FOUND", 2004),
    ("cases.progress", {"case_no": "这不是一个案号"}, "INVALID_CASE_NUMBER", 1002),
    ("cases.progress", {"case_no": TRIAL, "status": "CLOSED"}, "VALIDATION_FAILED", 1001),
    ("judge_messages.send", {"case_no": TRIAL, "text": "请回电"}, "VALIDATION_FAILED", 1001),  # no reqSeq
])
async def test_errors_come_back_in_the_envelope(setup: Setup, client: httpx.AsyncClient, operation: str,
                                                args: dict[str, Any], code: str, number: int) -> None:
    answer = await setup.sm3.call(client, setup.stack.gateway_url, setup.zhangwei, operation, args)
    assert answer.http_status == 200 and answer.code == code and answer.body["code"] == number
    assert answer.body["msg"] and answer.body["requestId"] == answer.headers["X-Request-Id"]


async def test_a_service_the_channel_does_not_offer(setup: Setup, client: httpx.AsyncClient) -> None:
    answer = await setup.sha256.call(client, setup.stack.gateway_url, None, "templates.list", {})
    assert answer.code == "SERVICE_NOT_ENABLED" and answer.body["code"] == 2008


async def test_other_routes_and_methods_answer_in_the_envelope(setup: Setup, client: httpx.AsyncClient) -> None:
    base = f"{setup.stack.gateway_url}/channels/yueshengshi"
    for response in (await client.get(f"{base}/gateway/courts.list"), await client.post(f"{base}/nowhere")):
        assert response.status_code == 200 and response.json()["code"] == 2004


async def test_an_oversized_body_is_refused_while_read(setup: Setup, client: httpx.AsyncClient) -> None:
    body = {"case_no": TRIAL, "text": "x" * (2**20 + 10)}
    answer = await setup.sm3.call(client, setup.stack.gateway_url, setup.zhangwei, "judge_messages.send", body,
                                  "big-1")
    assert answer.code == "PAYLOAD_TOO_LARGE" and answer.body["code"] == 1004


# --- writes -----------------------------------------------------------------------------------------


async def test_req_seq_makes_a_write_idempotent(setup: Setup, client: httpx.AsyncClient) -> None:
    since = last_seq(setup.stack)
    key = "seq-" + secrets.token_hex(6)
    args = {"case_no": TRIAL, "text": "请承办法官回电，谢谢。"}
    first = await setup.sm3.call(client, setup.stack.gateway_url, setup.zhangwei, "judge_messages.send", args, key)
    again = await setup.sm3.call(client, setup.stack.gateway_url, setup.zhangwei, "judge_messages.send", args, key)
    assert first.ok and first.data["message_id"] and "Idempotent-Replayed" not in first.headers
    assert again.ok and again.data == first.data and again.headers["Idempotent-Replayed"] == "true"
    posts = [e for e in court_saw(setup.stack, since, "/judge-messages") if e["method"] == "POST"]
    assert len(posts) == 1
    assert "reqSeq" not in posts[0]["body"] and posts[0]["body"]["text"] == args["text"]
    sub = posts[0]["actor"]["sub"]
    assert posts[0]["headers"]["idempotency-key"] == hashlib.sha256(f"yueshengshi\n{sub}\n{key}".encode()).hexdigest()
    reused = await setup.sm3.call(client, setup.stack.gateway_url, setup.zhangwei, "judge_messages.send",
                                  {**args, "text": "另一条留言"}, key)
    assert reused.code == "IDEMPOTENCY_KEY_REUSED" and reused.body["code"] == 3002


async def test_upload_then_submit_materials(setup: Setup, client: httpx.AsyncClient) -> None:
    upload = await setup.sm3.call(client, setup.stack.gateway_url, setup.zhangwei, "uploads.create",
                                  {"court": "粤0106", "file": ("证据一.pdf", PDF, "application/pdf")}, "up-1")
    assert upload.ok, upload.body
    assert upload.data["sha256"] == hashlib.sha256(PDF).hexdigest() and upload.data["size"] == len(PDF)
    assert upload.data["content_type"] == "application/pdf"
    documents = [{"upload_id": upload.data["upload_id"], "name": "证据一.pdf"}]
    submitted = await setup.sm3.call(client, setup.stack.gateway_url, setup.zhangwei, "materials.submit",
                                     {"case_no": TRIAL, "kind": "evidence", "documents": documents},
                                     "mat-" + secrets.token_hex(4))
    assert submitted.ok and submitted.data["submission_id"], submitted.body
    # Another person cannot use that upload.
    stolen = await setup.sm3.call(client, setup.stack.gateway_url, setup.wangfang, "materials.submit",
                                  {"case_no": TRIAL, "kind": "evidence", "documents": documents}, "mat-x")
    assert stolen.code == "NOT_FOUND"


async def test_an_upload_is_signed_over_its_exact_bytes(setup: Setup, client: httpx.AsyncClient) -> None:
    driver, url = setup.sm3, setup.stack.gateway_url
    signed = driver.sign(driver._upload_request(client, url, token(setup.zhangwei),
                                                {"court": "粤0106", "file": ("a.pdf", PDF, "application/pdf")}, "up-2"))
    swapped = driver._upload_request(client, url, token(setup.zhangwei),
                                     {"court": "粤0106", "file": ("a.pdf", PDF + b"%tampered", "application/pdf")},
                                     "up-2")
    for name in ("X-Dgi-Req-App", "X-Dgi-Req-Nonce", "X-Dgi-Req-Timestamp", "X-Dgi-Req-Signature"):
        swapped.headers[name] = signed.headers[name]
    answer = answer_of(await client.send(swapped))
    assert answer.http_status == 401 and answer.code == "SIGNATURE_INVALID"
    unsupported = await driver.call(client, url, setup.zhangwei, "uploads.create",
                                    {"court": "粤0106", "file": ("a.exe", b"MZ\x90\x00", "application/pdf")}, "up-3")
    assert unsupported.code == "UNSUPPORTED_MEDIA_TYPE" and unsupported.body["code"] == 1005


# --- the signature checks, in the contract's order ----------------------------------------------------


def courts_request(setup: Setup, client: httpx.AsyncClient, query: str = "") -> httpx.Request:
    return setup.sm3.request(client, setup.stack.gateway_url, "gateway/courts.list" + query, {})


async def send(setup: Setup, client: httpx.AsyncClient, request: httpx.Request) -> ChannelAnswer:
    return answer_of(await client.send(request))


async def test_an_unknown_app_id_is_unauthenticated(setup: Setup, client: httpx.AsyncClient) -> None:
    answer = await send(setup, client, setup.sm3.sign(courts_request(setup, client), app_id="someone-else"))
    assert answer.http_status == 200 and answer.code == "UNAUTHENTICATED" and answer.body["code"] == 2001
    unsigned = await client.post(f"{setup.stack.gateway_url}/channels/yueshengshi/gateway/courts.list", json={})
    assert unsigned.status_code == 200 and unsigned.json()["code"] == 2001


async def test_a_bad_signature_does_not_burn_the_nonce(setup: Setup, client: httpx.AsyncClient) -> None:
    nonce = secrets.token_hex(8)
    bad = await send(setup, client, setup.sm3.sign(courts_request(setup, client), nonce=nonce, secret="wrong"))
    assert bad.http_status == 401 and bad.code == "SIGNATURE_INVALID" and bad.body["code"] == 2002
    good = await send(setup, client, setup.sm3.sign(courts_request(setup, client), nonce=nonce))
    assert good.ok


async def test_a_bad_signature_with_a_used_nonce_is_still_signature_invalid(setup: Setup,
                                                                            client: httpx.AsyncClient) -> None:
    nonce = secrets.token_hex(8)
    assert (await send(setup, client, setup.sm3.sign(courts_request(setup, client), nonce=nonce))).ok
    bad = await send(setup, client, setup.sm3.sign(courts_request(setup, client), nonce=nonce, secret="wrong"))
    assert bad.http_status == 401 and bad.code == "SIGNATURE_INVALID"
    replay = await send(setup, client, setup.sm3.sign(courts_request(setup, client), nonce=nonce))
    assert replay.http_status == 401 and replay.code == "REPLAYED_REQUEST" and replay.body["code"] == 2005


@pytest.mark.parametrize(("offset_s", "accepted"), [(-301, False), (301, False), (-250, True), (250, True)])
async def test_the_timestamp_window(setup: Setup, client: httpx.AsyncClient, offset_s: int, accepted: bool) -> None:
    stamp = int((time.time() + offset_s) * 1000)
    answer = await send(setup, client, setup.sm3.sign(courts_request(setup, client), timestamp_ms=stamp))
    if accepted:
        assert answer.ok
    else:
        assert answer.http_status == 401 and answer.code == "REPLAYED_REQUEST"


async def test_a_stale_request_does_not_burn_its_nonce(setup: Setup, client: httpx.AsyncClient) -> None:
    nonce = secrets.token_hex(8)
    stale = int((time.time() - 400) * 1000)
    assert (await send(setup, client, setup.sm3.sign(courts_request(setup, client), nonce=nonce,
                                                     timestamp_ms=stale))).code == "REPLAYED_REQUEST"
    assert (await send(setup, client, setup.sm3.sign(courts_request(setup, client), nonce=nonce))).ok


async def test_the_path_query_and_body_are_signed(setup: Setup, client: httpx.AsyncClient) -> None:
    with_query = setup.sm3.sign(courts_request(setup, client, "?page=2"))
    assert (await send(setup, client, with_query)).ok  # the raw query is part of PATH
    signed = setup.sm3.sign(courts_request(setup, client, "?page=2"))
    moved = courts_request(setup, client, "?page=3")
    moved.headers.update({k: v for k, v in signed.headers.items() if k.lower().startswith("x-dgi-req")})
    assert (await send(setup, client, moved)).code == "SIGNATURE_INVALID"
    signed = setup.sm3.sign(setup.sm3.request(client, setup.stack.gateway_url, "gateway/courts.list", {"a": 1}))
    other_body = setup.sm3.request(client, setup.stack.gateway_url, "gateway/courts.list", {"a": 2})
    other_body.headers.update({k: v for k, v in signed.headers.items() if k.lower().startswith("x-dgi-req")})
    assert (await send(setup, client, other_body)).code == "SIGNATURE_INVALID"


async def test_the_other_algorithm_does_not_verify(setup: Setup, client: httpx.AsyncClient) -> None:
    driver = YueshengshiDriver("yueshengshi", "hmac-sha256")
    driver.secret, driver.app_id = setup.sm3.secret, setup.sm3.app_id  # right key, wrong algorithm
    answer = await send(setup, client, driver.sign(courts_request(setup, client)))
    assert answer.code == "SIGNATURE_INVALID"


@pytest.mark.parametrize("missing", ["X-Dgi-Req-Nonce", "X-Dgi-Req-Timestamp", "X-Dgi-Req-Signature"])
async def test_missing_signing_headers(setup: Setup, client: httpx.AsyncClient, missing: str) -> None:
    request = setup.sm3.sign(courts_request(setup, client))
    del request.headers[missing]
    answer = await send(setup, client, request)
    assert answer.http_status == 401 and answer.code == "SIGNATURE_INVALID"


# --- two instances, one Redis -----------------------------------------------------------------------


async def test_two_instances_on_one_redis_agree_on_nonces_and_sessions(redis_server: RedisServer,
                                                                       client: httpx.AsyncClient) -> None:
    driver = YueshengshiDriver("yueshengshi")
    shared = {"GATEWAY_SECRET": secrets.token_urlsafe(32)}
    async with yss_stack([driver], state=redis_server.url, env=shared) as first, \
            yss_stack([driver], state=redis_server.url, env=shared) as second:
        session = await driver.sign_in(client, first.gateway_url, person(ZW))
        # A session opened on one instance works on the other.
        moved = await driver.call(client, second.gateway_url, session, "cases.progress", {"case_no": TRIAL})
        assert moved.ok and moved.data["case_no"] == TRIAL
        # One signed request, sent to both: the second instance knows the nonce is spent.
        nonce = secrets.token_hex(8)
        stamp = int(time.time() * 1000)
        for base, expected in ((first.gateway_url, None), (second.gateway_url, "REPLAYED_REQUEST")):
            request = driver.sign(driver.request(client, base, "gateway/courts.list", {}), nonce=nonce,
                                  timestamp_ms=stamp)
            answer = answer_of(await client.send(request))
            assert answer.code == expected
