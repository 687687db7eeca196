"""Court calls on the wire: one aiohttp ClientSession per court, on the gateway's own event loop.

Chosen by measurement inside the gateway (bench/cpu_per_request.py, README): standalone, pyreqwest
costs less per call than aiohttp (ARCHITECTURE.md), but inside a busy gateway every pyreqwest call
crosses to its Rust runtime's thread and back, and those hand-offs cost the event loop more than
aiohttp's parsing does; aiohttp on the gateway's loop was the cheaper of the two for every channel.
All court calls go through it, uploads included.

Per court: at most ``max_connections`` connections (the connector's limit; a call waits for a free
one within its own timeout), connect and total timeouts, TLS with a CA file and a client certificate
(mutual TLS), redirects never followed, answer heads bounded by aiohttp's parser (lines of at most
8 KB, at most 100 header lines) and bodies by :data:`MAX_ANSWER_BYTES` counted while they are read.
Header values with CR, LF or NUL are refused here before anything is sent. Only this module imports
aiohttp.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import IO

import aiohttp
from aiohttp.payload import AsyncIterablePayload

from gateway.errors import ErrorCode

#: An answer bigger than this is not a litigation-service answer; refuse it cleanly.
MAX_ANSWER_BYTES = 8 * 2**20
#: Bounds on a court's answer head (aiohttp's parser refuses anything beyond them).
MAX_HEAD_LINE = 8190
MAX_HEADER_LINES = 100
_UPLOAD_CHUNK = 256 * 1024
_FORBIDDEN_IN_HEADERS = ("\r", "\n", "\0")


class CourtHttpError(Exception):
    """No usable answer. ``kind``: ``refused`` (the court never saw the request), ``broken`` (it may
    have), ``timeout`` or ``oversized`` (as :data:`gateway.court_client.FailureKind`)."""

    def __init__(self, code: ErrorCode, detail: str, kind: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.kind = kind


class HeaderRefused(ValueError):
    """A header value the library will not put on the wire (CR, LF, NUL): a bug or an injection."""


@dataclass(frozen=True)
class TlsFiles:
    ca_file: str | None = None
    client_cert_file: str | None = None
    client_key_file: str | None = None


@dataclass(frozen=True)
class UploadPart:
    """One file streamed to the court as the ``file`` part of a multipart body."""

    file: IO[bytes]
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes


@dataclass(frozen=True)
class Limits:
    timeout_s: float
    connect_timeout_s: float
    max_connections: int


def _ssl_context(tls: TlsFiles) -> ssl.SSLContext | None:
    if not (tls.ca_file or tls.client_cert_file):
        return None  # plain HTTP, or HTTPS checked against the system's CAs
    context = ssl.create_default_context(cafile=tls.ca_file)
    if tls.client_cert_file:
        context.load_cert_chain(tls.client_cert_file, tls.client_key_file)
    return context


def _timeout(limits: Limits, total_s: float) -> aiohttp.ClientTimeout:
    # ``connect`` covers waiting for a free slot under the cap as well as connecting, so a call that
    # times out there was never sent (ConnectionTimeoutError); ``sock_connect`` bounds the TCP/TLS part.
    return aiohttp.ClientTimeout(total=total_s, connect=total_s,
                                 sock_connect=min(limits.connect_timeout_s, total_s))


class CourtHttp:
    """The connection pool to one court (``base_url`` may carry a path prefix).

    The session is made on first use, on the loop that uses it (aiohttp binds a session to a loop)."""

    def __init__(self, base_url: str, limits: Limits, tls: TlsFiles | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.limits = limits
        self._ssl = _ssl_context(tls or TlsFiles())
        self._timeout = _timeout(limits, limits.timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.limits.max_connections, limit_per_host=0,
                                         ssl=self._ssl if self._ssl is not None else True,
                                         keepalive_timeout=30, use_dns_cache=True)
        return aiohttp.ClientSession(connector=connector, timeout=self._timeout, auto_decompress=True,
                                     trust_env=False, cookie_jar=aiohttp.DummyCookieJar(),
                                     max_line_size=MAX_HEAD_LINE, max_field_size=MAX_HEAD_LINE,
                                     max_headers=MAX_HEADER_LINES, raise_for_status=False)

    def _current(self) -> aiohttp.ClientSession:
        session, loop = self._session, asyncio.get_running_loop()
        if session is None or session.closed or self._loop is not loop:
            session, self._loop = self._open(), loop
            self._session = session
        return session

    async def request(self, method: str, path: str, headers: Mapping[str, str], *, body: bytes | None = None,
                      params: Mapping[str, str] | None = None, upload: UploadPart | None = None,
                      timeout_s: float | None = None) -> HttpAnswer:
        """One exchange; raises CourtHttpError, or HeaderRefused before anything is sent.
        ``timeout_s`` shortens this call (a retry must fit in what is left of a deadline)."""
        _refuse_line_breaks(headers)
        timeout = self._timeout
        if timeout_s is not None and timeout_s < self.limits.timeout_s:
            timeout = _timeout(self.limits, max(timeout_s, 0.001))
        data: bytes | aiohttp.FormData | None = body
        if upload is not None:
            data = _form(upload)
        call = self._current().request(method, self.base_url + path, headers=headers, params=params, data=data,
                                       allow_redirects=False, timeout=timeout)
        return await _exchange(call)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _refuse_line_breaks(headers: Mapping[str, str]) -> None:
    for name, value in headers.items():
        if any(mark in value or mark in name for mark in _FORBIDDEN_IN_HEADERS):
            raise HeaderRefused(f"header refused: line break or NUL in {name[:40]!r}")


async def _exchange(call: AbstractAsyncContextManager[aiohttp.ClientResponse]) -> HttpAnswer:
    try:
        async with call as response:
            body = await _read_bounded(response)
            return HttpAnswer(response.status, response.headers, body)
    except CourtHttpError:
        raise
    except aiohttp.ConnectionTimeoutError:
        # No free slot under the court's cap, or no connection, in time: nothing was sent.
        raise CourtHttpError(ErrorCode.BACKEND_TIMEOUT, "no connection to the court in time", "refused") from None
    except (aiohttp.ServerTimeoutError, TimeoutError):
        raise CourtHttpError(ErrorCode.BACKEND_TIMEOUT, "court did not answer in time", "timeout") from None
    except aiohttp.ClientConnectorError as exc:
        # Refused, unreachable, or a failed TLS handshake: the court cannot have seen the request.
        raise CourtHttpError(ErrorCode.BACKEND_UNAVAILABLE, f"court unreachable: {type(exc).__name__}",
                             "refused") from None
    except aiohttp.ClientError as exc:
        # Reset, closed mid-answer, malformed or oversized head.
        raise CourtHttpError(ErrorCode.BACKEND_UNAVAILABLE, f"court unreachable: {type(exc).__name__}",
                             "broken") from None


async def _read_bounded(response: aiohttp.ClientResponse) -> bytes:
    """The whole body, or CourtHttpError once it passes the bound (counted after decompression)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise CourtHttpError(ErrorCode.BACKEND_UNAVAILABLE, "court answer too large", "oversized")
    body = await response.content.read(MAX_ANSWER_BYTES + 1)
    if len(body) > MAX_ANSWER_BYTES:
        raise CourtHttpError(ErrorCode.BACKEND_UNAVAILABLE, "court answer too large", "oversized")
    if len(body) == MAX_ANSWER_BYTES + 1 or response.content.at_eof():
        return body
    # StreamReader.read(n) returns what is buffered; gather the rest up to the bound.
    parts = [body]
    size = len(body)
    while chunk := await response.content.read(MAX_ANSWER_BYTES + 1 - size):
        parts.append(chunk)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise CourtHttpError(ErrorCode.BACKEND_UNAVAILABLE, "court answer too large", "oversized")
    return b"".join(parts)


def _form(upload: UploadPart) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)  # the filename as the court expects it, in UTF-8
    form.add_field("file", _SpoolPayload(upload), filename=upload.filename, content_type=upload.content_type)
    return form


class _SpoolPayload(AsyncIterablePayload):
    """The spooled upload, read off the event loop in pieces as it is sent (never whole in memory),
    with its size known so the court gets a Content-Length. aiohttp's own file payload would ask the
    file for a descriptor to measure it, which moves a SpooledTemporaryFile to disk on the loop."""

    def __init__(self, upload: UploadPart) -> None:
        super().__init__(_chunks(upload.file), content_type=upload.content_type)
        self._size = upload.size


async def _chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    file.seek(0)
    while chunk := await asyncio.to_thread(file.read, _UPLOAD_CHUNK):
        yield chunk
