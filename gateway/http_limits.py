"""Request-head limits enforced in the server (OWASP API4): 64 KiB and 100 header lines -> 431;
and a response's head and body written with one system call.

uvicorn's httptools protocol collects a request's head without a bound, so a
client could send a 64 MiB header or 100,000 header lines and have the server
buffer them. :class:`HeadLimitedProtocol` stands in front of uvicorn's own
protocol (composition, not a subclass: uvicorn's ``http="httptools"`` class is
looked up by its documented name): it feeds every chunk to a second httptools
parser that keeps no header data and only says where each request head starts
and ends, counts the bytes and lines that arrive while a head is open, and
answers 431 and closes the connection as soon as a limit is passed, long before
the head is whole. A chunk in which a head starts is counted whole, so the
figure errs towards the strict side by at most the tail of a pipelined body.

A head that arrives whole in one read (uvloop reads up to 256 KiB at once) is
already bounded by that read; :func:`head_too_large` checks it again on the
parsed headers, and the app answers the same 431.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
import orjson
from uvicorn.config import HTTP_PROTOCOLS, Config
from uvicorn.importer import import_from_string
from uvicorn.server import ServerState

MAX_HEAD_BYTES = 64 * 1024
MAX_HEAD_LINES = 100 + 1  # the request line and 100 header lines
LINGER_S = 2.0
REFUSAL_BODY = orjson.dumps({
    "type": "https://court-gateway.invalid/errors/request-headers-too-large",
    "title": "Request Header Fields Too Large", "status": 431, "code": "REQUEST_HEADERS_TOO_LARGE",
    "detail": f"request headers are limited to {MAX_HEAD_BYTES // 1024} KiB and {MAX_HEAD_LINES - 1} lines",
})
REFUSAL = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/problem+json\r\n"
           b"connection: close\r\ncontent-length: %d\r\n\r\n" % len(REFUSAL_BODY)) + REFUSAL_BODY


def head_too_large(scope: Any) -> bool:
    """The same limits on a head that was parsed whole (about a microsecond for a usual head)."""
    headers = scope["headers"]
    if len(headers) > MAX_HEAD_LINES - 1:
        return True
    return sum(len(name) + len(value) + 4 for name, value in headers) > MAX_HEAD_BYTES


class _HeadMeter:
    """httptools callbacks that only mark where request heads begin and end (no header data kept)."""

    def __init__(self) -> None:
        self.open = False

    def on_message_begin(self) -> None:
        self.open = True

    def on_headers_complete(self) -> None:
        self.open = False


class CorkedTransport:
    """The real transport, except that writes made in one event-loop turn leave in one system call.

    uvicorn writes a response's head and its body separately; on this kind of machine a write
    system call costs as much as a tenth of a request (py-spy, bench/). Everything else is the
    transport's own.
    """

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self._transport: Any = transport
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return int(self._transport.get_write_buffer_size()) + sum(len(p) for p in self._pending)

    def is_closing(self) -> bool:
        return bool(self._transport.is_closing())

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HeadLimitedProtocol(asyncio.Protocol):
    """uvicorn's httptools protocol behind a bound on every request head."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        inner_class = import_from_string(HTTP_PROTOCOLS["httptools"])
        self._inner: asyncio.Protocol = inner_class(config=config, server_state=server_state, app_state=app_state,
                                                    _loop=_loop)
        self._marks = _HeadMeter()
        self._meter: httptools.HttpRequestParser | None = httptools.HttpRequestParser(self._marks)
        self._transport: asyncio.Transport | None = None
        self._bytes = 0
        self._lines = 0
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._inner.connection_made(CorkedTransport(transport))  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._meter is not None and self._over_limit(data):
            self._refuse()
            return
        self._inner.data_received(data)

    def _over_limit(self, data: bytes) -> bool:
        assert self._meter is not None
        was_open = self._marks.open
        try:
            self._meter.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            # Malformed (uvicorn answers 400) or an upgrade: nothing more to measure on this connection.
            self._meter = None
            return False
        if not self._marks.open:
            self._bytes = self._lines = 0  # every head in this chunk ended
            return False
        if not was_open:
            self._bytes = self._lines = 0  # a new head began in this chunk
        self._bytes += len(data)
        self._lines += data.count(b"\n")
        return self._bytes > MAX_HEAD_BYTES or self._lines > MAX_HEAD_LINES

    def _refuse(self) -> None:
        """Answer 431, stop reading, and close a moment later: closing at once with the client's bytes
        unread would reset the connection and could destroy the answer before the client reads it."""
        self._meter = None
        self._refused = True
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(REFUSAL)
        if transport.can_write_eof():
            transport.write_eof()
        transport.pause_reading()
        asyncio.get_running_loop().call_later(LINGER_S, transport.close)

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()
