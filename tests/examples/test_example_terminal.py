"""The worked example's own tests (examples/court-gateway-example-terminal): what is specific to the
terminal and not in the shared suites: refused signatures, replays, terminals, sessions, sign-in,
the envelope. Real HTTP on loopback, the example installed through its entry points."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from example_terminal import protocol
from example_terminal.driver import TerminalDriver, answer_of

from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack
from workbench.drivers import ChannelAnswer, Person

ZW = DEMO_PEOPLE["zhangwei"]
ZHANG = Person(ZW.name, ZW.id_number, phone=ZW.phone)
CASE = DEMO_CASES["zhangwei_yue0106_trial"]
TERMINAL = TerminalDriver()
OTHER = TerminalDriver(terminal_id="CT-TEST-02")  # a second terminal of the same channel


class TwoTerminals(TerminalDriver):
    """The channel's config with both terminals registered."""

    def channel_config(self, stand_in_url: str) -> dict[str, Any]:
        config = TERMINAL.channel_config(stand_in_url)
        config["terminals"] = {**config["terminals"], **OTHER.channel_config(stand_in_url)["terminals"]}
        return config

    def env(self) -> dict[str, str]:
        return {**TERMINAL.env(), **OTHER.env()}


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with channel_stack([TwoTerminals()]) as running:
        yield running


async def send(client: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes) -> ChannelAnswer:
    return answer_of(await client.post(url, content=body, headers=headers))


async def test_a_signed_call_with_a_session_reaches_the_court(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        session = await TERMINAL.sign_in(client, stack.gateway_url, ZHANG)
        answer = await TERMINAL.call(client, stack.gateway_url, session, "cases.progress", {"case_no": CASE})
    assert session.assurance == "L2"
    assert answer.ok and answer.http_status == 200 and answer.data["case_no"] == CASE


async def test_refusals_in_the_contracts_order(stack: Stack) -> None:
    body = b'{"args": {}}'
    url = f"{stack.gateway_url}/channels/example_terminal/ops/courts.list"
    async with httpx.AsyncClient(timeout=30) as client:
        good = TERMINAL.signed_headers("POST", url, body)
        unknown = await send(client, url, {**good, protocol.TERMINAL_ID: "CT-NOBODY"}, body)
        wrong_key = await send(client, url, {**good, protocol.SIGNATURE: "0" * 64}, body)
        tampered = await send(client, url, good, b'{"args": {"x": 1}}')
        stale = TERMINAL.signed_headers("POST", url, body)
        stale[protocol.TIME] = str(int(time.time()) - 301)
        stale[protocol.SIGNATURE] = protocol.signature(TERMINAL.key.encode(), "POST", httpx.URL(url).raw_path.decode(),
                                                       stale[protocol.TIME], stale[protocol.NONCE],
                                                       hashlib.sha256(body).hexdigest())
        too_old = await send(client, url, stale, body)
        first = await send(client, url, good, body)
        replayed = await send(client, url, good, body)
    assert (unknown.code, unknown.http_status) == ("UNAUTHENTICATED", 401)
    assert (wrong_key.code, wrong_key.http_status) == ("SIGNATURE_INVALID", 401)
    assert tampered.code == "SIGNATURE_INVALID"
    assert (too_old.code, too_old.http_status) == ("REPLAYED_REQUEST", 401)
    assert first.ok  # the refused requests did not use up its nonce: a nonce counts once its signature checked
    assert (replayed.code, replayed.http_status) == ("REPLAYED_REQUEST", 401)


async def test_a_session_belongs_to_its_terminal_and_ends_on_sign_out(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        session = await TERMINAL.sign_in(client, stack.gateway_url, ZHANG)
        token = {protocol.SESSION: session.values["session"]}
        elsewhere = await OTHER.call(client, stack.gateway_url, session, "cases.progress", {"case_no": CASE})
        out = f"{stack.gateway_url}/channels/example_terminal/sign-out"
        ended = await TERMINAL.post(client, out, b"", token)
        after = await TERMINAL.call(client, stack.gateway_url, session, "cases.progress", {"case_no": CASE})
        forged = await TERMINAL.call(client, stack.gateway_url, type(session)(ZHANG, "L2", {"session": "x.y.z"}),
                                     "cases.progress", {"case_no": CASE})
    assert elsewhere.code == "UNAUTHENTICATED"
    assert ended.ok
    assert (after.code, after.http_status) == ("SESSION_EXPIRED", 401)
    assert forged.code == "UNAUTHENTICATED"


@pytest.mark.parametrize(("identity", "code"), [
    ({"name": ZW.name, "id_number": ZW.id_number[:-1] + ("0" if ZW.id_number[-1] != "0" else "1")},
     "INVALID_ID_NUMBER"),
    ({"name": "", "id_number": ZW.id_number}, "VALIDATION_FAILED"),
    ({"name": ZW.name, "id_number": ZW.id_number, "phone": "12345"}, "VALIDATION_FAILED"),
])
async def test_a_bad_sign_in_opens_no_session(stack: Stack, identity: dict[str, str], code: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await TERMINAL.post(client, f"{stack.gateway_url}/channels/example_terminal/sign-in",
                                     json.dumps(identity).encode(), {"Content-Type": "application/json"})
    assert not answer.ok and answer.code == code and "session" not in str(answer.body)


async def test_an_envelope_with_other_fields_is_refused(stack: Stack) -> None:
    body = b'{"args": {}, "txn_id": "k-1"}'
    url = f"{stack.gateway_url}/channels/example_terminal/ops/courts.list"
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await send(client, url, TERMINAL.signed_headers("POST", url, body), body)
    assert (answer.code, answer.http_status) == ("VALIDATION_FAILED", 400)
    assert answer.body["error"]["errors"][0]["field"] == "txn_id"
