"""OWASP API4 (unrestricted resource consumption): request heads are bounded in the server.

Against ``court-gateway serve`` as a real process: a 64 MiB header and 100,000
header lines streamed are refused by the HTTP library itself (h11 through
uvicorn: 400 and the connection closed, which a client still sending sees as a
reset) after little more than ``SERVER_HEAD_BYTES``, before
the server has buffered them, while /healthz goes on answering; heads at the
limits pass, heads just over them (bytes or lines) get the gateway's 431
problem+json, whole or streamed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gateway.http_limits import MAX_HEAD_BYTES, SERVER_HEAD_BYTES
from tests.reliability.support import Deployment, GatewayProcess, deployment

pytestmark = pytest.mark.slow
ATTACK_BYTES = 64 * 2**20
CHUNK = 64 * 1024


@pytest.fixture(scope="module")
async def gateway() -> AsyncIterator[tuple[Deployment, GatewayProcess]]:
    async with deployment() as d:
        yield d, d.gateway(0)


def big_header() -> Iterator[bytes]:
    yield b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Big: "
    for _ in range(ATTACK_BYTES // CHUNK):
        yield b"a" * CHUNK


def many_lines() -> Iterator[bytes]:
    yield b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n"
    line = b"X-Line: v\r\n"
    per_chunk = CHUNK // len(line)
    for _ in range(100_000 // per_chunk + 1):
        yield line * per_chunk


async def attack(port: int, parts: Iterator[bytes]) -> tuple[bytes, int]:
    """Send the parts until the server stops taking them; what it answered and how much it took."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = asyncio.create_task(reader.read())
    sent = 0
    try:
        for part in parts:
            if answer.done():
                break
            writer.write(part)
            await writer.drain()
            sent += len(part)
    except (ConnectionError, OSError):
        pass
    try:
        received = await asyncio.wait_for(answer, 30)
    except ConnectionError:
        received = b""
    writer.close()
    return received, sent


async def healthz_while(port: int, stop: asyncio.Event) -> list[int]:
    statuses = []
    async with httpx.AsyncClient(timeout=10) as client:
        while not stop.is_set():
            statuses.append((await client.get(f"http://127.0.0.1:{port}/healthz")).status_code)
            await asyncio.sleep(0.05)
    return statuses


@pytest.mark.parametrize("parts", [big_header, many_lines], ids=["64-MiB-header", "100k-header-lines"])
async def test_oversized_heads_are_refused_early_while_healthz_answers(gateway: tuple[Deployment, GatewayProcess],
                                                                  parts: object) -> None:
    _, process = gateway
    stop = asyncio.Event()
    probe = asyncio.create_task(healthz_while(process.port, stop))
    answers = await asyncio.gather(*(attack(process.port, parts()) for _ in range(3)))  # type: ignore[operator]
    stop.set()
    statuses = await probe
    for received, sent in answers:
        # uvicorn closes at once after its 400: a client still sending may see a reset instead
        assert received == b"" or received.startswith(b"HTTP/1.1 400 "), received[:100]
        assert sent < 8 * 2**20, f"the server took {sent} bytes of one head"
    assert statuses and set(statuses) == {200}


def head_with(lines: int, filler: int = 0) -> dict[str, str]:
    headers = {f"X-L{i}": "v" for i in range(lines)}
    if filler:
        headers["X-Filler"] = "a" * filler
    return headers


async def test_heads_at_the_limits_pass_and_just_over_them_are_refused(
        gateway: tuple[Deployment, GatewayProcess]) -> None:
    _, process = gateway
    async with httpx.AsyncClient(timeout=10) as client:
        async def status(headers: dict[str, str]) -> int:
            # httpx adds Host, Accept, Accept-Encoding, Connection and User-Agent: 5 lines
            return (await client.get(process.url + "/healthz", headers=headers)).status_code

        assert await status(head_with(95)) == 200
        assert await status(head_with(96)) == 431
        assert await status({"X-Filler": "a" * (MAX_HEAD_BYTES - 1024)}) == 200
        assert await status({"X-Filler": "a" * (MAX_HEAD_BYTES + 1)}) == 431
        refused = await client.get(process.url + "/api/v1/openapi.json", headers=head_with(200))
        assert refused.status_code == 431 and refused.json()["code"] == "REQUEST_HEADERS_TOO_LARGE"
        beyond = await client.get(process.url + "/healthz", headers={"X-Filler": "a" * (SERVER_HEAD_BYTES + 1)})
        assert beyond.status_code in (400, 431)  # h11 refuses it unfinished (400), or whole in one read (431)


async def test_a_head_just_over_the_limit_streamed_slowly_gets_the_431(
        gateway: tuple[Deployment, GatewayProcess]) -> None:
    """Arriving in pieces, so h11 holds it unfinished: within its bound, it is parsed and refused by us."""
    _, process = gateway
    head = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Filler: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", process.port)
    for start in range(0, len(head), 8 * 1024):
        writer.write(head[start:start + 8 * 1024])
        await writer.drain()
        await asyncio.sleep(0.01)
    received = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    assert received.startswith(b"HTTP/1.1 431 "), received[:100]
    assert b"REQUEST_HEADERS_TOO_LARGE" in received
