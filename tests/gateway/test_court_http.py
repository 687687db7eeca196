"""The court HTTP client (aiohttp) against real servers on loopback: every way a court can answer,
the connection cap, refused header values, bounded answers, traceparent and mutual TLS."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from gateway import tracing
from gateway.court_client import CourtTransport, CourtUnreachable, TransportSettings, upload_form
from gateway.court_http import CourtHttp, CourtHttpError, HeaderRefused, Limits, TlsFiles
from gateway.errors import ErrorCode, GatewayError
from tests.support.stack import free_port, serving
from tests.support.tls import ThrowawayCa

CONNECTIONS: set[tuple[str, int]] = set()


async def echo(request: Request) -> Response:
    client = request.client
    if client is not None:
        CONNECTIONS.add((client.host, client.port))
    return JSONResponse({"method": request.method, "path": request.url.path, "query": request.url.query,
                         "body": (await request.body()).decode(), "auth": request.headers.get("authorization"),
                         "host": request.headers.get("host"), "traceparent": request.headers.get("traceparent"),
                         "request_id": request.headers.get("x-request-id")})


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


IN_FLIGHT = {"now": 0, "most": 0}


async def held(_request: Request) -> Response:
    IN_FLIGHT["now"] += 1
    IN_FLIGHT["most"] = max(IN_FLIGHT["most"], IN_FLIGHT["now"])
    await asyncio.sleep(0.2)
    IN_FLIGHT["now"] -= 1
    return JSONResponse({})


async def uploaded(request: Request) -> Response:
    form = await request.form()
    file = form["file"]
    assert not isinstance(file, str)
    return JSONResponse({"name": file.filename, "type": file.content_type, "size": len(await file.read()),
                         "length_given": request.headers.get("content-length", "").isdigit()})


APP = Starlette(routes=[
    Route("/court/api/v1/echo", echo, methods=["GET", "POST", "HEAD"]), Route("/court/api/v1/chunked", chunked),
    Route("/court/api/v1/huge", huge), Route("/court/api/v1/slow", slow), Route("/court/api/v1/redirect", redirect),
    Route("/court/api/v1/gzip", gzipped), Route("/court/api/v1/held", held),
    Route("/court/api/v1/uploads", uploaded, methods=["POST"]),
])


@pytest.fixture(scope="module")
async def base() -> AsyncIterator[str]:
    async with serving(APP) as url:
        yield url + "/court"


def pool(base: str, timeout: float = 1.0, max_connections: int = 100, tls: TlsFiles | None = None) -> CourtHttp:
    return CourtHttp(base, Limits(timeout, 0.5, max_connections), tls)


async def test_get_and_post_through_a_path_prefix_reusing_one_connection(base: str) -> None:
    client = pool(base)
    CONNECTIONS.clear()
    answer = await client.request("GET", "/api/v1/echo", {"Authorization": "Bearer t"}, params={"q": "起诉 书"})
    assert answer.status == 200
    echoed = orjson.loads(answer.body)
    assert echoed["path"] == "/court/api/v1/echo" and echoed["auth"] == "Bearer t"
    assert "q=%E8%B5%B7" in echoed["query"] and echoed["host"].startswith("127.0.0.1:")
    posted = orjson.loads((await client.request("POST", "/api/v1/echo", {}, body='{"a":"原告"}'.encode())).body)
    assert posted["body"] == '{"a":"原告"}'
    for _ in range(5):
        await client.request("GET", "/api/v1/echo", {})
    assert len(CONNECTIONS) == 1
    head = await client.request("HEAD", "/api/v1/echo", {})
    assert head.status == 200 and head.body == b""
    await client.close()


async def test_chunked_and_gzip_answers(base: str) -> None:
    client = pool(base)
    assert (await client.request("GET", "/api/v1/chunked", {})).body == b'{"items": [1, 2, 3]}'
    answer = await client.request("GET", "/api/v1/gzip", {})
    assert answer.body == b'{"ok": true}' and answer.headers["Content-Type"] == "application/json"
    await client.close()


@pytest.mark.parametrize(("path", "code", "kind"), [("/api/v1/huge", ErrorCode.BACKEND_UNAVAILABLE, "oversized"),
                                                    ("/api/v1/slow", ErrorCode.BACKEND_TIMEOUT, "timeout")])
async def test_oversized_and_slow_answers_are_bounded(base: str, path: str, code: ErrorCode, kind: str) -> None:
    client = pool(base, timeout=0.5)
    with pytest.raises(CourtHttpError) as failure:
        await client.request("GET", path, {})
    assert failure.value.code is code and failure.value.kind == kind
    assert (await client.request("GET", "/api/v1/echo", {})).status == 200  # the pool still works
    await client.close()


async def test_redirects_are_returned_not_followed(base: str) -> None:
    client = pool(base)
    answer = await client.request("GET", "/api/v1/redirect", {})
    assert answer.status == 302 and answer.headers["location"].endswith("/elsewhere")
    await client.close()


async def test_refused_connection() -> None:
    client = pool(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(CourtHttpError) as failure:
        await client.request("GET", "/api/v1/echo", {})
    assert failure.value.code is ErrorCode.BACKEND_UNAVAILABLE and failure.value.kind == "refused"


async def _raw_server(answer: bytes) -> tuple[asyncio.Server, str]:
    port = free_port()

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(reply, "127.0.0.1", port), f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("answer", [
    b"NOT HTTP AT ALL\r\n\r\n",
    # answer headers are bounded: 1 MiB in one header, and 1,000 header lines
    b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 2**20 + b"\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(1000)) + b"Content-Length: 2\r\n\r\nok",
], ids=["malformed", "huge-header", "many-headers"])
async def test_malformed_or_unbounded_answer_heads_are_refused(answer: bytes) -> None:
    server, url = await _raw_server(answer)
    client = pool(url)
    with pytest.raises(CourtHttpError) as failure:
        await client.request("GET", "/x", {})
    assert failure.value.code is ErrorCode.BACKEND_UNAVAILABLE and failure.value.kind == "broken"
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


async def test_concurrent_calls_are_capped_per_court(base: str) -> None:
    client = pool(base, timeout=5.0, max_connections=3)
    CONNECTIONS.clear()
    IN_FLIGHT["most"] = 0
    answers = await asyncio.gather(*(client.request("GET", "/api/v1/held", {}) for _ in range(12)))
    assert all(answer.status == 200 for answer in answers)
    assert IN_FLIGHT["most"] == 3
    await client.close()


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\rb"])
async def test_line_breaks_in_header_values_are_refused_before_sending(base: str, value: str) -> None:
    client = pool(base)
    CONNECTIONS.clear()
    with pytest.raises(HeaderRefused):
        await client.request("GET", "/api/v1/echo", {"X-Request-Id": value})
    assert CONNECTIONS == set()
    await client.close()


async def test_traceparent_is_passed_on_or_started_and_the_request_id_travels(base: str) -> None:
    transport = CourtTransport(base, TransportSettings(timeout_s=1.0))
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    tracing.remember({"headers": [(b"traceparent", incoming.encode())]})
    echoed = (await transport.request("GET", "/api/v1/echo", headers={"X-Request-Id": "req-12345678"})).json()
    trace = echoed["traceparent"].split("-")
    assert trace[0] == "00" and trace[1] == "4bf92f3577b34da6a3ce929d0e0e4736" and trace[3] == "01"
    assert len(trace[2]) == 16 and trace[2] != "00f067aa0ba902b7"  # the gateway's own span
    assert echoed["request_id"] == "req-12345678"
    for sent in ([], [(b"traceparent", b"00-00000000000000000000000000000000-00f067aa0ba902b7-01")],
                 [(b"traceparent", b"garbage")]):
        tracing.remember({"headers": sent})
        fresh = (await transport.request("GET", "/api/v1/echo", headers={})).json()["traceparent"]
        assert fresh.startswith("00-") and fresh.split("-")[1] not in ("0" * 32, trace[1])
    await transport.close()


async def test_a_header_with_a_line_break_becomes_a_validation_error_at_the_seam(base: str) -> None:
    transport = CourtTransport(base, TransportSettings(timeout_s=1.0))
    with pytest.raises(GatewayError) as refused:
        await transport.request("GET", "/api/v1/echo", headers={"X-Request-Id": "a\r\nb"})
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    await transport.close()


async def test_uploads_stream_through_the_same_client(base: str) -> None:
    transport = CourtTransport(base, TransportSettings(timeout_s=2.0))
    data = b"%PDF-1.7\n" + b"x" * 600_000
    spool = tempfile.SpooledTemporaryFile(max_size=2**20)  # noqa: SIM115 - closed below
    spool.write(data)
    part = upload_form(spool, "起诉状.pdf", "application/pdf")
    answer = await transport.request("POST", "/api/v1/uploads", headers={}, form=part)
    assert answer.json() == {"name": "起诉状.pdf", "type": "application/pdf", "size": len(data), "length_given": True}
    assert not spool._rolled  # type: ignore[attr-defined]  # streamed from memory, never moved to disk
    spool.close()
    await transport.close()


async def test_an_unreachable_court_is_court_unreachable_at_the_seam() -> None:
    transport = CourtTransport(f"http://127.0.0.1:{free_port()}", TransportSettings(timeout_s=1.0))
    with pytest.raises(CourtUnreachable) as failure:
        await transport.request("GET", "/x", headers={})
    assert failure.value.kind == "refused"


# --- TLS and mutual TLS against a throwaway CA ------------------------------------------------------------


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCa:
    return ThrowawayCa(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
async def mtls_court(authority: ThrowawayCa) -> AsyncIterator[str]:
    server_cert = authority.issue("court.localhost", server=True)
    port = free_port()
    import uvicorn

    config = uvicorn.Config(APP, host="127.0.0.1", port=port, log_config=None, access_log=False,
                            ssl_certfile=str(server_cert.cert), ssl_keyfile=str(server_cert.key),
                            ssl_ca_certs=str(authority.cert), ssl_cert_reqs=ssl.CERT_REQUIRED)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "TLS court did not start"
        await asyncio.sleep(0.01)
    yield f"https://127.0.0.1:{port}/court"
    server.should_exit = True
    await task


async def test_mutual_tls_with_the_courts_ca_and_a_client_certificate(authority: ThrowawayCa,
                                                                     mtls_court: str) -> None:
    gateway_cert = authority.issue("gateway.client", server=False)
    client = pool(mtls_court, tls=TlsFiles(str(authority.cert), str(gateway_cert.cert), str(gateway_cert.key)))
    answer = await client.request("GET", "/api/v1/echo", {})
    assert answer.status == 200 and orjson.loads(answer.body)["path"] == "/court/api/v1/echo"
    await client.close()


async def test_without_a_client_certificate_the_court_refuses(authority: ThrowawayCa, mtls_court: str) -> None:
    client = pool(mtls_court, tls=TlsFiles(str(authority.cert)))
    with pytest.raises(CourtHttpError):
        await client.request("GET", "/api/v1/echo", {})
    await client.close()


async def test_a_court_certificate_from_another_ca_is_refused(authority: ThrowawayCa, mtls_court: str,
                                                              tmp_path: Path) -> None:
    stranger = ThrowawayCa(tmp_path, "another CA")
    gateway_cert = authority.issue("gateway.client2", server=False)
    client = pool(mtls_court, tls=TlsFiles(str(stranger.cert), str(gateway_cert.cert), str(gateway_cert.key)))
    with pytest.raises(CourtHttpError) as failure:
        await client.request("GET", "/api/v1/echo", {})
    assert failure.value.kind == "refused"  # the handshake failed: nothing was sent
    await client.close()


async def test_an_ipv6_court_gets_a_bracketed_host_header() -> None:
    port = free_port()
    heads: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    try:
        server = await asyncio.start_server(answer, "::1", port)
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    client = pool(f"http://[::1]:{port}")
    assert (await client.request("GET", "/x", {})).body == b"ok"
    assert f"host: [::1]:{port}\r\n".encode() in heads[0].lower()
    server.close()
    await client.close()
