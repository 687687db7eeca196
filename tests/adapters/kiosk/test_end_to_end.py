"""Both kiosk profiles over real HTTP: the gateway and the reference court on loopback."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from adapters.kiosk import ADAPTER, layout
from adapters.kiosk.driver import EfatingDriver, KioskDriver, YuezhizhuDriver
from adapters.kiosk.receipts import verify_qr
from adapters.kiosk.sign_request import signed_headers
from adapters.kiosk.standins import card_read
from gateway.state.memory import MemoryState
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.support.stack import RedisServer, Stack, running_stack, serving
from workbench.drivers import ChannelAnswer, Person, Session

ZHANG = DEMO_PEOPLE["zhangwei"]
ZHANGWEI = Person(ZHANG.name, ZHANG.id_number, phone=ZHANG.phone)
WANGFANG = Person(DEMO_PEOPLE["wangfang"].name, DEMO_PEOPLE["wangfang"].id_number)
TRIAL_CASE = DEMO_CASES["zhangwei_yue0106_trial"]
FEE_TO_PAY = "FY0106-2026-22468-02"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PROFILES = ["efating", "yuezhizhu"]
SECOND_DEVICE = ("EFT-TH-002", "KIOSK_EFT_TH_002_KEY", "second-device-key-0123456789")
OLD_KEY = ("KIOSK_EFT_TH_001_OLD_KEY", "replaced-device-key-0123456789")


@dataclass
class World:
    stack: Stack
    client: httpx.AsyncClient
    drivers: dict[str, KioskDriver]

    @property
    def url(self) -> str:
        return self.stack.gateway_url

    def driver(self, profile: str) -> KioskDriver:
        return self.drivers[profile]

    async def session(self, profile: str, person: Person = ZHANGWEI) -> Session:
        return await self.driver(profile).sign_in(self.client, self.url, person)

    async def call(self, profile: str, session: Session | None, op: str, args: dict[str, Any],
                   key: str | None = None) -> ChannelAnswer:
        return await self.driver(profile).call(self.client, self.url, session, op, args, key)

    async def open(self, profile: str, read: dict[str, Any]) -> ChannelAnswer:
        driver = self.driver(profile)
        return driver.answer_of(await driver.open_session(self.client, self.url, read))


@pytest.fixture(scope="module")
async def world() -> AsyncIterator[World]:
    efating = EfatingDriver(face_threshold=90)
    yuezhizhu = YuezhizhuDriver()
    efating_config = efating.channel_config("")
    efating_config["devices"][SECOND_DEVICE[0]] = {"key_env": SECOND_DEVICE[1], "location": "二楼"}
    efating_config["devices"][efating.device_id]["previous_keys_env"] = [OLD_KEY[0]]
    env = {**efating.env(), **yuezhizhu.env(), SECOND_DEVICE[1]: SECOND_DEVICE[2], OLD_KEY[0]: OLD_KEY[1]}
    channels = {"efating": efating_config, "yuezhizhu": yuezhizhu.channel_config("")}
    async with (running_stack(channels=channels, env=env, adapters={"kiosk": ADAPTER}) as stack,
                httpx.AsyncClient(timeout=20) as client):
        yield World(stack, client, {"efating": efating, "yuezhizhu": yuezhizhu})


def screen_of(answer: ChannelAnswer) -> dict[str, Any]:
    body = answer.body
    screen: dict[str, Any] = body["screen"] if "screen" in body else body["display"]
    return screen


def print_of(answer: ChannelAnswer) -> dict[str, Any] | None:
    body = answer.body
    printed: dict[str, Any] | None = body["print"] if "ok" in body else body["display"]["printData"]
    return printed


def screen_text(answer: ChannelAnswer) -> str:
    screen = screen_of(answer)
    blocks = screen.get("blocks") or screen.get("sections") or []
    return str(screen["title"]) + "".join(line for block in blocks for line in block["lines"])


def assert_receipt(printed: dict[str, Any] | None) -> list[str]:
    assert printed is not None and printed["encoding"] == "GB18030"
    lines: list[str] = printed["lines"]
    for line in lines:
        assert layout.width(line) <= 48 and len(line.encode("gb18030")) <= 48, line
    text = "\n".join(lines)
    assert ZHANG.name not in text and ZHANG.id_number not in text and ZHANG.phone not in text
    assert "张*" in text and "440***********1235" in text and "136****5926" in text
    assert verify_qr(printed["qr"]) and ZHANG.id_number not in printed["qr"]
    return lines


def assert_error(answer: ChannelAnswer, status: int, code: str) -> None:
    assert (answer.http_status, answer.code, answer.ok) == (status, code, False), answer.body
    body = answer.body
    message = body.get("message") or body.get("errorMessage")
    assert isinstance(message, str) and ("请" in message or "稍" in message), message
    assert screen_of(answer)["title"]


# --- the flows of the issue ---------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
async def test_case_progress_materials_and_a_payment_notice_end_to_end(world: World, profile: str) -> None:
    session = await world.session(profile)
    assert session.assurance == "L3"

    progress = await world.call(profile, session, "cases.progress", {"case_no": TRIAL_CASE.replace("（", "(")
                                                                     .replace("）", ")")})
    assert progress.ok and progress.http_status == 200
    assert progress.data["case_no"] == TRIAL_CASE and progress.data["stage"] == "HEARING_SCHEDULED"
    assert TRIAL_CASE in screen_text(progress)
    assert "案件进度查询单" in "".join(assert_receipt(print_of(progress)))

    uploaded = await world.call(profile, session, "uploads.create",
                                {"court": "粤0106", "file": ("借条.pdf", PDF, "application/pdf")})
    assert uploaded.ok, uploaded.body
    assert uploaded.data["size"] == len(PDF) and uploaded.data["content_type"] == "application/pdf"
    documents = [{"upload_id": uploaded.data["upload_id"], "name": "借条.pdf"}]
    args = {"case_no": TRIAL_CASE, "kind": "evidence", "documents": documents, "note": "借条原件已寄出"}
    txn = f"{profile}-materials-{time.time_ns()}"
    submitted = await world.call(profile, session, "materials.submit", args, txn)
    assert submitted.ok and submitted.data["status"] == "RECEIVED", submitted.body
    lines = assert_receipt(print_of(submitted))
    assert submitted.data["submission_id"] in "".join(lines) and "借条.pdf" in "".join(lines)
    again = await world.call(profile, session, "materials.submit", args, txn)
    assert again.ok and again.data == submitted.data and again.headers["idempotent-replayed"] == "true"

    fees = await world.call(profile, session, "payments.list", {"case_no": TRIAL_CASE})
    assert fees.ok and FEE_TO_PAY in [fee["fee_id"] for fee in fees.data["items"]]
    notice = await world.call(profile, session, "payments.create", {"case_no": TRIAL_CASE, "fee_id": FEE_TO_PAY},
                              f"{profile}-pay-{time.time_ns()}")
    assert notice.ok, notice.body
    notice_no = notice.data["pay_notice"]["notice_no"]
    receipt = "".join(line.strip() for line in assert_receipt(print_of(notice)))
    assert notice_no in receipt and "870.00元" in receipt and "http" not in receipt
    assert print_of(notice)["qr"].startswith(f"CGW1|PAYMENT|{notice_no}|")  # type: ignore[index]

    ended = await world.driver(profile).end_session(world.client, world.url, session.values["session_id"])
    assert ended.status_code == 200
    after = await world.call(profile, session, "cases.progress", {"case_no": TRIAL_CASE})
    assert_error(after, 401, "SESSION_EXPIRED")
    assert "重新刷证" in screen_text(after)
    # The card was taken out: the next call says so, not "timed out" (that is for an idle session).
    assert "身份证已取出" in screen_text(after) and "长时间未操作" not in screen_text(after)


async def test_the_court_receives_the_same_canonical_requests_as_from_the_canonical_api(world: World) -> None:
    person = {"name": ZHANG.name, "id_number": ZHANG.id_number}
    bearer = {"Authorization": "Bearer " + world.stack.issuer.citizen(person, acr="L3")}
    case_path = quote(TRIAL_CASE, safe="")
    journal = world.stack.journal
    seen: dict[str, list[dict[str, Any]]] = {}

    async def through(name: str, call: Any) -> None:
        start = len(journal.entries())
        await call()
        seen[name] = [e for e in journal.entries()[start:] if not e["path"].endswith("/access")]

    sessions = {profile: await world.session(profile) for profile in PROFILES}

    async def via_api() -> None:
        await world.client.get(f"{world.url}/api/v1/cases/{case_path}/progress", headers=bearer)
        await world.client.post(f"{world.url}/api/v1/cases/{case_path}/judge-messages",
                                json={"text": "请问何时开庭？"}, headers={**bearer, "Idempotency-Key": "api-1"})

    async def via(profile: str) -> None:
        await world.call(profile, sessions[profile], "cases.progress", {"case_no": TRIAL_CASE})
        await world.call(profile, sessions[profile], "judge_messages.send",
                         {"case_no": TRIAL_CASE, "text": "请问何时开庭？"}, f"{profile}-1")

    await through("api", via_api)
    for profile in PROFILES:
        await through(profile, functools.partial(via, profile))

    def canonical(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(e["court"], e["method"], e["path"], e["query"], json.dumps(e["body"], sort_keys=True),
                 {k: v for k, v in (e["actor"] or {}).items() if k not in ("channel", "iat", "exp", "jti")})
                for e in entries]

    assert len(seen["api"]) == 2
    for profile in PROFILES:
        assert canonical(seen[profile]) == canonical(seen["api"])
        assert seen[profile][0]["actor"]["channel"] == profile
        assert seen[profile][1]["headers"]["idempotency-key"] != seen["api"][1]["headers"]["idempotency-key"]


@pytest.mark.parametrize("profile", PROFILES)
async def test_other_operations_render(world: World, profile: str) -> None:
    session = await world.session(profile)
    templates = await world.call(profile, session, "templates.list", {"q": "起诉"})
    assert templates.ok and templates.data["items"]
    assert print_of(templates) is not None and print_of(templates)["qr"].startswith("CGW1|TEMPLATES|")  # type: ignore[index]
    template_id = templates.data["items"][0]["template_id"]
    download = await world.call(profile, session, "templates.download", {"template_id": template_id})
    assert download.ok and download.data["content_base64"] and download.data["size"] > 0
    hearings = await world.call(profile, session, "hearings.list", {"case_no": TRIAL_CASE})
    assert hearings.ok and "开庭信息" in screen_text(hearings)
    message = await world.call(profile, session, "judge_messages.send",
                               {"case_no": TRIAL_CASE, "text": "请问开庭能否改期？", "callback_phone": ZHANG.phone},
                               f"{profile}-msg-{time.time_ns()}")
    assert message.ok and ZHANG.phone not in json.dumps(screen_of(message), ensure_ascii=False)
    assert_receipt(print_of(message))


async def test_public_operations_work_before_a_card_is_inserted(world: World) -> None:
    templates = await world.call("efating", None, "templates.list", {})
    assert templates.ok and templates.data["items"]
    progress = await world.call("efating", None, "cases.progress", {"case_no": TRIAL_CASE})
    assert_error(progress, 401, "UNAUTHENTICATED")


async def test_someone_elses_case_is_not_found(world: World) -> None:
    session = await world.session("yuezhizhu", WANGFANG)
    answer = await world.call("yuezhizhu", session, "cases.progress", {"case_no": TRIAL_CASE})
    assert_error(answer, 404, "NOT_FOUND")
    assert answer.body["errorMessage"].startswith("未查询到信息")


@pytest.mark.parametrize(("op", "args", "status", "code"), [
    ("no.such.operation", {}, 404, "NOT_FOUND"),
    ("judge_messages.send", {"case_no": TRIAL_CASE, "text": "没有交易流水号"}, 400, "VALIDATION_FAILED"),
    ("materials.submit", {"case_no": TRIAL_CASE, "kind": "evidence", "txn_id": "t-1",
                          "documents": [{"upload_id": "UP-someone-else", "name": "x.pdf"}]}, 404, "NOT_FOUND"),
    ("cases.progress", {"case_no": "2024天河88号"}, 400, "INVALID_CASE_NUMBER"),
    ("cases.progress", {"case_no": TRIAL_CASE, "status": "CLOSED"}, 400, "VALIDATION_FAILED"),
])
async def test_errors_use_the_codes_http_status(world: World, op: str, args: dict[str, Any], status: int,
                                                code: str) -> None:
    session = await world.session("efating")
    answer = await world.call("efating", session, op, args)
    assert_error(answer, status, code)
    assert answer.body["request_id"] == answer.headers["x-request-id"]


# --- device authentication ----------------------------------------------------------------------------


async def _progress(world: World, profile: str = "efating", **signing: Any) -> ChannelAnswer:
    driver = world.driver(profile)
    session = await world.session(profile)
    url = f"{driver.base(world.url)}/sessions/{session.values['session_id']}/ops/cases.progress"
    body = json.dumps({"case_no": TRIAL_CASE}, ensure_ascii=False).encode()
    return driver.answer_of(await driver.signed(world.client, "POST", url, body, **signing))


async def test_a_wrong_key_is_signature_invalid(world: World) -> None:
    assert_error(await _progress(world, key="not-the-device-key-0123"), 401, "SIGNATURE_INVALID")


async def test_a_body_changed_after_signing_is_signature_invalid(world: World) -> None:
    driver = world.driver("yuezhizhu")
    url = f"{driver.base(world.url)}/sessions"
    headers = signed_headers(driver.device_id, driver.key.encode(), "POST", url, b"{}")
    response = await world.client.post(url, content=json.dumps(card_read(ZHANG.name, ZHANG.id_number)),
                                       headers=headers)
    assert_error(driver.answer_of(response), 401, "SIGNATURE_INVALID")


async def test_a_replayed_nonce_and_a_stale_timestamp_are_replayed_requests(world: World) -> None:
    driver = world.driver("efating")
    url = f"{driver.base(world.url)}/ops/templates.list"
    headers = signed_headers(driver.device_id, driver.key.encode(), "POST", url, b"{}")
    first = await world.client.post(url, content=b"{}", headers=headers)
    assert first.status_code == 200
    replay = driver.answer_of(await world.client.post(url, content=b"{}", headers=headers))
    assert_error(replay, 401, "REPLAYED_REQUEST")
    stale = signed_headers(driver.device_id, driver.key.encode(), "POST", url, b"{}",
                           timestamp=int(time.time()) - 301)
    assert_error(driver.answer_of(await world.client.post(url, content=b"{}", headers=stale)), 401,
                 "REPLAYED_REQUEST")


async def test_an_unknown_device_and_missing_headers_are_unauthenticated(world: World) -> None:
    assert_error(await _progress(world, device_id="EFT-XX-999"), 401, "UNAUTHENTICATED")
    driver = world.driver("efating")
    bare = await world.client.post(f"{driver.base(world.url)}/sessions", json={})
    assert_error(driver.answer_of(bare), 401, "UNAUTHENTICATED")


async def test_a_device_of_another_channel_is_unauthenticated(world: World) -> None:
    efating, yuezhizhu = world.driver("efating"), world.driver("yuezhizhu")
    read = json.dumps(card_read(ZHANG.name, ZHANG.id_number)).encode()
    # The 粤智助 machine, correctly signed with its own key, knocking on E法亭's routes.
    response = await yuezhizhu.signed(world.client, "POST", f"{efating.base(world.url)}/sessions", read)
    assert_error(efating.answer_of(response), 401, "UNAUTHENTICATED")
    # An E法亭 session presented on 粤智助's routes by the 粤智助 machine.
    session = await world.session("efating")
    url = f"{yuezhizhu.base(world.url)}/sessions/{session.values['session_id']}/ops/cases.progress"
    answer = yuezhizhu.answer_of(await yuezhizhu.signed(world.client, "POST", url, b'{"case_no":"x"}'))
    assert_error(answer, 401, "UNAUTHENTICATED")


async def test_a_session_belongs_to_the_device_that_opened_it(world: World) -> None:
    answer = await _progress(world, device_id=SECOND_DEVICE[0], key=SECOND_DEVICE[2])
    assert_error(answer, 401, "UNAUTHENTICATED")


async def test_a_replaced_key_is_still_accepted_during_the_overlap(world: World) -> None:
    answer = await _progress(world, key=OLD_KEY[1])
    assert answer.ok, answer.body


# --- identity -----------------------------------------------------------------------------------------


def _sessions_in_state(world: World) -> int:
    state = world.stack.state
    assert isinstance(state, MemoryState)
    return sum(1 for key in state._data if key.startswith("sess:"))


@pytest.mark.parametrize("profile", PROFILES)
async def test_an_expired_card_opens_no_session(world: World, profile: str) -> None:
    before = _sessions_in_state(world)
    answer = await world.open(profile, card_read(ZHANG.name, ZHANG.id_number, expired=True))
    assert_error(answer, 401, "IDENTITY_REJECTED")
    assert answer.body["reason"] == "CARD_EXPIRED" and screen_of(answer)["title"] == "身份证已过有效期"
    assert _sessions_in_state(world) == before


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_bad_id_number_is_invalid_id_number(world: World, profile: str) -> None:
    answer = await world.open(profile, card_read(ZHANG.name, ZHANG.id_number[:-1] + "4"))
    assert_error(answer, 400, "INVALID_ID_NUMBER")
    assert "人工窗口" in screen_text(answer)


async def test_a_face_below_the_channels_threshold_is_rejected(world: World) -> None:
    read = card_read(ZHANG.name, ZHANG.id_number, face_similarity=85.0)
    efating = await world.open("efating", read)  # this channel's threshold is 90
    assert_error(efating, 401, "IDENTITY_REJECTED")
    assert efating.body["reason"] == "FACE_MISMATCH" and "正对镜头" in screen_text(efating)
    assert (await world.open("yuezhizhu", read)).ok  # the default threshold of 80


async def test_a_long_term_card_opens_an_l3_session_with_its_limits(world: World) -> None:
    answer = await world.open("yuezhizhu", card_read(ZHANG.name, ZHANG.id_number, no_expiry=True))
    assert answer.ok and answer.data["assurance"] == "L3"
    assert answer.data["idle_timeout_s"] == 120 and answer.data["expires_in"] == 1800
    assert "张*，您好" in screen_text(answer) and ZHANG.name not in screen_text(answer)


@pytest.mark.parametrize("profile", PROFILES)
async def test_taking_the_card_out_ends_the_session_and_leaves_no_personal_data(world: World,
                                                                                  profile: str) -> None:
    state = world.stack.state
    assert isinstance(state, MemoryState)
    driver = world.driver(profile)
    opened = await world.open(profile, card_read("刘洋", DEMO_PEOPLE["liuyang"].id_number, phone="13800001111"))
    session = Session(WANGFANG, "L3", {"session_id": opened.data["session_id"]})
    progress = await world.call(profile, session, "cases.progress", {"case_no": DEMO_CASES["zhangwei_yue0106_judged"]})
    assert progress.ok
    message = await world.call(profile, session, "judge_messages.send",
                               {"case_no": DEMO_CASES["zhangwei_yue0106_judged"], "text": "请问判决何时生效？"},
                               f"{profile}-liu-{time.time_ns()}")
    assert message.ok
    stored = b"".join(key.encode() + value for key, (value, _) in state._data.items())
    assert "刘洋".encode() in stored  # while the card is in, the session holds the person

    ended = await driver.end_session(world.client, world.url, session.values["session_id"])
    assert ended.status_code == 200 and "请取回您的身份证" in screen_text(driver.answer_of(ended))
    stored = b"".join(key.encode() + value for key, (value, _) in state._data.items())
    for personal in ("刘洋", DEMO_PEOPLE["liuyang"].id_number, "13800001111", "示例路"):
        assert personal.encode() not in stored, personal
    assert_error(await world.call(profile, session, "hearings.list",
                                  {"case_no": DEMO_CASES["zhangwei_yue0106_judged"]}), 401, "SESSION_EXPIRED")
    again = await driver.end_session(world.client, world.url, session.values["session_id"])
    assert again.status_code == 200


# --- idle timeout, with the state in Redis ------------------------------------------------------------


async def test_sessions_idle_out_and_each_call_extends_them(redis_server: RedisServer) -> None:
    driver = YuezhizhuDriver(idle_timeout_s=2)
    async with (running_stack(state=redis_server.url, channels={"yuezhizhu": driver.channel_config("")},
                              env=driver.env(), adapters={"kiosk": ADAPTER}) as stack,
                httpx.AsyncClient(timeout=20) as client):
        session = await driver.sign_in(client, stack.gateway_url, ZHANGWEI)
        for _ in range(3):  # 3.6 s in all, never 2 s idle: still signed in
            await asyncio.sleep(1.2)
            answer = await driver.call(client, stack.gateway_url, session, "hearings.list", {"case_no": TRIAL_CASE})
            assert answer.ok, answer.body
        await asyncio.sleep(2.5)
        answer = await driver.call(client, stack.gateway_url, session, "hearings.list", {"case_no": TRIAL_CASE})
        assert_error(answer, 401, "SESSION_EXPIRED")
        assert "长时间未操作" in answer.body["errorMessage"]


# --- parity with a mobile channel -----------------------------------------------------------------------


async def test_kiosks_send_the_court_what_the_wechat_mini_program_sends() -> None:
    """One citizen, the same three operations through WeChat and both kiosks: the court cannot tell."""
    from adapters.wechat import ADAPTER as WECHAT
    from adapters.wechat.driver import WechatDriver

    drivers: list[Any] = [WechatDriver(), EfatingDriver(), YuezhizhuDriver()]
    env = {k: v for driver in drivers for k, v in driver.env().items()}
    async with serving(Starlette(routes=drivers[0].stand_in_routes())) as stand_ins:
        channels = {driver.channel: driver.channel_config(stand_ins) for driver in drivers}
        async with (running_stack(channels=channels, env=env, adapters={"wechat": WECHAT, "kiosk": ADAPTER})
                    as stack, httpx.AsyncClient(timeout=20) as client):
            received: dict[str, list[tuple[Any, ...]]] = {}
            for driver in drivers:
                session = await driver.sign_in(client, stack.gateway_url, ZHANGWEI, "L3")
                assert session.assurance == "L3"
                start = len(stack.journal.entries())
                upload = await driver.call(client, stack.gateway_url, session, "uploads.create",
                                           {"court": "粤0106", "file": ("证据.pdf", PDF, "application/pdf")})
                assert upload.ok, upload.body
                calls = [("cases.progress", {"case_no": TRIAL_CASE}, None),
                         ("materials.submit", {"case_no": TRIAL_CASE, "kind": "evidence", "documents": [
                             {"upload_id": upload.data["upload_id"], "name": "证据.pdf"}]}, "parity-1"),
                         ("judge_messages.send", {"case_no": TRIAL_CASE, "text": "请联系我。"}, "parity-2")]
                for op, args, key in calls:
                    answer = await driver.call(client, stack.gateway_url, session, op, args, key)
                    assert answer.ok, (driver.channel, op, answer.body)
                entries = [e for e in stack.journal.entries()[start:] if not e["path"].endswith("/access")]
                upload_id = str(upload.data["upload_id"])
                received[driver.channel] = [
                    (e["court"], e["method"], e["path"], e["query"],
                     # upload ids and multipart boundaries are fresh each time; everything else must match
                     re.sub(r"boundary=[-\w]+", "boundary=-", json.dumps(e["body"], sort_keys=True, ensure_ascii=False)
                            .replace(upload_id, "<upload>")),
                     {k: v for k, v in (e["actor"] or {}).items() if k not in ("channel", "iat", "exp", "jti")})
                    for e in entries]
            assert len(received["wechat"]) == 4
            assert received["efating"] == received["wechat"] == received["yuezhizhu"]
