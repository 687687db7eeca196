"""The lean court HTTP client against real servers on loopback: every way a court can answer."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from gateway.court_http import LeanHttpError, LeanHttpPool
from gateway.errors import ErrorCode
from tests.support.stack import free_port, serving

CONNECTIONS: set[tuple[str, int]] = set()


async def echo(request: Request) -> Response:
    client = request.client
    if client is not None:
        CONNECTIONS.add((client.host, client.port))
    return JSONResponse({"method": request.method, "path": request.url.path, "query": request.url.query,
                         "body": (await request.body()).decode(), "auth": request.headers.get("authorization"),
                         "host": request.headers.get("host")})


async def chunked(_request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b'{"items": [', b"1, 2", b", 3]}"):
            yield part
    return StreamingResponse(parts(), media_type="application/json")


async def huge(_request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 2**20
    return StreamingResponse(parts())


async def slow(_request: Request) -> Response:
    await asyncio.sleep(2)
    return JSONResponse({})


async def redirect(_request: Request) -> Response:
    return RedirectResponse("http://127.0.0.1:9/elsewhere", status_code=302)


async def gzipped(_request: Request) -> Response:
    return Response(gzip.compress(b'{"ok": true}'), headers={"Content-Encoding": "gzip"},
                    media_type="application/json")


APP = Starlette(routes=[
    Route("/court/api/v1/echo", echo, methods=["GET", "POST"]), Route("/court/api/v1/chunked", chunked),
    Route("/court/api/v1/huge", huge), Route("/court/api/v1/slow", slow), Route("/court/api/v1/redirect", redirect),
    Route("/court/api/v1/gzip", gzipped),
])


@pytest.fixture(scope="module")
async def base() -> AsyncIterator[str]:
    async with serving(APP) as url:
        yield url + "/court"


def pool(base: str, timeout: float = 1.0) -> LeanHttpPool:
    return LeanHttpPool(base, timeout_s=timeout, connect_timeout_s=0.5)


async def test_get_and_post_through_a_path_prefix_reusing_one_connection(base: str) -> None:
    client = pool(base)
    CONNECTIONS.clear()
    answer = await client.request("GET", "/api/v1/echo", {"Authorization": "Bearer t"}, params={"q": "起诉 书"})
    assert answer.status == 200
    import orjson

    echoed = orjson.loads(answer.body)
    assert echoed["path"] == "/court/api/v1/echo" and echoed["auth"] == "Bearer t"
    assert "q=%E8%B5%B7" in echoed["query"] and echoed["host"].startswith("127.0.0.1:")
    posted = orjson.loads((await client.request("POST", "/api/v1/echo", {}, body='{"a":"原告"}'.encode())).body)
    assert posted["body"] == '{"a":"原告"}'
    for _ in range(5):
        await client.request("GET", "/api/v1/echo", {})
    assert len(CONNECTIONS) == 1
    await client.close()


async def test_chunked_and_gzip_answers(base: str) -> None:
    client = pool(base)
    assert (await client.request("GET", "/api/v1/chunked", {})).body == b'{"items": [1, 2, 3]}'
    assert (await client.request("GET", "/api/v1/gzip", {})).body == b'{"ok": true}'
    await client.close()


@pytest.mark.parametrize(("path", "code"), [("/api/v1/huge", ErrorCode.BACKEND_UNAVAILABLE),
                                            ("/api/v1/slow", ErrorCode.BACKEND_TIMEOUT)])
async def test_oversized_and_slow_answers_are_bounded(base: str, path: str, code: ErrorCode) -> None:
    client = pool(base, timeout=0.5)
    started = asyncio.get_running_loop().time()
    with pytest.raises(LeanHttpError) as failure:
        await client.request("GET", path, {})
    assert failure.value.code is code
    assert asyncio.get_running_loop().time() - started < 1.5
    assert (await client.request("GET", "/api/v1/echo", {})).status == 200  # the pool still works
    await client.close()


async def test_redirects_are_returned_not_followed(base: str) -> None:
    client = pool(base)
    answer = await client.request("GET", "/api/v1/redirect", {})
    assert answer.status == 302 and answer.headers["location"].endswith("/elsewhere")
    await client.close()


async def test_refused_connection() -> None:
    client = pool(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(LeanHttpError) as failure:
        await client.request("GET", "/api/v1/echo", {})
    assert failure.value.code is ErrorCode.BACKEND_UNAVAILABLE and not failure.value.sent


async def test_malformed_answer() -> None:
    port = free_port()

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", port)
    client = pool(f"http://127.0.0.1:{port}")
    with pytest.raises(LeanHttpError) as failure:
        await client.request("GET", "/x", {})
    assert failure.value.code is ErrorCode.BACKEND_UNAVAILABLE
    server.close()
    await client.close()


async def test_a_connection_the_court_closed_while_idle_is_replaced() -> None:
    port = free_port()
    served = 0

    async def one_answer_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        await reader.readuntil(b"\r\n\r\n")
        served += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()  # a keep-alive connection closed by the server while idle

    server = await asyncio.start_server(one_answer_then_close, "127.0.0.1", port)
    client = pool(f"http://127.0.0.1:{port}")
    assert (await client.request("GET", "/a", {})).body == b"ok"
    await asyncio.sleep(0.2)
    assert (await client.request("GET", "/b", {})).body == b"ok"
    assert served == 2
    server.close()
    await client.close()
