"""粤省事 login end to end: the IdP stand-in as a real HTTP server, the gateway and court on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from adapters.yueshengshi.driver import YueshengshiDriver
from adapters.yueshengshi.standins import Grant, ProvincialIdp
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.adapters.yueshengshi.support import FakeClock, yss_stack
from tests.support.stack import Stack, free_port
from workbench.drivers import ChannelAnswer, Person

ZW = DEMO_PEOPLE["zhangwei"]
ZHANGWEI = Person(ZW.name, ZW.id_number, phone=ZW.phone)
TRIAL = DEMO_CASES["zhangwei_yue0106_trial"]


class ForgingIdp(ProvincialIdp):
    """The stand-in, except that a test may replace the id_token it hands out."""

    forge: Callable[[ProvincialIdp, str, Grant], str] | None = None

    def id_token(self, issuer: str, grant: Grant) -> str:
        if self.forge is not None:
            return self.forge(self, issuer, grant)
        return super().id_token(issuer, grant)


@dataclass
class Setup:
    stack: Stack
    main: YueshengshiDriver
    rotation: YueshengshiDriver
    rotation_clock: FakeClock
    forging: YueshengshiDriver
    jwks_down: YueshengshiDriver
    jwks_slow: YueshengshiDriver
    idp_down: YueshengshiDriver


@pytest.fixture(scope="module")
async def setup() -> AsyncIterator[Setup]:
    main = YueshengshiDriver("yueshengshi")
    rotation = YueshengshiDriver("yss-rotation", "hmac-sha256")
    forging = YueshengshiDriver("yss-forging", idp=ForgingIdp(client_id="gz-forge", client_secret="forge-secret"))
    jwks_down = YueshengshiDriver("yss-jwks-down")
    jwks_slow = YueshengshiDriver("yss-jwks-slow", settings={"idp_timeout_s": 0.5})
    idp_down = YueshengshiDriver("yss-idp-down")
    jwks_down.idp.jwks_available = False
    jwks_slow.idp.jwks_delay_s = 10.0  # far beyond the 0.5 s timeout
    clock = FakeClock(10_000.0)
    down_config = idp_down.channel_config(f"http://127.0.0.1:{free_port()}")  # nobody listens there
    async with yss_stack([main, rotation, forging, jwks_down, jwks_slow],
                         channels={idp_down.channel: down_config}, env=idp_down.env(),
                         extras={rotation.channel: {"monotonic": clock}}) as stack:
        yield Setup(stack, main, rotation, clock, forging, jwks_down, jwks_slow, idp_down)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as http:
        yield http


async def login(driver: YueshengshiDriver, client: httpx.AsyncClient, stack: Stack, code: str) -> ChannelAnswer:
    request = driver.request(client, stack.gateway_url, "login", {"code": code})
    return await driver.send(client, driver.sign(request))


async def progress(driver: YueshengshiDriver, client: httpx.AsyncClient, stack: Stack, token: str) -> ChannelAnswer:
    request = driver.request(client, stack.gateway_url, "gateway/cases.progress", {"case_no": TRIAL}, token)
    return await driver.send(client, driver.sign(request))


# --- the demo codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "assurance"), [("yss-demo-zhangwei", "L2"), ("yss-demo-zhangwei-l3", "L3")])
async def test_a_real_name_login_opens_a_session_for_that_person(setup: Setup, client: httpx.AsyncClient,
                                                                 code: str, assurance: str) -> None:
    answer = await login(setup.main, client, setup.stack, code)
    assert answer.http_status == 200 and answer.body["code"] == 0 and answer.body["msg"] == "success"
    assert answer.data["assurance"] == assurance and answer.data["expires_in"] == 7200
    # The session is that person's: the court lets them see their own case.
    seen = await progress(setup.main, client, setup.stack, answer.data["user_token"])
    assert seen.ok and seen.data["case_no"] == TRIAL
    entry = [e for e in setup.stack.journal.entries() if "progress" in e["path"]][-1]
    assert entry["actor"]["id_number"] == ZW.id_number and entry["actor"]["assurance"] == assurance
    assert entry["actor"]["channel"] == "yueshengshi"


async def test_the_session_keeps_the_phone_for_sms(setup: Setup, client: httpx.AsyncClient) -> None:
    answer = await login(setup.main, client, setup.stack, "yss-demo-zhangwei")
    runtime = setup.stack.host.runtime
    assert runtime is not None
    ref = runtime.gateway.sessions.credential(answer.data["user_token"], "yueshengshi")
    actor = await runtime.gateway.sessions.actor(ref)
    assert actor.phone == ZW.phone and actor.name == ZW.name and actor.assurance == "L2"


async def test_an_account_only_login_is_l1_and_cannot_see_cases(setup: Setup, client: httpx.AsyncClient) -> None:
    answer = await login(setup.main, client, setup.stack, "yss-demo-l1")
    assert answer.ok and answer.data["assurance"] == "L1"
    seen = await progress(setup.main, client, setup.stack, answer.data["user_token"])
    assert seen.code == "ASSURANCE_TOO_LOW" and seen.body["code"] == 2003 and seen.http_status == 200
    assert seen.body["requiredAssurance"] == "L2"


@pytest.mark.parametrize("code", ["yss-bad", "yss-never-issued"])
async def test_a_refused_code_is_unauthenticated(setup: Setup, client: httpx.AsyncClient, code: str) -> None:
    calls = setup.main.idp.token_calls
    answer = await login(setup.main, client, setup.stack, code)
    assert answer.code == "UNAUTHENTICATED" and answer.body["code"] == 2001 and answer.http_status == 200
    assert setup.main.idp.token_calls == calls + 1  # the platform really was asked


async def test_a_login_without_a_code_is_refused_before_asking_the_platform(setup: Setup,
                                                                           client: httpx.AsyncClient) -> None:
    calls = setup.main.idp.token_calls
    request = setup.main.request(client, setup.stack.gateway_url, "login", {})
    answer = await setup.main.send(client, setup.main.sign(request))
    assert answer.code == "VALIDATION_FAILED" and answer.body["code"] == 1001
    assert setup.main.idp.token_calls == calls


async def test_login_is_signed_like_every_request(setup: Setup, client: httpx.AsyncClient) -> None:
    calls = setup.main.idp.token_calls
    request = setup.main.request(client, setup.stack.gateway_url, "login", {"code": "yss-demo-zhangwei"})
    answer = await setup.main.send(client, setup.main.sign(request, secret="not-the-secret"))
    assert answer.http_status == 401 and answer.code == "SIGNATURE_INVALID"
    assert setup.main.idp.token_calls == calls


async def test_logout_ends_the_session(setup: Setup, client: httpx.AsyncClient) -> None:
    session = await setup.main.sign_in(client, setup.stack.gateway_url, ZHANGWEI)
    token = session.values["user_token"]
    assert (await progress(setup.main, client, setup.stack, token)).ok
    request = setup.main.request(client, setup.stack.gateway_url, "logout", {}, token)
    out = await setup.main.send(client, setup.main.sign(request))
    assert out.ok and out.body == {"code": 0, "msg": "success", "data": None}
    again = await progress(setup.main, client, setup.stack, token)
    assert again.code == "SESSION_EXPIRED" and again.body["code"] == 2006 and again.http_status == 200


async def test_foreign_and_tampered_tokens_are_unauthenticated(setup: Setup, client: httpx.AsyncClient) -> None:
    other = await setup.rotation.sign_in(client, setup.stack.gateway_url, ZHANGWEI)
    foreign = await progress(setup.main, client, setup.stack, other.values["user_token"])
    assert foreign.code == "UNAUTHENTICATED"
    mine = (await setup.main.sign_in(client, setup.stack.gateway_url, ZHANGWEI)).values["user_token"]
    tampered = mine[:-4] + ("AAAA" if not mine.endswith("AAAA") else "BBBB")
    assert (await progress(setup.main, client, setup.stack, tampered)).code == "UNAUTHENTICATED"
    request = setup.main.request(client, setup.stack.gateway_url, "logout", {})
    assert (await setup.main.send(client, setup.main.sign(request))).code == "UNAUTHENTICATED"


# --- the platform's keys --------------------------------------------------------------------------


async def test_keys_are_cached_and_a_new_kid_is_fetched_at_most_once_a_minute(setup: Setup,
                                                                             client: httpx.AsyncClient) -> None:
    driver, idp, clock = setup.rotation, setup.rotation.idp, setup.rotation_clock
    await driver.sign_in(client, setup.stack.gateway_url, ZHANGWEI)
    await driver.sign_in(client, setup.stack.gateway_url, ZHANGWEI)
    assert idp.jwks_calls == 1  # fetched once, then cached

    idp.rotate(keep_previous=False)  # the platform signs with a new kid from now on
    code = "rot-" + secrets.token_hex(4)
    idp.register(code, Grant("L2", "rot-user", ZW.phone, ZW.name, ZW.id_number))
    refused = await login(driver, client, setup.stack, code)
    # An unknown kid just after a fetch: the platform has not published a rotation yet.
    assert refused.code == "UNAUTHENTICATED" and idp.jwks_calls == 1

    clock.now += 61
    answer = await login(driver, client, setup.stack, code)
    assert answer.ok and answer.data["assurance"] == "L2"
    assert idp.jwks_calls == 2  # fetched again for the new kid
    assert (await login(driver, client, setup.stack, code)).ok
    assert idp.jwks_calls == 2

    clock.now += 3600  # jwks_cache_s: the keys are fetched again when the cache runs out
    assert (await login(driver, client, setup.stack, code)).ok
    assert idp.jwks_calls == 3


async def test_an_unreachable_jwks_is_service_unavailable(setup: Setup, client: httpx.AsyncClient) -> None:
    answer = await login(setup.jwks_down, client, setup.stack, "yss-demo-zhangwei")
    assert answer.code == "SERVICE_UNAVAILABLE" and answer.body["code"] == 5003 and answer.http_status == 200
    assert answer.headers.get("Retry-After") == "5"
    setup.jwks_down.idp.jwks_available = True
    assert (await login(setup.jwks_down, client, setup.stack, "yss-demo-zhangwei")).ok


async def test_a_slow_jwks_is_service_unavailable(setup: Setup, client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    answer = await login(setup.jwks_slow, client, setup.stack, "yss-demo-zhangwei")
    assert answer.code == "SERVICE_UNAVAILABLE"
    assert time.monotonic() - started < 5.0  # cut off by the 0.5 s timeout, not the 10 s JWKS


async def test_an_unreachable_platform_is_service_unavailable(setup: Setup, client: httpx.AsyncClient) -> None:
    answer = await login(setup.idp_down, client, setup.stack, "yss-demo-zhangwei")
    assert answer.code == "SERVICE_UNAVAILABLE" and answer.body["code"] == 5003 and answer.http_status == 200


# --- forged id_tokens -----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(idp: ProvincialIdp, issuer: str, grant: Grant, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {**grant.claims(), "iss": issuer, "aud": idp.client_id, "iat": now, "exp": now + 600}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def alg_none(idp: ProvincialIdp, issuer: str, grant: Grant) -> str:
    header = {"alg": "none", "kid": idp.kid, "typ": "JWT"}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims(idp, issuer, grant)).encode())}."


def hs256_with_the_public_key(idp: ProvincialIdp, issuer: str, grant: Grant) -> str:
    """The algorithm-confusion attack: HMAC keyed with the platform's published RSA key."""
    pem = idp.keys[-1][1].as_pem(private=False)
    signing_input = (f"{_b64(json.dumps({'alg': 'HS256', 'kid': idp.kid}).encode())}."
                     f"{_b64(json.dumps(_claims(idp, issuer, grant)).encode())}")
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def signed_by_a_stranger(idp: ProvincialIdp, issuer: str, grant: Grant) -> str:
    stranger = RSAKey.generate_key(2048)
    return jwt.encode({"alg": "RS256", "kid": idp.kid}, _claims(idp, issuer, grant), stranger, algorithms=["RS256"])


def with_claims(**changes: Any) -> Callable[[ProvincialIdp, str, Grant], str]:
    def forge(idp: ProvincialIdp, issuer: str, grant: Grant) -> str:
        kid, key = idp.keys[-1]
        return jwt.encode({"alg": "RS256", "kid": kid}, _claims(idp, issuer, grant, **changes), key,
                          algorithms=["RS256"])

    return forge


@pytest.mark.parametrize("forge", [
    alg_none, hs256_with_the_public_key, signed_by_a_stranger,
    with_claims(aud="another-client"), with_claims(iss="https://evil.example.invalid"),
    with_claims(exp=int(time.time()) - 3600), with_claims(exp=None),
], ids=["alg-none", "hs256-confusion", "stranger-key", "wrong-audience", "wrong-issuer", "expired", "no-exp"])
async def test_forged_or_foreign_id_tokens_are_unauthenticated(
    setup: Setup, client: httpx.AsyncClient, forge: Callable[[ProvincialIdp, str, Grant], str]
) -> None:
    idp = setup.forging.idp
    assert isinstance(idp, ForgingIdp)
    idp.forge = forge
    try:
        answer = await login(setup.forging, client, setup.stack, "yss-demo-zhangwei")
    finally:
        idp.forge = None
    assert answer.code == "UNAUTHENTICATED" and answer.body["code"] == 2001, answer.body
    assert (await login(setup.forging, client, setup.stack, "yss-demo-zhangwei")).ok  # the genuine one passes
