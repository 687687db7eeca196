"""The shared loopback-server helper (tests/support/servers.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.support.servers import BackgroundServer, serve


def hello_app(events: list[str] | None = None) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if events is not None:
            events.append("startup")
        yield
        if events is not None:
            events.append("shutdown")

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    return Starlette(routes=[Route("/", hello)], lifespan=lifespan)


def test_sync_use_and_restart_on_the_same_port() -> None:
    events: list[str] = []
    server = BackgroundServer(hello_app(events)).start()
    try:
        url = server.url
        assert httpx.get(url).text == "hello"
        server.stop()
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=1)
        server.start()
        assert server.url == url and httpx.get(url).text == "hello"
    finally:
        server.stop()
    assert events == ["startup", "shutdown", "startup", "shutdown"]


async def test_async_use() -> None:
    async with serve(hello_app()) as url, httpx.AsyncClient() as client:
        assert (await client.get(url)).text == "hello"


def test_failed_startup_is_reported() -> None:
    @asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("boom")
        yield

    with pytest.raises(RuntimeError, match="did not start"):
        BackgroundServer(Starlette(lifespan=broken), log_level="critical").start()
