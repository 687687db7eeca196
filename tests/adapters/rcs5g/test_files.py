"""File messages (adapters/rcs5g/files.py) against a real file host on loopback: only listed hosts, never a
redirect, never more than the limit (declared or received)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from adapters.rcs5g.files import allowed_url, fetch
from adapters.rcs5g.protocol import FileInfo
from gateway import ErrorCode, GatewayError
from tests.support.stack import serving

LIMIT = 4096
HOSTS = ("127.0.0.1",)


async def small(_: Request) -> Response:
    return Response(b"%PDF-1.7 small\n", media_type="application/pdf")


async def endless(_: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 1024

    return StreamingResponse(chunks(), media_type="application/pdf")


async def elsewhere(_: Request) -> Response:
    return RedirectResponse("http://169.254.169.254/latest/meta-data", status_code=302)


APP = Starlette(routes=[Route("/small.pdf", small), Route("/endless.pdf", endless), Route("/moved.pdf", elsewhere)])


def info(url: str, size: int = 10) -> FileInfo:
    return FileInfo(url, "application/pdf", size, "材料.pdf")


def test_only_listed_hosts_over_http_without_user_info() -> None:
    assert allowed_url("https://files.example.invalid/a.pdf", ("files.example.invalid",))
    assert allowed_url("https://FILES.example.invalid:8443/a.pdf", ("files.example.invalid",))
    for url in ("https://evil.example.invalid/a.pdf", "file:///etc/passwd", "https://user:pw@files.example.invalid/a",
                "https://files.example.invalid.evil.invalid/a", "https://[::1/a", "gopher://files.example.invalid/"):
        assert not allowed_url(url, ("files.example.invalid",)), url


async def test_a_small_file_is_spooled_with_its_size_and_digest() -> None:
    async with serving(APP) as url, httpx.AsyncClient() as http:
        upload = await fetch(http, info(f"{url}/small.pdf"), hosts=HOSTS, limit=LIMIT, timeout_s=5)
    with upload.file:
        content = upload.file.read()
    assert content == b"%PDF-1.7 small\n" and upload.size == len(content)
    assert upload.sha256 == hashlib.sha256(content).hexdigest() and upload.filename == "材料.pdf"


@pytest.mark.parametrize(("path", "declared", "code"), [
    ("/small.pdf", LIMIT + 1, ErrorCode.PAYLOAD_TOO_LARGE),  # declared too large: not even fetched
    ("/endless.pdf", 10, ErrorCode.PAYLOAD_TOO_LARGE),  # declared small, sends more: cut off at the limit
    ("/moved.pdf", 10, ErrorCode.VALIDATION_FAILED),  # a redirect is refused, not followed
])
async def test_refusals(path: str, declared: int, code: ErrorCode) -> None:
    async with serving(APP) as url, httpx.AsyncClient() as http:
        with pytest.raises(GatewayError) as caught:
            await fetch(http, info(f"{url}{path}", declared), hosts=HOSTS, limit=LIMIT, timeout_s=5)
    assert caught.value.code is code and caught.value.errors


async def test_a_host_not_listed_is_never_contacted() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(GatewayError) as caught:
            await fetch(http, info("http://127.0.0.1:9/x.pdf"), hosts=("files.example.invalid",), limit=LIMIT,
                        timeout_s=5)
    assert caught.value.code is ErrorCode.VALIDATION_FAILED
