"""gateway.case_passwords: the court code from a caller's digits, and a court verifying a case query password."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.actor import Pseudonyms, account_actor
from gateway.audit import AuditTrail
from gateway.case_passwords import court_for_digits, verify_case_password
from gateway.core import Gateway
from gateway.court_client import CourtTransport, TransportSettings
from gateway.errors import ErrorCode, GatewayError
from gateway.pipeline import CourtDirectory, Pipeline
from gateway.sessions import SessionStore
from gateway.state.memory import MemoryState
from gateway.tokens import ActorTokenSigner, SessionTokens, generate_ec_pem
from tests.support.stack import serving

COURTS = ["粤01", "粤0106", "粤0192", "粤7101", "粤72", "京01"]
PERSON = {"name": "张伟", "id_type": "ID_CARD", "id_number": "440106199001011235"}


@pytest.mark.parametrize(("digits", "court"), [
    ("0106", "粤0106"), ("0192", "粤0192"), ("7101", "粤7101"), ("72", "粤72"),
    ("01", None),  # 粤01 and 京01: ambiguous, the caller is asked again
    ("0199", None), ("106", None), ("", None), ("01a6", None), ("０１０６", None), ("粤0106", None),
])
def test_the_court_is_the_one_whose_code_is_a_province_and_exactly_these_digits(digits: str,
                                                                                 court: str | None) -> None:
    assert court_for_digits(COURTS, digits) == court


def test_one_province_makes_short_codes_unambiguous() -> None:
    assert court_for_digits([c for c in COURTS if c != "京01"], "01") == "粤01"


@contextlib.asynccontextmanager
async def gateway_with_court(answer: Any) -> AsyncIterator[tuple[Gateway, list[dict[str, Any]]]]:
    """A gateway whose one court 粤0106 answers the password check with ``answer(body)``."""
    received: list[dict[str, Any]] = []

    async def verify(request: Request) -> Response:
        body = orjson.loads(await request.body())
        received.append({"body": body, "authorization": request.headers.get("authorization", "")})
        result: Response = answer(body)
        return result

    app = Starlette(routes=[Route("/api/v1/case-query-passwords/verify", verify, methods=["POST"])])
    async with serving(app) as url, httpx.AsyncClient() as http:
        state = MemoryState()
        transport = CourtTransport(url, TransportSettings(timeout_s=2))
        pipeline = Pipeline(state, CourtDirectory({"粤0106": "天河区人民法院"}, {"粤0106": transport}, "粤0106"),
                            ActorTokenSigner(generate_ec_pem()))
        pseudonyms = Pseudonyms(b"k" * 32)
        gateway = Gateway(pipeline, SessionStore(state, SessionTokens(b"s" * 32)), pseudonyms, state, http,
                          AuditTrail("stdout"))
        try:
            yield gateway, received
        finally:
            await transport.close()


def caller(gateway: Gateway) -> Any:
    return account_actor(gateway.pseudonyms, channel="hotline", account="tel:13631415926", phone="13631415926")


async def verify(gateway: Gateway, password: str = "260615", court: str = "粤0106", serial: str = "22468") -> Any:
    return await verify_case_password(gateway, court=court, serial=serial, password=password, caller=caller(gateway),
                                      caller_number="13631415926", request_id="req-test-0001")


async def test_a_verified_password_is_an_l2_actor_for_that_case_only() -> None:
    def answer(body: dict[str, Any]) -> Response:
        return JSONResponse({"case_no": "(2026)粤0106民初22468号", "person": PERSON, "role": "plaintiff"})

    async with gateway_with_court(answer) as (gateway, received):
        actor = await verify(gateway)
    assert actor is not None
    assert (actor.assurance, actor.channel, actor.case_scope) == ("L2", "hotline", "（2026）粤0106民初22468号")
    assert (actor.name, actor.id_type, actor.id_number, actor.phone) == (
        "张伟", "ID_CARD", "440106199001011235", "13631415926")
    assert actor.sub == gateway.pseudonyms.person("ID_CARD", "440106199001011235")  # the same person everywhere
    assert received[0]["body"] == {"password": "260615", "caller": "13631415926", "serial": "22468"}
    assert received[0]["authorization"].startswith("Bearer ey")


async def test_a_wrong_password_is_none() -> None:
    async with gateway_with_court(lambda body: JSONResponse({"code": "NOT_FOUND"}, status_code=404)) as (gw, _):
        assert await verify(gw, "111111") is None


async def test_a_court_cannot_vouch_for_another_courts_case() -> None:
    def answer(body: dict[str, Any]) -> Response:
        return JSONResponse({"case_no": "（2026）粤01民终21837号", "person": PERSON})

    async with gateway_with_court(answer) as (gateway, _):
        assert await verify(gateway) is None


async def test_a_legacy_case_number_is_accepted_from_the_court_that_holds_it() -> None:
    def answer(body: dict[str, Any]) -> Response:
        return JSONResponse({"case_no": "（2014）穗中法民一初字第4713号", "person": PERSON})

    async with gateway_with_court(answer) as (gateway, _):
        actor = await verify(gateway, serial="4713")
    assert actor is not None and actor.case_scope == "（2014）穗中法民一初字第4713号"


async def test_a_court_cannot_open_a_case_of_another_serial_number() -> None:
    """Issue 14, finding 3: the password opens the case whose serial the caller keyed, no other."""
    def answer(body: dict[str, Any]) -> Response:
        return JSONResponse({"case_no": "（2026）粤0106民初18803号", "person": PERSON})

    async with gateway_with_court(answer) as (gateway, _):
        assert await verify(gateway, serial="22468") is None


@pytest.mark.parametrize(("status", "body", "code"), [
    (503, {"title": "down"}, ErrorCode.BACKEND_UNAVAILABLE),
    (422, {"code": "SOMETHING", "detail": "no"}, ErrorCode.BACKEND_REJECTED),
    (200, {"case_no": "（2026）粤0106民初22468号"}, ErrorCode.BACKEND_UNAVAILABLE),
    (200, {"case_no": "not a case", "person": PERSON}, ErrorCode.BACKEND_UNAVAILABLE),
    (200, {"case_no": "（2026）粤0106民初22468号", "person": {"name": "张伟", "id_type": "X", "id_number": "1"}},
     ErrorCode.BACKEND_UNAVAILABLE),
    (200, ["not", "an", "object"], ErrorCode.BACKEND_UNAVAILABLE),
])
async def test_court_failures_are_errors_not_wrong_passwords(status: int, body: Any, code: ErrorCode) -> None:
    async with gateway_with_court(lambda _: JSONResponse(body, status_code=status)) as (gateway, _):
        with pytest.raises(GatewayError) as caught:
            await verify(gateway)
    assert caught.value.code is code


async def test_an_unknown_court_is_not_found_without_a_request() -> None:
    async with gateway_with_court(lambda _: JSONResponse({}, status_code=500)) as (gateway, received):
        with pytest.raises(GatewayError) as caught:
            await verify(gateway, court="粤0111")
    assert caught.value.code is ErrorCode.NOT_FOUND and received == []
