"""Court calls on the wire: one pyreqwest client (Rust reqwest/hyper) per court.

Chosen by measurement (bench/, ARCHITECTURE.md): a hand-written httptools
client cost ~19 µs a call, pyreqwest ~39, aiohttp ~80, httpx's default
transport ~1,400; pyreqwest is the cheapest well-kept library, and it brings
what a hand-written client got wrong (a cap on concurrent connections, header
validation, HEAD, IPv6 hosts, bounded answer headers). All court calls go
through it, uploads included.

Per court: at most ``max_connections`` requests in flight (hyper opens a
connection per request in flight, so this caps the sockets), connect and total
timeouts, TLS with a CA file and a client certificate (mutual TLS), redirects
never followed, answer headers bounded by hyper (at most 100 header lines and
~400 KB of head) and bodies by :data:`MAX_ANSWER_BYTES` counted while they are
read. Header values with CR or LF are refused by the library before anything is
sent. Only this module imports pyreqwest.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import PoolTimeoutError, PyreqwestError, RequestTimeoutError
from pyreqwest.multipart import FormBuilder, PartBuilder
from pyreqwest.request import RequestBuilder
from pyreqwest.response import Response

from gateway.errors import ErrorCode

#: An answer bigger than this is not a litigation-service answer; refuse it cleanly.
MAX_ANSWER_BYTES = 8 * 2**20
_UPLOAD_CHUNK = 256 * 1024


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


def _client(limits: Limits, tls: TlsFiles) -> Client:
    builder = (ClientBuilder().follow_redirects(False).error_for_status(False).gzip(True)
               .max_connections(limits.max_connections)
               .timeout(timedelta(seconds=limits.timeout_s))
               .connect_timeout(timedelta(seconds=limits.connect_timeout_s))
               # Waiting for a free slot counts against the whole call, not beyond it.
               .pool_timeout(timedelta(seconds=limits.timeout_s))
               .pool_idle_timeout(timedelta(seconds=30)).tcp_nodelay(True).no_proxy())
    if tls.ca_file:
        builder = builder.add_root_certificate_pem(Path(tls.ca_file).read_bytes())
    if tls.client_cert_file:
        identity = Path(tls.client_cert_file).read_bytes()
        if tls.client_key_file:
            identity += b"\n" + Path(tls.client_key_file).read_bytes()
        builder = builder.identity_pem(identity)
    return builder.build()


class CourtHttp:
    """The connection pool to one court (``base_url`` may carry a path prefix)."""

    def __init__(self, base_url: str, limits: Limits, tls: TlsFiles | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.limits = limits
        self._client = _client(limits, tls or TlsFiles())

    async def request(self, method: str, path: str, headers: Mapping[str, str], *, body: bytes | None = None,
                      params: Mapping[str, str] | None = None, upload: UploadPart | None = None,
                      timeout_s: float | None = None) -> HttpAnswer:
        """One exchange; raises CourtHttpError, or HeaderRefused before anything is sent.
        ``timeout_s`` shortens this call (a retry must fit in what is left of a deadline)."""
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params)
        try:
            builder = self._client.request(method, url).headers(headers)
        except ValueError as exc:
            raise HeaderRefused(f"header refused: {exc}") from None
        if body is not None:
            builder = builder.body_bytes(body)
        if upload is not None:
            builder = builder.multipart(_form(upload))
        if timeout_s is not None and timeout_s < self.limits.timeout_s:
            builder = builder.timeout(timedelta(seconds=max(timeout_s, 0.001)))
        return await _exchange(builder)

    async def close(self) -> None:
        await self._client.close()


async def _exchange(builder: RequestBuilder) -> HttpAnswer:
    try:
        async with builder.build_streamed() as response:
            return HttpAnswer(response.status, response.headers, await _read_bounded(response))
    except CourtHttpError:
        raise
    except PoolTimeoutError:
        # No free slot under the court's cap in time: nothing was sent.
        raise CourtHttpError(ErrorCode.BACKEND_TIMEOUT, "no free connection to the court in time", "refused") from None
    except (RequestTimeoutError, TimeoutError) as exc:
        kind = "refused" if _never_connected(exc) else "timeout"
        raise CourtHttpError(ErrorCode.BACKEND_TIMEOUT, "court did not answer in time", kind) from None
    except PyreqwestError as exc:
        # Refused, reset, closed mid-answer, malformed or oversized head, failed TLS handshake.
        kind = "refused" if _never_connected(exc) else "broken"
        raise CourtHttpError(ErrorCode.BACKEND_UNAVAILABLE, f"court unreachable: {type(exc).__name__}",
                             kind) from None


def _never_connected(exc: BaseException) -> bool:
    """Whether the failure happened while connecting, so the court cannot have seen the request.

    pyreqwest's exception classes do not say (a request that timed out waiting for its answer is a
    ConnectTimeoutError, a reset after sending a ConnectError); hyper's cause chain does: "client
    error (Connect)" versus "(SendRequest)". Anything else counts as possibly seen.
    """
    details = getattr(exc, "details", None)
    causes = details.get("causes") if isinstance(details, dict) else None
    messages = [str(cause.get("message", "")) for cause in causes or [] if isinstance(cause, dict)]
    return any(message.startswith("client error (Connect)") for message in messages)


async def _read_bounded(response: Response) -> bytes:
    """The whole body, or CourtHttpError once it passes the bound. One read for the whole body: the
    reader gathers up to the amount asked for (or the end) on its own thread, and every await of
    it crosses threads, which a busy event loop pays for (bench/)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise CourtHttpError(ErrorCode.BACKEND_UNAVAILABLE, "court answer too large", "oversized")
    body = await response.body_reader.read(MAX_ANSWER_BYTES + 1)
    if body is None:
        return b""
    if len(body) > MAX_ANSWER_BYTES:
        raise CourtHttpError(ErrorCode.BACKEND_UNAVAILABLE, "court answer too large", "oversized")
    return bytes(body)


def _form(upload: UploadPart) -> FormBuilder:
    part = (PartBuilder.from_stream_with_length(_chunks(upload.file), upload.size)
            .file_name(upload.filename).mime(upload.content_type))
    return FormBuilder().part("file", part)


async def _chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    """The spooled upload, read off the event loop in pieces (never whole in memory)."""
    file.seek(0)
    while chunk := await asyncio.to_thread(file.read, _UPLOAD_CHUNK):
        yield chunk
