"""verify-backend against the reference court (all pass) and against a broken backend (failures)."""

from __future__ import annotations

import asyncio
import socket

import pytest
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reference_court import DEMO_CASES, DEMO_PEOPLE, Participant, court_base_url, create_reference_court
from reference_court.verify import (
    format_results,
    generate_signing_key,
    run_verify_backend_cli,
    serve_jwks,
    verify_backend,
)
from tests.support.servers import serve


@pytest.fixture
def key() -> ECKey:
    return generate_signing_key("verify-test")


async def test_reference_court_passes_every_check(key: ECKey) -> None:
    async with serve_jwks(key, 0) as jwks_url:
        app = create_reference_court(jwks_provider=None, gateway_url=jwks_url)
        async with serve(app) as url:
            zhang = DEMO_PEOPLE["zhangwei"]
            results = await verify_backend(court_base_url(url, "粤0106"), signing_key=key, kid="verify-test",
                                           participant=Participant(zhang.name, zhang.id_number),
                                           case_no=DEMO_CASES["zhangwei_yue0106_trial"].replace("（", "("),
                                           password="260615")
            stranger_only = await verify_backend(court_base_url(url, "粤73"), signing_key=key, kid="verify-test",
                                                 court_code="粤73")
    assert all(r.status == "pass" for r in results), format_results(results)
    assert len(results) == 15
    assert [r.status for r in stranger_only].count("skip") == 3
    assert all(r.passed for r in stranger_only), format_results(stranger_only)


def broken_backend() -> Starlette:
    """Answers 200 {} to everything: every contract check should notice."""

    async def anything(request: Request) -> Response:
        return JSONResponse({"status": "ok", "court": "粤0106"})

    return Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])])


async def test_broken_backend_fails(key: ECKey) -> None:
    async with serve(broken_backend()) as url:
        results = await verify_backend(url, signing_key=key.as_pem(private=True), kid="k", court_code="粤0106")
    failed = {r.name for r in results if r.status == "fail"}
    assert "request without token refused" in failed
    assert "same Idempotency-Key twice: one record" in failed
    assert "bad case number: INVALID_CASE_NUMBER" in failed
    assert "password check without serial refused" in failed and "wrong case query password: 404" in failed
    assert "FAIL" in format_results(results)


async def test_unreachable_backend_is_a_failure_not_a_crash(key: ECKey) -> None:
    results = await verify_backend("http://127.0.0.1:9", signing_key=key, kid="k", court_code="粤0106", timeout=1)
    assert results[0].status == "fail"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_cli_function(capsys: pytest.CaptureFixture[str]) -> None:
    jwks_port = _free_port()
    app = create_reference_court(jwks_provider=None, gateway_url=f"http://127.0.0.1:{jwks_port}")
    async with serve(app) as url:
        zhang = DEMO_PEOPLE["zhangwei"]
        code = await asyncio.to_thread(run_verify_backend_cli, court_base_url(url, "粤0192"), None, jwks_port,
                                       case_no=DEMO_CASES["zhangwei_yue0192_online"], name=zhang.name,
                                       id_number=zhang.id_number)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS" in out and "0 failed" in out and "/.well-known/jwks.json" in out
