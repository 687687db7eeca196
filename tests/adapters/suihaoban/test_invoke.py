"""穗好办 end to end: the signed envelope in the contract's order, tickets and their cache, canonical
results, access, idempotency, uploads, and two gateway instances on one Redis."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

from adapters.suihaoban.driver import SuihaobanDriver, answer_of
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE, DemoPerson
from tests.adapters.suihaoban.support import PDF, shb_stack
from tests.support.stack import RedisServer, Stack, free_port
from workbench.drivers import ChannelAnswer, Person, Session

ZW = DEMO_PEOPLE["zhangwei"]
WF = DEMO_PEOPLE["wangfang"]
TRIAL = DEMO_CASES["zhangwei_yue0106_trial"]


def person(demo: DemoPerson) -> Person:
    return Person(demo.name, demo.id_number, phone=demo.phone)


@dataclass
class Setup:
    stack: Stack
    shb: SuihaobanDriver
    slow: SuihaobanDriver
    down: SuihaobanDriver
    zhangwei: Session
    wangfang: Session


@pytest.fixture(scope="module")
async def setup() -> AsyncIterator[Setup]:
    shb = SuihaobanDriver("suihaoban")
    slow = SuihaobanDriver("shb-slow", settings={"usercenter_timeout_s": 0.5})
    slow.center.delay_s = 10.0  # far beyond the 0.5 s timeout
    down = SuihaobanDriver("shb-down")
    down_config = down.channel_config(f"http://127.0.0.1:{free_port()}")  # nobody listens there
    async with shb_stack([shb, slow], channels={down.channel: down_config}, env=down.env()) as stack, \
            httpx.AsyncClient(timeout=20) as client:
        zhangwei = await shb.sign_in(client, stack.gateway_url, person(ZW))
        wangfang = await shb.sign_in(client, stack.gateway_url, person(WF))
        yield Setup(stack, shb, slow, down, zhangwei, wangfang)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as http:
        yield http


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


async def invoke(setup: Setup, client: httpx.AsyncClient, envelope: dict[str, Any],
                 driver: SuihaobanDriver | None = None) -> ChannelAnswer:
    return await (driver or setup.shb).post(client, setup.stack.gateway_url, envelope)


# --- results ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sign_type", ["HMAC-SHA256", "HMAC-SM3"])
async def test_progress_for_a_party_is_the_canonical_result(setup: Setup, client: httpx.AsyncClient,
                                                            sign_type: str) -> None:
    setup.shb.sign_type = sign_type
    try:
        answer = await setup.shb.call(client, setup.stack.gateway_url, setup.zhangwei, "cases.progress",
                                      {"case_no": TRIAL})
    finally:
        setup.shb.sign_type = "HMAC-SHA256"
    assert answer.http_status == 200 and answer.body["resultCode"] == "0000" and answer.body["resultMsg"] == "成功"
    entry = court_saw(setup.stack, 0, "/progress")[-1]
    assert entry["actor"]["channel"] == "suihaoban" and entry["actor"]["assurance"] == "L2"
    assert answer.data == await canonical_progress(client, setup.stack, ZW, TRIAL)


async def test_a_non_party_gets_not_found_and_the_court_never_sees_the_operation(
    setup: Setup, client: httpx.AsyncClient
) -> None:
    since = last_seq(setup.stack)
    answer = await setup.shb.call(client, setup.stack.gateway_url, setup.wangfang, "cases.progress",
                                  {"case_no": TRIAL})
    assert answer.http_status == 200 and answer.code == "NOT_FOUND" and answer.body["resultCode"] == "4040"
    assert court_saw(setup.stack, since, "/progress") == []
    assert len(court_saw(setup.stack, since, "/access")) == 1


async def test_without_a_ticket_only_public_operations_pass(setup: Setup, client: httpx.AsyncClient) -> None:
    courts = await setup.shb.call(client, setup.stack.gateway_url, None, "courts.list", {})
    assert courts.ok and {"code": "粤0192", "name": "广州互联网法院"} in courts.data["items"]
    refused = await setup.shb.call(client, setup.stack.gateway_url, None, "cases.progress", {"case_no": TRIAL})
    assert refused.code == "UNAUTHENTICATED" and refused.body["resultCode"] == "4010"


async def test_an_account_only_ticket_is_l1(setup: Setup, client: httpx.AsyncClient) -> None:
    l1 = await setup.shb.sign_in(client, setup.stack.gateway_url, person(ZW), assurance="L1")
    answer = await setup.shb.call(client, setup.stack.gateway_url, l1, "cases.progress", {"case_no": TRIAL})
    assert answer.code == "ASSURANCE_TOO_LOW" and answer.body["resultCode"] == "4030"
    assert answer.body["requiredAssurance"] == "L2"


@pytest.mark.parametrize("ticket", ["shb-expired", "shb-never-issued"])
async def test_a_refused_ticket_is_unauthenticated(setup: Setup, client: httpx.AsyncClient, ticket: str) -> None:
    answer = await invoke(setup, client, setup.shb.envelope("courts.list", ticket=ticket))
    assert answer.http_status == 200 and answer.code == "UNAUTHENTICATED"


@pytest.mark.parametrize(("channel", "why"), [("shb-slow", "slow"), ("shb-down", "unreachable")])
async def test_a_user_center_in_trouble_is_service_unavailable(setup: Setup, client: httpx.AsyncClient,
                                                               channel: str, why: str) -> None:
    driver = setup.slow if channel == "shb-slow" else setup.down
    started = time.monotonic()
    answer = await invoke(setup, client, driver.envelope("courts.list", ticket="shb-demo-zhangwei"), driver)
    assert answer.http_status == 200 and answer.code == "SERVICE_UNAVAILABLE", why
    assert answer.body["resultCode"] == "5031" and answer.headers["Retry-After"] == "5"
    assert time.monotonic() - started < 5.0  # cut off by the 0.5 s timeout, not the 10 s user center


async def test_a_user_center_answering_503_is_service_unavailable(setup: Setup, client: httpx.AsyncClient) -> None:
    setup.shb.center.available = False
    try:
        answer = await invoke(setup, client, setup.shb.envelope("courts.list", ticket="shb-demo-liuyang"))
    finally:
        setup.shb.center.available = True
    assert answer.code == "SERVICE_UNAVAILABLE"


# --- the ticket cache -------------------------------------------------------------------------------


async def test_a_verified_ticket_is_cached(setup: Setup, client: httpx.AsyncClient) -> None:
    session = await setup.shb.sign_in(client, setup.stack.gateway_url, person(ZW))
    calls = setup.shb.center.verify_calls
    for _ in range(3):
        answer = await setup.shb.call(client, setup.stack.gateway_url, session, "cases.progress", {"case_no": TRIAL})
        assert answer.ok
    assert setup.shb.center.verify_calls == calls + 1
    # Shared with every instance through the state store, under a hash of the ticket (never the ticket).
    runtime = setup.stack.host.runtime
    assert runtime is not None
    adapter: Any = runtime.adapters["suihaoban"]
    key = adapter.user_center.state_key(session.values["ticket"])
    assert session.values["ticket"] not in key
    stored = await setup.stack.state.get(key)
    assert stored is not None
    record = orjson.loads(stored)
    assert record["id_number"] == ZW.id_number and record["phone"] == ZW.phone and record["assurance"] == "L2"
    assert record["exp"] - time.time() <= 1800


async def test_concurrent_first_calls_ask_the_user_center_once(setup: Setup, client: httpx.AsyncClient) -> None:
    session = await setup.shb.sign_in(client, setup.stack.gateway_url, person(ZW))
    calls = setup.shb.center.verify_calls
    setup.shb.center.delay_s = 0.3
    try:
        answers = await asyncio.gather(*(
            setup.shb.call(client, setup.stack.gateway_url, session, "courts.list", {}) for _ in range(5)))
    finally:
        setup.shb.center.delay_s = 0.0
    assert all(a.ok for a in answers)
    assert setup.shb.center.verify_calls == calls + 1


async def test_a_ticket_is_trusted_no_longer_than_the_user_center_says(setup: Setup,
                                                                       client: httpx.AsyncClient) -> None:
    session = await setup.shb.sign_in(client, setup.stack.gateway_url, person(ZW), expires_in=1)
    calls = setup.shb.center.verify_calls
    assert (await setup.shb.call(client, setup.stack.gateway_url, session, "courts.list", {})).ok
    await asyncio.sleep(1.2)
    assert (await setup.shb.call(client, setup.stack.gateway_url, session, "courts.list", {})).ok
    assert setup.shb.center.verify_calls == calls + 2


# --- writes -----------------------------------------------------------------------------------------


async def test_out_biz_no_makes_a_write_idempotent(setup: Setup, client: httpx.AsyncClient) -> None:
    since = last_seq(setup.stack)
    key = "biz-" + secrets.token_hex(6)
    args = {"case_no": TRIAL, "text": "请承办法官回电，谢谢。"}
    first = await setup.shb.call(client, setup.stack.gateway_url, setup.zhangwei, "judge_messages.send", args, key)
    again = await setup.shb.call(client, setup.stack.gateway_url, setup.zhangwei, "judge_messages.send", args, key)
    assert first.ok and first.data["message_id"] and "Idempotent-Replayed" not in first.headers
    assert again.ok and again.data == first.data and again.headers["Idempotent-Replayed"] == "true"
    posts = [e for e in court_saw(setup.stack, since, "/judge-messages") if e["method"] == "POST"]
    assert len(posts) == 1 and "outBizNo" not in posts[0]["body"]
    sub = posts[0]["actor"]["sub"]
    assert posts[0]["headers"]["idempotency-key"] == hashlib.sha256(f"suihaoban\n{sub}\n{key}".encode()).hexdigest()
    reused = await setup.shb.call(client, setup.stack.gateway_url, setup.zhangwei, "judge_messages.send",
                                  {**args, "text": "另一条"}, key)
    assert reused.code == "IDEMPOTENCY_KEY_REUSED" and reused.body["resultCode"] == "4221"
    missing = await setup.shb.call(client, setup.stack.gateway_url, setup.zhangwei, "judge_messages.send", args)
    assert missing.code == "VALIDATION_FAILED" and missing.body["resultCode"] == "4001"


async def test_upload_then_submit_materials(setup: Setup, client: httpx.AsyncClient) -> None:
    upload = await setup.shb.call(client, setup.stack.gateway_url, setup.zhangwei, "uploads.create",
                                  {"court": "粤0106", "file": ("证据一.pdf", PDF, "application/pdf")}, "up-1")
    assert upload.ok, upload.body
    assert upload.data["sha256"] == hashlib.sha256(PDF).hexdigest() and upload.data["size"] == len(PDF)
    documents = [{"upload_id": upload.data["upload_id"], "name": "证据一.pdf"}]
    submitted = await setup.shb.call(client, setup.stack.gateway_url, setup.zhangwei, "materials.submit",
                                     {"case_no": TRIAL, "kind": "evidence", "documents": documents}, "mat-1")
    assert submitted.ok and submitted.data["submission_id"], submitted.body


async def test_an_upload_must_be_the_file_signed_for(setup: Setup, client: httpx.AsyncClient) -> None:
    fields = setup.shb.envelope("uploads.create", {"court": "粤0106", "fileSha256": hashlib.sha256(PDF).hexdigest()},
                                ticket=setup.zhangwei.values["ticket"], idempotency_key="up-2")
    since = last_seq(setup.stack)
    response = await client.post(setup.shb.url(setup.stack.gateway_url), data=fields,
                                 files={"file": ("a.pdf", PDF + b"%other", "application/pdf")})
    answer = answer_of(response)
    assert answer.http_status == 200 and answer.code == "SIGNATURE_INVALID"
    assert court_saw(setup.stack, since, "/uploads") == []
    via_json = await invoke(setup, client, setup.shb.envelope("uploads.create", {"court": "粤0106"},
                                                              ticket=setup.zhangwei.values["ticket"]))
    assert via_json.code == "VALIDATION_FAILED"


# --- errors in the envelope ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "args", "code", "number"), [
    ("no.such.operation", {}, "NOT_FOUND", "4040"),
    ("cases.progress", {"case_no": "这不是一个案号"}, "INVALID_CASE_NUMBER", "4002"),
    ("cases.progress", {"case_no": TRIAL, "fee_paid": True}, "VALIDATION_FAILED", "4001"),
])
async def test_errors_come_back_in_the_envelope(setup: Setup, client: httpx.AsyncClient, method: str,
                                                args: dict[str, Any], code: str, number: str) -> None:
    answer = await setup.shb.call(client, setup.stack.gateway_url, setup.zhangwei, method, args)
    assert answer.http_status == 200 and answer.code == code and answer.body["resultCode"] == number
    assert answer.body["requestId"] == answer.headers["X-Request-Id"]


async def test_bodies_that_are_not_envelopes(setup: Setup, client: httpx.AsyncClient) -> None:
    url = setup.shb.url(setup.stack.gateway_url)
    for content in (b"", b"not json", b"[1,2]", orjson.dumps({**setup.shb.envelope("courts.list"), "timestamp": 1})):
        response = await client.post(url, content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 200 and response.json()["resultCode"] == "4001"
    other = await client.get(url)
    assert other.status_code == 200 and other.json()["resultCode"] == "4040"


# --- the signature checks, in the contract's order ----------------------------------------------------


async def test_an_unknown_app_is_unauthenticated(setup: Setup, client: httpx.AsyncClient) -> None:
    answer = await invoke(setup, client, setup.shb.envelope("courts.list", app_id="shb-someone-else"))
    assert answer.http_status == 200 and answer.code == "UNAUTHENTICATED" and answer.body["resultCode"] == "4010"


async def test_a_bad_sign_does_not_burn_the_nonce(setup: Setup, client: httpx.AsyncClient) -> None:
    nonce = secrets.token_hex(8)
    bad = await invoke(setup, client, setup.shb.envelope("courts.list", nonce=nonce, secret="wrong"))
    assert bad.http_status == 200 and bad.code == "SIGNATURE_INVALID" and bad.body["resultCode"] == "4011"
    assert (await invoke(setup, client, setup.shb.envelope("courts.list", nonce=nonce))).ok


async def test_a_bad_sign_with_a_used_nonce_is_still_signature_invalid(setup: Setup,
                                                                       client: httpx.AsyncClient) -> None:
    nonce = secrets.token_hex(8)
    assert (await invoke(setup, client, setup.shb.envelope("courts.list", nonce=nonce))).ok
    bad = await invoke(setup, client, setup.shb.envelope("courts.list", nonce=nonce, secret="wrong"))
    assert bad.code == "SIGNATURE_INVALID"
    replay = await invoke(setup, client, setup.shb.envelope("courts.list", nonce=nonce))
    assert replay.http_status == 200 and replay.code == "REPLAYED_REQUEST" and replay.body["resultCode"] == "4012"


@pytest.mark.parametrize(("offset_s", "accepted"), [(-301, False), (301, False), (-250, True), (250, True)])
async def test_the_timestamp_window(setup: Setup, client: httpx.AsyncClient, offset_s: int, accepted: bool) -> None:
    answer = await invoke(setup, client, setup.shb.envelope("courts.list", timestamp=int(time.time()) + offset_s))
    assert answer.ok if accepted else answer.code == "REPLAYED_REQUEST"


async def test_every_field_is_signed(setup: Setup, client: httpx.AsyncClient) -> None:
    envelope = setup.shb.envelope("cases.progress", {"case_no": TRIAL}, ticket=setup.zhangwei.values["ticket"])
    for name, value in (("bizContent", '{"case_no":"（2026）粤0106民初18803号"}'), ("userTicket", "shb-demo-wangfang"),
                        ("method", "hearings.list"), ("signType", "HMAC-SM3"), ("sign", envelope["sign"].lower())):
        changed = await invoke(setup, client, {**envelope, name: value})
        assert changed.code == "SIGNATURE_INVALID", name
    extra = await invoke(setup, client, {**envelope, "extra": "added later"})
    assert extra.code == "SIGNATURE_INVALID"
    assert (await invoke(setup, client, envelope)).ok


async def test_sign_type_must_be_known(setup: Setup, client: httpx.AsyncClient) -> None:
    envelope = {**setup.shb.envelope("courts.list"), "signType": "MD5"}
    assert (await invoke(setup, client, envelope)).code == "SIGNATURE_INVALID"
    missing = {k: v for k, v in setup.shb.envelope("courts.list").items() if k != "nonceStr"}
    assert (await invoke(setup, client, missing)).code == "SIGNATURE_INVALID"


# --- two instances, one Redis -----------------------------------------------------------------------


async def test_two_instances_on_one_redis_agree_on_nonces_and_tickets(redis_server: RedisServer,
                                                                      client: httpx.AsyncClient) -> None:
    driver = SuihaobanDriver("suihaoban")
    shared = {"GATEWAY_SECRET": secrets.token_urlsafe(32)}
    async with shb_stack([driver], state=redis_server.url, env=shared) as first, \
            shb_stack([driver], state=redis_server.url, env=shared) as second:
        session = await driver.sign_in(client, first.gateway_url, person(ZW))
        assert (await driver.call(client, first.gateway_url, session, "cases.progress", {"case_no": TRIAL})).ok
        calls = driver.center.verify_calls
        moved = await driver.call(client, second.gateway_url, session, "cases.progress", {"case_no": TRIAL})
        assert moved.ok and driver.center.verify_calls == calls  # the other instance found it in Redis
        envelope = driver.envelope("courts.list")
        assert (await driver.post(client, first.gateway_url, envelope)).ok
        replay = await driver.post(client, second.gateway_url, envelope)
        assert replay.code == "REPLAYED_REQUEST"
