"""A court stand-in whose behaviour the test sets, served for real on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.court_client import CourtTransport, TransportSettings
from tests.support.stack import serving


@dataclass
class Behaviour:
    """What the stand-in answers next: a queue of one-off answers, then the steady one."""

    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})
    retry_after: str | None = None
    delay_s: float = 0.0
    #: seconds between the bytes of a trickled answer (0: answer at once)
    trickle_s: float = 0.0
    once: list[tuple[int, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    #: idempotency keys seen, and the answer stored for each (a court deduplicates by key)
    stored: dict[str, bytes] = field(default_factory=dict)


def court_app(behaviour: Behaviour) -> Starlette:
    async def endpoint(request: Request) -> Response:
        body = await request.body()
        key = request.headers.get("idempotency-key")
        behaviour.received.append({"method": request.method, "path": request.url.path, "key": key,
                                   "body": orjson.loads(body) if body else None})
        if behaviour.delay_s:
            await asyncio.sleep(behaviour.delay_s)
        if behaviour.once:
            status, payload = behaviour.once.pop(0)
        else:
            status, payload = behaviour.status, behaviour.body
        content = orjson.dumps(payload)
        if 200 <= status < 300 and key:  # like a court: a key seen before gets the first answer again
            content = behaviour.stored.setdefault(key, content)
        if behaviour.trickle_s:
            return StreamingResponse(_trickle(content, behaviour.trickle_s), status, media_type="application/json")
        headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else None
        return Response(content, status, headers=headers, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])


async def _trickle(content: bytes, pause_s: float) -> AsyncIterator[bytes]:
    for index in range(len(content)):
        await asyncio.sleep(pause_s)
        yield content[index:index + 1]


@contextlib.asynccontextmanager
async def stand_in(behaviour: Behaviour, timeout_s: float = 2.0) -> AsyncIterator[CourtTransport]:
    async with serving(court_app(behaviour)) as url:
        transport = CourtTransport(url, TransportSettings(timeout_s=timeout_s, connect_timeout_s=min(1.0, timeout_s)))
        try:
            yield transport
        finally:
            await transport.close()
