"""The wechat channel over real HTTP: the gateway, the reference court and the WeChat stand-ins on loopback."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
import structlog
from joserfc import jwt
from joserfc.jwk import OctKey
from starlette.applications import Starlette

import adapters.wechat.adapter as wechat_adapter_module
import gateway.channels as gateway_channels_module
import gateway.core as gateway_core_module
from adapters.wechat import ADAPTER
from adapters.wechat.adapter import WechatAdapter
from adapters.wechat.driver import SECRET_ENV, WechatDriver, answer_of
from adapters.wechat.protocol import ERRCODES
from adapters.wechat.standins import channel_entry
from gateway.actor import Actor
from gateway.errors import CODES, ErrorCode, GatewayError
from gateway.logs import configure_logging, get_logger
from gateway.tokens import SessionTokens
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.support.stack import RedisServer, Stack, free_port, running_stack, serving
from workbench.drivers import Person

ZHANGWEI = Person(DEMO_PEOPLE["zhangwei"].name, DEMO_PEOPLE["zhangwei"].id_number)
WANGFANG = Person(DEMO_PEOPLE["wangfang"].name, DEMO_PEOPLE["wangfang"].id_number)
TRIAL_CASE = DEMO_CASES["zhangwei_yue0106_trial"]
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class World:
    stack: Stack
    driver: WechatDriver
    client: httpx.AsyncClient

    @property
    def base(self) -> str:
        return self.driver.base(self.stack.gateway_url)

    def url(self, channel: str = "wechat") -> str:
        return f"{self.stack.gateway_url}/channels/{channel}"

    async def post(self, path: str, token: str | None = None, channel: str = "wechat", **kwargs: Any
                   ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post(self.url(channel) + path, headers=headers, **kwargs)

    async def login(self, code: str, channel: str = "wechat") -> dict[str, Any]:
        response = await self.post("/login", channel=channel, json={"code": code})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def token(self, code: str, verify: str | None = None) -> str:
        token = str((await self.login(code))["data"]["session_token"])
        if verify is None:
            return token
        answer = (await self.post("/realname", token, json={"verify_token": verify})).json()
        assert answer["errcode"] == 0, answer
        return str(answer["data"]["session_token"])

    def adapter(self, channel: str = "wechat") -> WechatAdapter:
        runtime = self.stack.host.runtime
        assert runtime is not None
        adapter = runtime.adapters[channel]
        assert isinstance(adapter, WechatAdapter)
        return adapter


@pytest.fixture(scope="module", params=["memory", "redis"])
async def world(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[World]:
    state = "memory" if request.param == "memory" else redis_server.url
    driver = WechatDriver()
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens here: a platform that is down
    async with serving(Starlette(routes=driver.stand_in_routes())) as stand_ins:
        channels = {
            "wechat": driver.channel_config(stand_ins),
            # the same adapter again: a second mini program channel, for foreign tokens
            "wechat2": channel_entry(stand_ins, secret_env=SECRET_ENV),
            "wechat-down": channel_entry(stand_ins, secret_env=SECRET_ENV, api_base=closed),
            "wechat-norealname": {**channel_entry(stand_ins, secret_env=SECRET_ENV), "realname_base": closed},
        }
        async with (running_stack(state=state, channels=channels, env=driver.env(), adapters={"wechat": ADAPTER}) as stack,
                    httpx.AsyncClient(timeout=20) as client):
            yield World(stack, driver, client)


# --- sign-in ----------------------------------------------------------------------------------------


async def test_login_is_l1_for_an_openid_without_real_name(world: World) -> None:
    body = await world.login("demo-code-newcomer")
    assert body["errcode"] == 0 and body["errmsg"] == "ok"
    data = body["data"]
    assert data["assurance"] == "L1" and data["realname_bound"] is False
    assert data["expires_in"] == 7200 and data["session_token"]


async def test_an_l1_session_asking_for_an_l2_operation_is_assurance_too_low(world: World) -> None:
    token = await world.token("demo-code-l1-only")
    response = await world.post("/api/cases.progress", token, json={"case_no": TRIAL_CASE})
    assert response.status_code == 200
    body = response.json()
    assert body["errcode"] == 40003 and "实名认证" in body["errmsg"]
    assert body["required_assurance"] == "L2" and body["request_id"] == response.headers["x-request-id"]


async def test_realname_with_a_face_match_is_l3_and_ends_the_old_session(world: World) -> None:
    token = await world.token("demo-code-zhangwei-l3")
    answer = (await world.post("/realname", token, json={"verify_token": "demo-verify-zhangwei"})).json()
    assert answer["errcode"] == 0 and answer["data"]["assurance"] == "L3"
    assert answer["data"]["expires_in"] == 7200
    old = (await world.post("/api/courts.list", token, json={})).json()
    assert old["errcode"] == 40006
    fresh = answer["data"]["session_token"]
    progress = (await world.post("/api/cases.progress", fresh, json={"case_no": TRIAL_CASE})).json()
    assert progress["errcode"] == 0 and progress["data"]["case_no"] == TRIAL_CASE


async def test_realname_below_the_face_threshold_is_l2_and_l3_operations_are_refused(world: World) -> None:
    token = await world.token("demo-code-zhangwei-l2", "demo-verify-zhangwei-lowface")
    join = (await world.post("/api/hearings.join", token, json={
        "case_no": TRIAL_CASE, "hearing_id": "KT-0106-2026-22468-1", "client_request_id": "join-1"})).json()
    assert join["errcode"] == 40003 and join["required_assurance"] == "L3"


async def test_a_bound_openid_logs_in_at_l2_later_but_never_l3(world: World) -> None:
    await world.token("demo-code-returning", "demo-verify-chenjing")
    again = (await world.login("demo-code-returning"))["data"]
    assert again["realname_bound"] is True and again["assurance"] == "L2"
    progress = (await world.post("/api/cases.progress", again["session_token"],
                                 json={"case_no": DEMO_CASES["chenjing_yue0111_labour"]})).json()
    assert progress["errcode"] == 0


@pytest.mark.parametrize(("code", "errcode", "reason"), [
    ("demo-code-invalid", 40001, "wechat_code_invalid"),
    ("demo-code-risky", 40001, "wechat_user_high_risk"),
    ("demo-code-ratelimited", 50302, "wechat_rate_limited"),
    ("demo-code-busy", 50302, "wechat_busy"),
])
async def test_wechat_refusals_at_login(world: World, code: str, errcode: int, reason: str) -> None:
    body = await world.login(code)
    assert body["errcode"] == errcode and body["reason"] == reason
    assert "微信" in body["errmsg"] and "data" not in body


async def test_wechat_down_at_login_is_service_unavailable(world: World) -> None:
    body = await world.login("demo-code-zhangwei", channel="wechat-down")
    assert body["errcode"] == 50302 and body["reason"] == "wechat_unreachable"
    assert "微信" in body["errmsg"]


@pytest.mark.parametrize(("verify", "errcode"), [
    ("demo-verify-fail", 40007), ("demo-verify-unknown", 40007), ("demo-verify-badid", 41003),
])
async def test_realname_refusals(world: World, verify: str, errcode: int) -> None:
    token = await world.token("demo-code-refused-realname")
    body = (await world.post("/realname", token, json={"verify_token": verify})).json()
    assert body["errcode"] == errcode
    still = (await world.post("/api/courts.list", token, json={})).json()
    assert still["errcode"] == 0  # a failed check leaves the session as it was


async def test_realname_provider_down_is_service_unavailable(world: World) -> None:
    login = (await world.login("demo-code-zhangwei", channel="wechat-norealname"))["data"]
    body = (await world.post("/realname", login["session_token"], channel="wechat-norealname",
                             json={"verify_token": "demo-verify-zhangwei"})).json()
    assert body["errcode"] == 50302 and body["reason"] == "realname_unreachable"


# --- operations -------------------------------------------------------------------------------------


async def test_progress_for_a_party_equals_the_canonical_api(world: World) -> None:
    session = await world.driver.sign_in(world.client, world.stack.gateway_url, ZHANGWEI)
    assert session.assurance == "L2"
    answer = await world.driver.call(world.client, world.stack.gateway_url, session, "cases.progress",
                                     {"case_no": TRIAL_CASE})
    assert answer.ok and answer.http_status == 200
    token = world.stack.issuer.citizen({"name": ZHANGWEI.name, "id_number": ZHANGWEI.id_number})
    canonical = await world.client.get(
        f"{world.stack.gateway_url}/api/v1/cases/{quote(TRIAL_CASE, safe='')}/progress",
        headers={"Authorization": f"Bearer {token}"})
    assert canonical.status_code == 200
    assert answer.data == canonical.json()


async def test_a_non_party_gets_not_found_and_the_court_never_sees_the_request(world: World) -> None:
    session = await world.driver.sign_in(world.client, world.stack.gateway_url, WANGFANG)
    mark = _last_seq(world)
    answer = await world.driver.call(world.client, world.stack.gateway_url, session, "cases.progress",
                                     {"case_no": TRIAL_CASE})
    assert answer.http_status == 200 and answer.code == "NOT_FOUND" and answer.body["errcode"] == 40004
    paths = [e["path"] for e in world.stack.journal.entries(since=mark)]
    assert paths and all(path.endswith("/access") for path in paths), paths


async def test_materials_with_an_upload_replay_and_key_reuse(world: World) -> None:
    driver, url = world.driver, world.stack.gateway_url
    session = await driver.sign_in(world.client, url, ZHANGWEI)
    upload = await driver.call(world.client, url, session, "uploads.create",
                               {"court": "粤0106", "file": ("证据一.pdf", PDF, "application/pdf")})
    assert upload.ok, upload.body
    assert upload.data["size"] == len(PDF) and upload.data["content_type"] == "application/pdf"
    args = {"case_no": TRIAL_CASE, "kind": "evidence",
            "documents": [{"upload_id": upload.data["upload_id"], "name": "证据一"}]}
    mark = _last_seq(world)
    first = await driver.call(world.client, url, session, "materials.submit", args, "mat-0001")
    again = await driver.call(world.client, url, session, "materials.submit", args, "mat-0001")
    assert first.ok and again.ok
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.data == first.data and first.data["submission_id"]
    posts = [e for e in world.stack.journal.entries(since=mark) if e["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["path"].endswith("/materials")
    assert "client_request_id" not in posts[0]["body"]
    changed = await driver.call(world.client, url, session, "materials.submit", {**args, "note": "补充"}, "mat-0001")
    assert changed.http_status == 200 and changed.body["errcode"] == 42202


async def test_a_write_without_client_request_id_is_a_validation_error(world: World) -> None:
    session = await world.driver.sign_in(world.client, world.stack.gateway_url, ZHANGWEI)
    answer = await world.driver.call(world.client, world.stack.gateway_url, session, "judge_messages.send",
                                     {"case_no": TRIAL_CASE, "text": "请问何时开庭？"})
    assert answer.body["errcode"] == 41001
    assert answer.body["errors"][0]["field"] == "client_request_id"


async def test_public_operations_need_no_sign_in(world: World) -> None:
    body = (await world.post("/api/courts.list", json={})).json()
    assert body["errcode"] == 0 and any(c["code"] == "粤0106" for c in body["data"]["items"])
    private = (await world.post("/api/cases.list", json={})).json()
    assert private["errcode"] == 40001


async def test_unknown_operations_routes_and_methods_answer_in_the_channel_format(world: World) -> None:
    token = await world.token("demo-code-explorer")
    assert (await world.post("/api/cases.delete", token, json={})).json()["errcode"] == 40004
    for response in (await world.client.get(world.url() + "/api/courts.list"),
                     await world.client.post(world.url() + "/nowhere")):
        assert response.status_code == 200 and response.json()["errcode"] == 40004
    uploads = (await world.post("/api/uploads.create", token, json={"court": "粤0106"})).json()
    assert uploads["errcode"] == 41001
    broken = await world.client.post(world.url() + "/api/courts.list", content=b"{not json",
                                     headers={"Content-Type": "application/json"})
    assert broken.status_code == 200 and broken.json()["errcode"] == 41001


async def test_upload_refusals(world: World) -> None:
    token = await world.token("demo-code-uploader", "demo-verify-zhangwei")
    cases = [
        ({"file": ("a.pdf", PDF, "application/pdf")}, {}, token, 41001),  # no court
        ({"file": ("a.pdf", b"plain text, not a document", "application/pdf")}, {"court": "粤0106"}, token, 41501),
        ({"file": ("a.pdf", PDF, "application/pdf")}, {"court": "粤0106"}, None, 40001),
    ]
    for files, fields, bearer, errcode in cases:
        response = await world.post("/upload", bearer, files=files, data=fields)
        assert response.status_code == 200 and response.json()["errcode"] == errcode, response.text
    not_multipart = await world.post("/upload", token, json={"court": "粤0106"})
    assert not_multipart.json()["errcode"] == 41001


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.value)
def test_the_adapter_answers_every_error_with_http_200_and_its_errcode(world: World, code: ErrorCode) -> None:
    response = world.adapter().encode_error(GatewayError(code, "detail"), "req-12345678")
    assert response.status_code == 200 and response.media_type == "application/json"
    body = orjson.loads(bytes(response.body))
    assert body["errcode"] == ERRCODES[code] and body["errmsg"] == CODES[code].message


# --- sessions ---------------------------------------------------------------------------------------


async def test_logout_ends_the_session(world: World) -> None:
    token = await world.token("demo-code-leaving", "demo-verify-liuyang")
    assert (await world.post("/logout", token)).json() == {"errcode": 0, "errmsg": "ok", "data": {}}
    after = (await world.post("/api/cases.list", token, json={})).json()
    assert after["errcode"] == 40006 and "重新登录" in after["errmsg"]
    assert (await world.post("/realname", token, json={"verify_token": "demo-verify-liuyang"})).json()[
        "errcode"] == 40006


async def test_tampered_and_foreign_tokens_are_unauthenticated(world: World) -> None:
    token = await world.token("demo-code-tamper", "demo-verify-zhangwei")
    head, claims, signature = token.split(".")
    tampered = f"{head}.{claims}.{signature[:-3]}{'AAA' if not signature.endswith('AAA') else 'BBB'}"
    other_secret = SessionTokens(b"another-gateway-secret-0123456789-abcdef").issue(
        sid="x", sub="p_x", channel="wechat", ttl_s=600)
    other_channel = str((await world.login("demo-code-tamper", channel="wechat2"))["data"]["session_token"])
    unsigned = jwt.encode({"alg": "HS256"}, {"sid": "x", "sub": "p", "ch": "wechat", "exp": int(time.time()) + 60},
                          OctKey.import_key(b"k" * 32))
    for bad in (tampered, other_secret, other_channel, unsigned, "not-a-token"):
        body = (await world.post("/api/cases.list", bad, json={})).json()
        assert body["errcode"] == 40001, bad


# --- subscribe messages -----------------------------------------------------------------------------


async def test_subscribe_messages_share_one_token_and_refresh_on_40001(world: World) -> None:
    wechat = world.driver.wechat
    token = await world.token("demo-code-notified", "demo-verify-zhangwei")
    actor = await _session_actor(world, token)
    assert actor.account == wechat.openid_for("demo-code-notified")
    hearing = {"case_no": TRIAL_CASE, "hearing_id": "KT-1", "at": "2026-12-03T09:30:00+08:00",
               "place": "天河区人民法院第三法庭", "mode": "in_person"}
    fetches, sent = wechat.token_fetches, len(wechat.messages)

    assert await world.adapter().notify(actor, "hearing.scheduled", hearing) is True
    assert await world.adapter().notify(actor, "judge_message.replied", {"case_no": TRIAL_CASE}) is True
    assert wechat.token_fetches - fetches <= 1  # at most the first fetch; the second send reused it
    message = wechat.messages[sent]
    assert message["touser"] == actor.account and message["template_id"] == "DEMO_HEARING_SCHEDULED"
    assert message["data"]["time2"] == {"value": "2026年12月3日 09:30"}
    assert len(wechat.messages) == sent + 2

    wechat.revoke_tokens()
    before = wechat.token_fetches
    assert await world.adapter().notify(actor, "refund.completed",
                                        {"case_no": TRIAL_CASE, "application_id": "A1", "amount": "50.00"}) is True
    assert wechat.token_fetches == before + 1 and len(wechat.messages) == sent + 3

    assert actor.account is not None
    wechat.refusing.add(actor.account)
    try:
        assert await world.adapter().notify(actor, "refund.completed", {"case_no": TRIAL_CASE}) is False
    finally:
        wechat.refusing.discard(actor.account)
    assert len(wechat.messages) == sent + 3


async def test_two_sends_fetch_one_token(world: World) -> None:
    wechat = world.driver.wechat
    await world.token("demo-code-fresh-token")
    actor = Actor(sub="a_test", assurance="L1", channel="wechat", account=wechat.openid_for("demo-code-fresh-token"))
    await world.stack.state.delete(f"wx:at:{wechat.app_id}")  # as if the cached token had just expired
    before = wechat.token_fetches
    for _ in range(2):
        assert await world.adapter().notify(actor, "judge_message.replied", {"case_no": TRIAL_CASE}) is True
    assert wechat.token_fetches == before + 1


async def test_no_template_or_no_openid_means_not_reachable_on_wechat(world: World) -> None:
    wechat = world.driver.wechat
    before = wechat.token_fetches
    account = wechat.openid_for("demo-code-zhangwei")
    with_openid = Actor(sub="a_x", assurance="L1", channel="wechat2", account=account)
    without = Actor(sub="a_y", assurance="L2", channel="wechat")
    assert await world.adapter("wechat2").notify(with_openid, "hearing.scheduled", {"case_no": TRIAL_CASE}) is False
    assert await world.adapter().notify(without, "hearing.scheduled", {"case_no": TRIAL_CASE}) is False
    assert wechat.token_fetches == before


# --- logs -------------------------------------------------------------------------------------------


@pytest.fixture
def captured_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The production log configuration (JSON lines, redaction) writing into a buffer for one test."""
    root, access, outbound = logging.getLogger(), logging.getLogger("uvicorn.access"), logging.getLogger("httpx")
    saved = (list(root.handlers), root.level, access.disabled, outbound.level)
    saved_structlog = structlog.get_config()
    stream = io.StringIO()
    configure_logging(stream)
    # Loggers are cached on first use: give the modules of this flow fresh ones under this configuration.
    for module, name in ((wechat_adapter_module, "court_gateway.wechat"),
                         (gateway_core_module, "court_gateway.request"),
                         (gateway_channels_module, "court_gateway.channel")):
        monkeypatch.setattr(module, "_log", get_logger(name))
    try:
        yield stream
    finally:
        structlog.configure(**saved_structlog)
        root.handlers = saved[0]
        root.setLevel(saved[1])
        access.disabled = saved[2]
        outbound.setLevel(saved[3])


async def test_no_openid_token_secret_or_personal_data_in_the_logs(world: World, captured_logs: io.StringIO) -> None:
    wechat = world.driver.wechat
    await world.login("demo-code-invalid")
    token = await world.token("demo-code-logged", "demo-verify-zhangwei")
    progress = (await world.post("/api/cases.progress", token, json={"case_no": TRIAL_CASE})).json()
    assert progress["errcode"] == 0
    actor = await _session_actor(world, token)
    await world.stack.state.delete(f"wx:at:{wechat.app_id}")  # so a token is fetched while logs are captured
    assert await world.adapter().notify(actor, "judge_message.replied", {"case_no": TRIAL_CASE}) is True
    text = captured_logs.getvalue()
    assert "wechat login" in text and "wechat subscribe message" in text
    person = DEMO_PEOPLE["zhangwei"]
    secrets_and_personal_data = [wechat.openid_for("demo-code-logged"), token, world.driver.secret,
                                 wechat.issued_tokens[-1], "demo-code-logged", "demo-verify-zhangwei",
                                 person.id_number, person.name]
    for value in secrets_and_personal_data:
        assert value not in text


# --- helpers ----------------------------------------------------------------------------------------


async def _session_actor(world: World, token: str) -> Actor:
    sessions = world.stack.host.runtime.gateway.sessions  # type: ignore[union-attr]
    return await sessions.actor(sessions.credential(token, "wechat"))


def _last_seq(world: World) -> int:
    entries = world.stack.journal.entries()
    return int(entries[-1]["seq"]) if entries else 0


def test_answers_read_back_into_canonical_codes() -> None:
    response = httpx.Response(200, json={"errcode": 42202, "errmsg": "x", "request_id": "r"})
    answer = answer_of(response)
    assert not answer.ok and answer.code == "IDEMPOTENCY_KEY_REUSED" and answer.data is None


async def test_real_name_checks_are_limited_per_account() -> None:
    """Each check is a paid provider call: the eleventh within an hour is RATE_LIMITED (42901)."""
    from adapters.wechat.driver import WechatDriver
    from tests.support.channel_stack import channel_stack

    driver = WechatDriver()
    async with channel_stack([driver], channel_overrides={"realname_attempts": "2/hour"}) as stack, \
            httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        login = (await client.post("/channels/wechat/login", json={"code": "demo-code-limited"})).json()
        token = login["data"]["session_token"]
        codes = []
        for _ in range(3):
            answer = (await client.post("/channels/wechat/realname", headers={"Authorization": f"Bearer {token}"},
                                        json={"verify_token": "demo-verify-fail"})).json()
            codes.append(answer["errcode"])
    assert codes == [40007, 40007, 42901]
