"""OWASP API10:2023 Unsafe consumption of APIs (QUALITY.md security item 10): a court that answers
10 MB, malformed JSON, slowly, or with a redirect gets a bounded, clean error, never INTERNAL, and the
redirect is not followed. A real court server on loopback behind the gateway's own court client.
(Court answer headers are bounded by the ops work: test_api4_header_limits.py.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from gateway.court_client import CourtTransport, TransportSettings
from gateway.errors import ErrorCode, GatewayError
from gateway.state.memory import MemoryState
from tests.resilience.harness import call, pipeline_for
from tests.support.stack import serving

TIMEOUT_S = 1.0
followed: list[str] = []


async def _huge(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"items": ["'
        for _ in range(10 * 16):
            yield b"x" * 65536
        yield b'"], "next_cursor": null}'

    return StreamingResponse(body(), media_type="application/json")


async def _malformed(request: Request) -> Response:
    return Response(b'{"items": [1, 2', media_type="application/json")


async def _slow(request: Request) -> Response:
    await asyncio.sleep(TIMEOUT_S * 5)
    return JSONResponse({"items": [], "next_cursor": None})


async def _redirect(request: Request) -> Response:
    return RedirectResponse("/elsewhere", status_code=302)


async def _elsewhere(request: Request) -> Response:
    followed.append(request.url.path)
    return JSONResponse({"items": [], "next_cursor": None})


MODES = {"huge": _huge, "malformed": _malformed, "slow": _slow, "redirect": _redirect}


def court_app(mode: str) -> Starlette:
    return Starlette(routes=[Route("/api/v1/templates", MODES[mode]), Route("/elsewhere", _elsewhere)])


@pytest.mark.parametrize(("mode", "codes"), [
    ("huge", {ErrorCode.BACKEND_UNAVAILABLE}),
    ("malformed", {ErrorCode.BACKEND_UNAVAILABLE}),
    ("slow", {ErrorCode.BACKEND_TIMEOUT}),
    ("redirect", {ErrorCode.BACKEND_UNAVAILABLE, ErrorCode.BACKEND_REJECTED}),
])
async def test_a_misbehaving_court_gets_a_bounded_clean_error(mode: str, codes: set[ErrorCode]) -> None:
    followed.clear()
    async with serving(court_app(mode)) as url:
        transport = CourtTransport(url, TransportSettings(timeout_s=TIMEOUT_S, connect_timeout_s=TIMEOUT_S))
        try:
            pipeline = pipeline_for(MemoryState(), transport)
            started = time.monotonic()
            with pytest.raises(GatewayError) as refused:
                await pipeline.execute(call("templates.list", {}, None))
            elapsed = time.monotonic() - started
        finally:
            await transport.close()
    assert refused.value.code in codes
    assert followed == []  # a redirect is never followed
    print(f"court answering {mode}: {refused.value.code.value} after {elapsed * 1000:.0f} ms")
