"""Make a court misbehave on purpose, for the gateway's resilience tests.

``POST /_ref/faults {"court": code | null, "mode", "seconds"?, "count"?, "bytes"?}``:

- ``ok``: behave (for one court, or for every court when ``court`` is null)
- ``unavailable_503``: answer 503 problem+json with ``Retry-After``
- ``slow``: wait ``seconds`` before handling the request normally
- ``huge``: answer 200 with a valid JSON body of ``bytes`` (default 10 MiB)
- ``malformed``: answer 200 ``application/json`` that is not JSON
- ``redirect``: answer 307 to a link-local address (a client that follows it is an SSRF risk)
- ``commit_then_503``: handle the request (a write is committed) and then answer 503 instead,
  as when a response is lost on the way back; redelivery must find the stored answer

``count`` limits the fault to the next N requests of that court. A court's own
setting wins over the all-courts one.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_court.routing import CourtResolver

MODES = frozenset({"ok", "unavailable_503", "slow", "huge", "malformed", "redirect", "commit_then_503"})
DEFAULT_HUGE = 10 * 2**20
MAX_HUGE = 256 * 2**20
MAX_SLOW_S = 600.0
REDIRECT_TO = "http://169.254.169.254/latest/meta-data/"


@dataclass
class Fault:
    mode: str
    seconds: float = 0.0
    remaining: int | None = None
    size: int = DEFAULT_HUGE

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "seconds": self.seconds, "count": self.remaining, "bytes": self.size}


class FaultTable:
    def __init__(self) -> None:
        self._faults: dict[str | None, Fault] = {}

    def set(self, court: str | None, fault: Fault) -> None:
        if court is None and fault.mode == "ok":
            self._faults.clear()  # "all courts behave" clears the per-court settings too
            return
        self._faults[court] = fault

    def take(self, court: str) -> Fault | None:
        """The fault for this request, counting it against a limited fault."""
        key: str | None = court if court in self._faults else None
        fault = self._faults.get(key)
        if fault is None or fault.mode == "ok":
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._faults[key]
        return fault

    def snapshot(self) -> dict[str, Any]:
        return {("*" if court is None else court): fault.as_dict() for court, fault in self._faults.items()}


def parse_fault(body: dict[str, Any]) -> tuple[str | None, Fault]:
    """Validate a ``/_ref/faults`` body; raises ValueError with a readable reason."""
    mode = body.get("mode")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(sorted(MODES))}")
    court = body.get("court")
    if court is not None and not isinstance(court, str):
        raise ValueError("court must be a court code or null")
    seconds = body.get("seconds", 0)
    count = body.get("count")
    size = body.get("bytes", DEFAULT_HUGE)
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= MAX_SLOW_S:
        raise ValueError(f"seconds must be a number from 0 to {MAX_SLOW_S:.0f}")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ValueError("count must be a positive integer")
    if not isinstance(size, int) or isinstance(size, bool) or not 2 <= size <= MAX_HUGE:
        raise ValueError(f"bytes must be an integer from 2 to {MAX_HUGE}")
    return court, Fault(mode, float(seconds), count, size)


async def _drain(receive: Receive) -> None:
    # Read the request body before answering so the client is not left writing into a closed stream.
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _send_simple(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _unavailable(send: Send) -> None:
    problem = {"type": "https://reference-court.invalid/problems/unavailable", "title": "Service unavailable",
               "status": 503, "code": "UNAVAILABLE", "detail": "法院业务系统维护中，请稍后再试。"}
    await _send_simple(send, 503, json.dumps(problem, ensure_ascii=False).encode(),
                       [(b"content-type", b"application/problem+json"), (b"retry-after", b"5")])


async def _huge(send: Send, size: int) -> None:
    # Valid JSON, streamed in 64 KiB pieces: {"items": ["xxxx..."]}
    head, tail = b'{"items":["', b'"]}'
    filler = max(size - len(head) - len(tail), 0)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(size).encode())]})
    await send({"type": "http.response.body", "body": head, "more_body": True})
    chunk = b"x" * 65536
    while filler > 0:
        piece = chunk[:filler]
        filler -= len(piece)
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": tail})


async def _commit_then_fail(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    async def swallow(message: Message) -> None:
        return None

    await app(scope, receive, swallow)
    await _unavailable(send)


class FaultMiddleware:
    def __init__(self, app: ASGIApp, table: FaultTable, resolver: CourtResolver) -> None:
        self.app = app
        self.table = table
        self.resolver = resolver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        court = self.resolver.court_of(scope["path"]) if scope["type"] == "http" else None
        fault = self.table.take(court) if court is not None else None
        if fault is None:
            await self.app(scope, receive, send)
            return
        await self._misbehave(fault, scope, receive, send)

    async def _misbehave(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.mode == "slow":
            await asyncio.sleep(fault.seconds)
            await self.app(scope, receive, send)
        elif fault.mode == "commit_then_503":
            await _commit_then_fail(self.app, scope, receive, send)
        else:
            await _drain(receive)
            if fault.mode == "unavailable_503":
                await _unavailable(send)
            elif fault.mode == "huge":
                await _huge(send, fault.size)
            elif fault.mode == "malformed":
                await _send_simple(send, 200, b'{"case_no": "\xef\xbc\x882024', [(b"content-type", b"application/json")])
            else:
                await _send_simple(send, 307, b"", [(b"location", REDIRECT_TO.encode())])
