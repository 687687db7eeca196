"""A lean HTTP/1.1 client for court calls: keep-alive connections and the httptools parser.

Why not only aiohttp: a court call is the one outbound request on the hot read
path, and aiohttp's general machinery (request and response objects, stream
readers, timers) costs several times the few microseconds this needs (figures
in bench/ and the README). This client does exactly what court calls need:
JSON requests with a Content-Length body, responses parsed by httptools (the
C parser uvicorn uses, chunked decoding included), pooled keep-alive
connections, TLS from an ``ssl.SSLContext`` (CA file and client certificate
for mutual TLS), a connect timeout and a whole-request timeout, answers bounded
in size, and redirects never followed. Anything else (multipart uploads) goes
through aiohttp behind the same seam (:class:`gateway.court_client.CourtTransport`).
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import httptools

from gateway.errors import ErrorCode

MAX_ANSWER_BYTES = 8 * 2**20


class LeanHttpError(Exception):
    """The court could not be reached or did not answer properly; ``code`` and ``kind`` say how
    (``kind`` as in :data:`gateway.court_client.FailureKind`)."""

    def __init__(self, code: ErrorCode, detail: str, *, sent: bool, kind: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.sent = sent  # whether any part of the request may have reached the court
        self.kind = kind or ("timeout" if code is ErrorCode.BACKEND_TIMEOUT else "broken" if sent else "refused")


@dataclass(frozen=True)
class LeanAnswer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[LeanAnswer] | None = None
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._received = False

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail(ErrorCode.BACKEND_UNAVAILABLE, "malformed HTTP answer")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ErrorCode.BACKEND_UNAVAILABLE, "connection closed before the answer")

    # --- httptools callbacks -----------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > MAX_ANSWER_BYTES:
            self._fail(ErrorCode.BACKEND_UNAVAILABLE, "court answer too large", "oversized")
            self.close()
            return
        self._body.append(chunk)

    def on_message_complete(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        body = b"".join(self._body)
        if self._headers.get("content-encoding") in ("gzip", "deflate"):
            body = _inflate(body)
        waiter.set_result(LeanAnswer(self._parser.get_status_code(), self._headers, body))
        if not self._parser.should_keep_alive():
            self.close()

    # --- use ---------------------------------------------------------------------------------

    def send(self, request: bytes) -> asyncio.Future[LeanAnswer]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._headers, self._body, self._size, self._received = {}, [], 0, False
        self.transport.write(request)
        return self._waiter

    @property
    def received_anything(self) -> bool:
        return self._received

    def _fail(self, code: ErrorCode, detail: str, kind: str | None = None) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(LeanHttpError(code, detail, sent=True, kind=kind))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _inflate(body: bytes) -> bytes:
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 32)
    out = decompressor.decompress(body, MAX_ANSWER_BYTES + 1)
    if len(out) > MAX_ANSWER_BYTES:
        raise LeanHttpError(ErrorCode.BACKEND_UNAVAILABLE, "court answer too large", sent=True, kind="oversized")
    return out


class LeanHttpPool:
    """Keep-alive connections to one court (``base_url`` may carry a path prefix)."""

    def __init__(self, base_url: str, *, timeout_s: float, connect_timeout_s: float,
                 ssl_context: ssl.SSLContext | None = None, pool_size: int = 100) -> None:
        parts = urlsplit(base_url)
        self._secure = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._secure else 80)
        self._prefix = parts.path.rstrip("/")
        default_port = self._port == (443 if self._secure else 80)
        self._host_header = self._host if default_port else f"{self._host}:{self._port}"
        self._ssl = (ssl_context or ssl.create_default_context()) if self._secure else None
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._idle: deque[_Connection] = deque()
        self._pool_size = pool_size

    async def request(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None = None,
                      params: Mapping[str, str] | None = None, timeout_s: float | None = None) -> LeanAnswer:
        """One exchange; raises LeanHttpError. A kept-alive connection the court had already
        closed is replaced once, and only when it received nothing (the request never arrived).
        ``timeout_s`` shortens this call (a retry must fit in what is left of a deadline)."""
        raw = self._encode(method, path, headers, body, params)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout_s or self._timeout_s, self._timeout_s)
        connection = await self._connection(deadline)
        try:
            return await self._exchange(connection, raw, deadline)
        except LeanHttpError as exc:
            stale = exc.code is ErrorCode.BACKEND_UNAVAILABLE and connection.reused
            if not stale or connection.received_anything:
                raise
        fresh = await self._connection(deadline, reuse=False)
        return await self._exchange(fresh, raw, deadline)

    async def _exchange(self, connection: _Connection, raw: bytes, deadline: float) -> LeanAnswer:
        loop = asyncio.get_running_loop()
        waiter = connection.send(raw)
        timer = loop.call_at(deadline, _expire, waiter)
        try:
            answer = await waiter
        except LeanHttpError:
            connection.close()
            raise
        finally:
            timer.cancel()
        if not connection.closed and len(self._idle) < self._pool_size:
            connection.reused = True
            self._idle.append(connection)
        elif not connection.closed:
            connection.close()
        return answer

    async def _connection(self, deadline: float, reuse: bool = True) -> _Connection:
        while reuse and self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        loop = asyncio.get_running_loop()
        timeout = min(self._connect_timeout_s, max(0.001, deadline - loop.time()))
        try:
            _transport, connection = await asyncio.wait_for(
                loop.create_connection(_Connection, self._host, self._port, ssl=self._ssl,
                                       server_hostname=self._host if self._ssl else None),
                timeout,
            )
        except TimeoutError:
            raise LeanHttpError(ErrorCode.BACKEND_TIMEOUT, "court did not accept a connection in time",
                                sent=False) from None
        except (OSError, ssl.SSLError) as exc:
            raise LeanHttpError(ErrorCode.BACKEND_UNAVAILABLE, f"court unreachable: {type(exc).__name__}",
                                sent=False) from None
        return connection

    def _encode(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None,
                params: Mapping[str, str] | None) -> bytes:
        target = self._prefix + path
        if params:
            target += "?" + urlencode(params)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + (body or b"")

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


def _expire(waiter: asyncio.Future[LeanAnswer]) -> None:
    if not waiter.done():
        waiter.set_exception(LeanHttpError(ErrorCode.BACKEND_TIMEOUT, "court did not answer in time", sent=True))
