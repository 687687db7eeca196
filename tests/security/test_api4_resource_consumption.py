"""OWASP API4:2023 Unrestricted resource consumption (QUALITY.md security item 4).

Nothing of a body is parsed before the request's signature or credential is checked; an upload's
type is sniffed only afterwards, reading only what it needs, off the event loop; uploads in flight are
limited per client. /healthz is probed during each attack. Header limits (431) are the ops work's
test_api4_header_limits.py.

Finding 1 of issue 14 (pre-auth freeze by upload) is reproduced by ``test_forged_hostile_zip_*``:
it fails on f0109a2 (the zip was listed with zipfile on the event loop before the signature was
checked: a different code, and /healthz stalled for seconds) and passes now.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from adapters.ivr12368.protocol import error_prompt
from adapters.kiosk.driver import KioskDriver
from adapters.kiosk.sign_request import signed_headers
from adapters.suihaoban.driver import SuihaobanDriver
from adapters.yueshengshi.driver import YueshengshiDriver
from gateway.errors import ErrorCode, GatewayError
from gateway.uploads import OFD_SCAN_ENTRIES, sniff
from reference_court.seed import DEMO_PEOPLE
from tests.security.conftest import DRIVERS, driver
from tests.security.support import HEALTHZ_BOUND_S, many_entry_zip, ofd_package, probing_health
from tests.support.stack import Stack
from workbench.drivers import Person

HOSTILE_ENTRIES = 200_000
IN_PARALLEL = 2  # within gateway.uploads_per_client (2): a third would be RATE_LIMITED before any reading
COURT = "粤0106"
ZW = DEMO_PEOPLE["zhangwei"]
PERSON = Person(ZW.name, ZW.id_number, phone=ZW.phone)

#: channel -> (HTTP status, code as the channel writes it) for a forged or anonymous upload
FORGED_ANSWERS: dict[str, tuple[int, str]] = {
    "api": (401, "UNAUTHENTICATED"),
    "wechat": (200, "40001"),
    "yueshengshi": (401, "2002"),
    "suihaoban": (200, "4011"),
    "efating": (401, "SIGNATURE_INVALID"),
    "yuezhizhu": (401, "SIGNATURE_INVALID"),
}


@pytest.fixture(scope="module")
def hostile_zip() -> bytes:
    return many_entry_zip(HOSTILE_ENTRIES)


def code_of(channel: str, response: httpx.Response) -> str:
    body = response.json()
    for key in ("code", "errcode", "resultCode", "errorCode"):
        if key in body:
            return str(body[key])
    raise AssertionError(f"{channel}: no code in {body}")


Forger = Callable[[httpx.AsyncClient, str, bytes], Awaitable[httpx.Response]]


async def _anonymous_api(client: httpx.AsyncClient, url: str, content: bytes) -> httpx.Response:
    return await client.post(f"{url}/api/v1/uploads", params={"court": COURT},
                             files={"file": ("a.ofd", content, "application/ofd")})


async def _anonymous_wechat(client: httpx.AsyncClient, url: str, content: bytes) -> httpx.Response:
    return await client.post(f"{url}/channels/wechat/upload", data={"court": COURT},
                             files={"file": ("a.ofd", content, "application/ofd")})


async def _forged_yueshengshi(client: httpx.AsyncClient, url: str, content: bytes) -> httpx.Response:
    d = driver("yueshengshi")
    assert isinstance(d, YueshengshiDriver)
    request = client.build_request("POST", f"{url}/channels/yueshengshi/gateway/uploads.create",
                                   data={"court": COURT}, files={"file": ("a.ofd", content, "application/ofd")})
    return await client.send(d.sign(request, secret="not-the-platform-secret-at-all"))


async def _forged_suihaoban(client: httpx.AsyncClient, url: str, content: bytes) -> httpx.Response:
    d = driver("suihaoban")
    assert isinstance(d, SuihaobanDriver)
    fields = d.envelope("uploads.create", {"court": COURT, "fileSha256": hashlib.sha256(content).hexdigest()},
                        secret="not-the-city-app-secret-at-all")
    return await client.post(d.url(url), data=fields, files={"file": ("a.ofd", content, "application/ofd")})


def _forged_kiosk(channel: str) -> Forger:
    async def forge(client: httpx.AsyncClient, url: str, content: bytes) -> httpx.Response:
        d = driver(channel)
        assert isinstance(d, KioskDriver)
        request = client.build_request("POST", f"{d.base(url)}/sessions/no-such-session/upload",
                                       files={"file": ("a.ofd", content, "application/ofd")}, data={"court": COURT})
        body = request.read()
        headers = signed_headers(d.device_id, b"not-the-device-key-at-all", "POST", str(request.url), body)
        headers["Content-Type"] = request.headers["Content-Type"]
        return await client.post(str(request.url), content=body, headers=headers)

    return forge


FORGERS: dict[str, Forger] = {
    "api": _anonymous_api, "wechat": _anonymous_wechat, "yueshengshi": _forged_yueshengshi,
    "suihaoban": _forged_suihaoban, "efating": _forged_kiosk("efating"), "yuezhizhu": _forged_kiosk("yuezhizhu"),
}


@pytest.mark.parametrize("channel", list(FORGERS))
async def test_forged_hostile_zip_is_refused_before_anything_is_parsed(
        stack: Stack, client: httpx.AsyncClient, hostile_zip: bytes, channel: str) -> None:
    forge = FORGERS[channel]
    label = f"{IN_PARALLEL} forged {HOSTILE_ENTRIES}-entry zips at once on {channel}"
    async with probing_health(stack.gateway_url, label) as probe:
        answers = await asyncio.gather(*(forge(client, stack.gateway_url, hostile_zip) for _ in range(IN_PARALLEL)))
    for response in answers:
        assert (response.status_code, code_of(channel, response)) == FORGED_ANSWERS[channel]
    assert probe.worst < HEALTHZ_BOUND_S


SIGNED_IN_UPLOAD_REFUSAL = {"wechat": "41501", "yueshengshi": "1005", "suihaoban": "4150",
                            "efating": "UNSUPPORTED_MEDIA_TYPE", "yuezhizhu": "UNSUPPORTED_MEDIA_TYPE"}


@pytest.mark.parametrize("channel", list(SIGNED_IN_UPLOAD_REFUSAL))
async def test_signed_in_hostile_zip_is_sniffed_off_the_loop(
        stack: Stack, client: httpx.AsyncClient, hostile_zip: bytes, channel: str) -> None:
    d = driver(channel)
    session = await d.sign_in(client, stack.gateway_url, PERSON)
    async with probing_health(stack.gateway_url, f"a signed-in {HOSTILE_ENTRIES}-entry zip on {channel}") as probe:
        answer = await d.call(client, stack.gateway_url, session, "uploads.create",
                              {"court": COURT, "file": ("a.ofd", hostile_zip, "application/ofd")})
    assert not answer.ok and answer.code == "UNSUPPORTED_MEDIA_TYPE"
    raw = answer.body.get("errcode", answer.body.get("code", answer.body.get("resultCode",
                                                                             answer.body.get("errorCode"))))
    assert str(raw) == SIGNED_IN_UPLOAD_REFUSAL[channel]
    assert answer.http_status == (415 if channel in ("efating", "yuezhizhu") else 200)
    assert probe.worst < HEALTHZ_BOUND_S


async def test_a_real_ofd_package_is_accepted(stack: Stack, client: httpx.AsyncClient) -> None:
    d = driver("wechat")
    session = await d.sign_in(client, stack.gateway_url, PERSON)
    answer = await d.call(client, stack.gateway_url, session, "uploads.create",
                          {"court": COURT, "file": ("判决.ofd", ofd_package(ofd_xml_at=2), "application/octet-stream")})
    assert answer.ok and answer.data["content_type"] == "application/ofd"


def test_sniffing_reads_only_the_first_entries() -> None:
    assert sniff(io.BytesIO(ofd_package(ofd_xml_at=0))) == "application/ofd"
    assert sniff(io.BytesIO(ofd_package(ofd_xml_at=OFD_SCAN_ENTRIES - 1))) == "application/ofd"
    for refused in (ofd_package(ofd_xml_at=OFD_SCAN_ENTRIES), b"PK\x03\x04" + b"\x00" * 40, b"PK\x03\x04"):
        with pytest.raises(GatewayError) as caught:
            sniff(io.BytesIO(refused))
        assert caught.value.code is ErrorCode.UNSUPPORTED_MEDIA_TYPE


def _many_parts(parts: int) -> tuple[bytes, str]:
    boundary = "hostile-boundary"
    chunks = [f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n' for i in range(parts)]
    return ("".join(chunks) + f"--{boundary}--\r\n").encode(), f"multipart/form-data; boundary={boundary}"


async def test_five_thousand_multipart_parts_are_refused(stack: Stack, client: httpx.AsyncClient) -> None:
    body, content_type = _many_parts(5_000)
    d = driver("wechat")
    session = await d.sign_in(client, stack.gateway_url, PERSON)
    async with probing_health(stack.gateway_url, "5,000 multipart parts") as probe:
        response = await client.post(f"{stack.gateway_url}/channels/wechat/upload", content=body,
                                     headers={"Content-Type": content_type,
                                              "Authorization": f"Bearer {session.values['token']}"})
    assert (response.status_code, response.json()["errcode"]) == (200, 41001)
    assert probe.worst < HEALTHZ_BOUND_S


async def _slow_body(release: asyncio.Event) -> AsyncIterator[bytes]:
    yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-"
    await release.wait()
    yield b"\r\n--b--\r\n"


async def test_uploads_in_flight_are_limited_per_client(stack: Stack, client: httpx.AsyncClient) -> None:
    d = driver("wechat")
    session = await d.sign_in(client, stack.gateway_url, PERSON)
    headers = {"Content-Type": "multipart/form-data; boundary=b",
               "Authorization": f"Bearer {session.values['token']}"}
    url = f"{stack.gateway_url}/channels/wechat/upload"
    release = asyncio.Event()
    limit = stack.config.gateway.uploads_per_client
    slots = stack.host.runtime.gateway.upload_slots if stack.host.runtime else None
    assert slots is not None
    held = [asyncio.create_task(client.post(url, content=_slow_body(release), headers=headers))
            for _ in range(limit)]
    deadline = asyncio.get_running_loop().time() + 30
    while slots.in_flight("127.0.0.1") < limit:
        assert asyncio.get_running_loop().time() < deadline, "the slow uploads never arrived"
        await asyncio.sleep(0.01)
    one_more = await client.post(url, files={"file": ("a.pdf", b"%PDF-1.7", "application/pdf")},
                                 data={"court": COURT}, headers={"Authorization": headers["Authorization"]})
    assert (one_more.status_code, one_more.json()["errcode"]) == (200, 42901)
    release.set()
    for task in held:
        assert (await task).status_code == 200
    assert slots.in_flight("127.0.0.1") == 0


# --- JSON bodies, on the canonical API and a signed channel --------------------------------------------


def _deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


async def _chunked(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 64 * 1024):
        yield body[start:start + 64 * 1024]


JSON_ATTACKS: dict[str, tuple[Any, str]] = {
    "deep": (_deep(10_000), "VALIDATION_FAILED"),
    "huge-integer": (b'{"amount": ' + b"9" * 10_000 + b"}", "VALIDATION_FAILED"),
    "streamed-2MiB": (b'{"a":"' + b"x" * (2 * 2**20) + b'"}', "PAYLOAD_TOO_LARGE"),
}


@pytest.mark.parametrize("attack", list(JSON_ATTACKS))
async def test_hostile_json_on_the_canonical_api(stack: Stack, client: httpx.AsyncClient, attack: str) -> None:
    body, code = JSON_ATTACKS[attack]
    token = stack.issuer.citizen({"name": ZW.name, "id_type": "ID_CARD", "id_number": ZW.id_number})
    async with probing_health(stack.gateway_url, f"{attack} JSON") as probe:
        response = await client.post(f"{stack.gateway_url}/api/v1/fees/calculate", content=_chunked(body),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    assert response.json()["code"] == code
    assert response.status_code == (413 if code == "PAYLOAD_TOO_LARGE" else 400)
    assert probe.worst < HEALTHZ_BOUND_S


@pytest.mark.parametrize("attack", list(JSON_ATTACKS))
async def test_hostile_json_on_a_signed_channel(stack: Stack, client: httpx.AsyncClient, attack: str) -> None:
    body, code = JSON_ATTACKS[attack]
    d = driver("yueshengshi")
    assert isinstance(d, YueshengshiDriver)
    request = client.build_request("POST", f"{stack.gateway_url}/channels/yueshengshi/gateway/fees.calculate",
                                   content=body, headers={"Content-Type": "application/json"})
    response = await client.send(d.sign(request))
    expected = {"VALIDATION_FAILED": 1001, "PAYLOAD_TOO_LARGE": 1004}[code]
    assert (response.status_code, response.json()["code"]) == (200, expected)


async def test_unsigned_json_is_not_parsed(stack: Stack, client: httpx.AsyncClient) -> None:
    """A forged 粤省事 request whose body would fail to parse is refused for its signature."""
    d = driver("yueshengshi")
    assert isinstance(d, YueshengshiDriver)
    request = client.build_request("POST", f"{stack.gateway_url}/channels/yueshengshi/gateway/fees.calculate",
                                   content=_deep(100), headers={"Content-Type": "application/json"})
    response = await client.send(d.sign(request, secret="not-the-platform-secret-at-all"))
    assert (response.status_code, response.json()["code"]) == (401, 2002)


assert {d.channel for d in DRIVERS} >= set(FORGED_ANSWERS) - {"api"}


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
                             for i in range(1, 10))
                  + b"]><lolz>&lol9;</lolz>")


async def test_billion_laughs_is_never_expanded(stack: Stack, client: httpx.AsyncClient) -> None:
    """No route parses XML: an entity bomb is refused as what it is, a body of the wrong type."""
    ivr = driver("ivr12368")
    token = ivr.env()[next(iter(ivr.env()))]
    async with probing_health(stack.gateway_url, "billion laughs") as probe:
        vxml = await client.post(f"{stack.gateway_url}/channels/ivr12368/vxml", params={"token": token},
                                 content=BILLION_LAUGHS, headers={"Content-Type": "application/xml"})
        api = await client.post(f"{stack.gateway_url}/api/v1/fees/calculate", content=BILLION_LAUGHS,
                                headers={"Content-Type": "application/xml"})
    # the IVR's channel: HTTP 200, the problem spoken in VoiceXML and the call ended
    assert vxml.status_code == 200 and vxml.headers["content-type"].startswith("application/voicexml+xml")
    assert error_prompt(ErrorCode.UNSUPPORTED_MEDIA_TYPE) in vxml.text and "<disconnect" in vxml.text
    assert (api.status_code, api.json()["code"]) == (400, "VALIDATION_FAILED")
    assert probe.worst < HEALTHZ_BOUND_S
