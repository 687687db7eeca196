"""Calling a court's system (CONTRACTS.md section 5), behind one seam.

JSON calls (every read on the hot path, every write) go through the lean
keep-alive client of :mod:`gateway.court_http`; multipart uploads through
aiohttp. Both were chosen by measurement: httpx's default transport costs
~930-1,500 µs CPU per proxied request, aiohttp ~150 µs, the lean client a
fraction of aiohttp's share (figures in bench/ and the README). Only
:class:`CourtTransport` knows the libraries; the rest of the gateway sees
:class:`CourtResponse` and :class:`GatewayError`.

Court answers are mapped here, once: a 404 is NOT_FOUND; a problem+json with a
code courts may pass through keeps it; other 4xx are BACKEND_REJECTED with the
court's detail; 5xx, connection failures, redirects and malformed or oversized
answers are BACKEND_UNAVAILABLE; timeouts BACKEND_TIMEOUT.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import IO, Any, Literal

import aiohttp
import orjson
from multidict import CIMultiDict

from gateway.court_http import LeanHttpError, LeanHttpPool
from gateway.errors import ErrorCode, GatewayError

#: An answer bigger than this is not a litigation-service answer; refuse it cleanly.
MAX_ANSWER_BYTES = 8 * 2**20
PASSED_THROUGH_CODES = frozenset(
    {"VALIDATION_FAILED", "INVALID_CASE_NUMBER", "INVALID_ID_NUMBER", "NOT_FOUND", "DEADLINE_PASSED"}
)


@dataclass(frozen=True)
class CourtResponse:
    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str]  # case-insensitive (servers differ in how they spell header names)

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass(frozen=True)
class TransportSettings:
    timeout_s: float = 5.0
    connect_timeout_s: float = 2.0
    ca_file: str | None = None
    client_cert_file: str | None = None
    client_key_file: str | None = None
    pool_size: int = 100


#: Why a court call produced no usable answer. ``refused``: no connection (refused, unresolvable),
#: so the court never saw the request; ``broken``: the connection broke after the request went out,
#: so the court may have seen it; ``timeout``: no answer in time, the court may still be working on
#: it; ``oversized``: it answered something no litigation service answers; ``breaker_open``: the
#: gateway did not call at all because the court's circuit breaker is open.
FailureKind = Literal["refused", "broken", "timeout", "oversized", "breaker_open"]


class CourtUnreachable(Exception):
    """No usable answer from the court (see :data:`FailureKind`): safe to queue a write."""

    def __init__(self, code: ErrorCode, detail: str, kind: FailureKind = "refused",
                 retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.kind = kind
        self.retry_after_s = retry_after_s


def _ssl_context(settings: TransportSettings) -> ssl.SSLContext | None:
    if not (settings.ca_file or settings.client_cert_file):
        return None
    context = ssl.create_default_context(cafile=settings.ca_file)
    if settings.client_cert_file:
        context.load_cert_chain(settings.client_cert_file, settings.client_key_file)
    return context


class CourtTransport:
    """One long-lived connection pool per court."""

    def __init__(self, base_url: str, settings: TransportSettings) -> None:
        self.base_url = base_url.rstrip("/")
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._lean = LeanHttpPool(self.base_url, timeout_s=settings.timeout_s,
                                  connect_timeout_s=settings.connect_timeout_s, ssl_context=_ssl_context(settings),
                                  pool_size=settings.pool_size)
        self._default_timeout = aiohttp.ClientTimeout(total=settings.timeout_s,
                                                      sock_connect=settings.connect_timeout_s)

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._settings.pool_size, keepalive_timeout=30, ssl=_ssl_context(self._settings) or True,
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._default_timeout, auto_decompress=True,
                skip_auto_headers=("User-Agent",),
                json_serialize=lambda o: orjson.dumps(o).decode(),
            )
        return self._session

    async def request(
        self, method: str, path: str, *, headers: dict[str, str], body: bytes | None = None,
        params: Mapping[str, str] | None = None, form: aiohttp.FormData | None = None,
        timeout_s: float | None = None,
    ) -> CourtResponse:
        """Raises CourtUnreachable (connection, timeout, oversized); any HTTP answer is returned as is.

        ``timeout_s`` shortens this one call (a retry must fit in what is left of the caller's
        deadline); the total timeout also bounds a court that trickles its answer byte by byte.
        """
        if form is None:
            return await self._lean_request(method, path, headers, body, params, timeout_s)
        session = self._open()
        data: Any = form if form is not None else body
        try:
            async with session.request(
                method, self.base_url + path, headers=headers, data=data, params=params, allow_redirects=False,
                timeout=self._timeout(timeout_s),
            ) as answer:
                payload = await _read_bounded(answer.content.iter_chunked(65536))
                return CourtResponse(answer.status, answer.headers.get("Content-Type", ""), payload,
                                     CIMultiDict(answer.headers))
        except TimeoutError:
            raise CourtUnreachable(ErrorCode.BACKEND_TIMEOUT, "court did not answer in time", "timeout") from None
        except _AnswerTooLarge:
            raise CourtUnreachable(ErrorCode.BACKEND_UNAVAILABLE, "court answer too large", "oversized") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise CourtUnreachable(ErrorCode.BACKEND_UNAVAILABLE, f"court unreachable: {type(exc).__name__}",
                                   _kind_of(exc)) from None

    async def _lean_request(self, method: str, path: str, headers: dict[str, str], body: bytes | None,
                            params: Mapping[str, str] | None, timeout_s: float | None) -> CourtResponse:
        try:
            answer = await self._lean.request(method, path, headers, body, params, timeout_s)
        except LeanHttpError as exc:
            raise CourtUnreachable(exc.code, exc.detail, _lean_kind(exc)) from None
        return CourtResponse(answer.status, answer.headers.get("content-type", ""), answer.body,
                             CIMultiDict(answer.headers))

    def _timeout(self, timeout_s: float | None) -> aiohttp.ClientTimeout:
        if timeout_s is None or timeout_s >= self._settings.timeout_s:
            return self._default_timeout
        return aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(self._settings.connect_timeout_s, timeout_s))

    @property
    def timeout_s(self) -> float:
        return self._settings.timeout_s

    async def close(self) -> None:
        await self._lean.close()
        if self._session is not None:
            await self._session.close()


class _AnswerTooLarge(Exception):
    pass


def _lean_kind(exc: LeanHttpError) -> FailureKind:
    kinds: dict[str, FailureKind] = {"refused": "refused", "broken": "broken", "timeout": "timeout",
                                     "oversized": "oversized"}
    return kinds.get(exc.kind, "broken")


def _kind_of(exc: BaseException) -> FailureKind:
    # Only a failure to connect proves the court never saw the request; a connection that broke
    # later (reset, closed while reading, a keep-alive connection the court had dropped) is a "maybe".
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return "refused"
    return "broken"


async def _read_bounded(chunks: AsyncIterator[bytes]) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise _AnswerTooLarge()
        parts.append(chunk)
    return b"".join(parts)


def upload_form(file: IO[bytes], filename: str, content_type: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", file, filename=filename, content_type=content_type)
    return form


def map_court_error(response: CourtResponse) -> GatewayError:
    """Translate a non-2xx court answer into the gateway's codes (section 3, "Court answers")."""
    status = response.status
    problem = _problem(response)
    detail = str(problem.get("detail") or problem.get("title") or f"court answered {status}")[:500]
    if status == 404:
        return GatewayError(ErrorCode.NOT_FOUND, "not found")
    if 400 <= status < 500:
        code = str(problem.get("code", ""))
        if code in PASSED_THROUGH_CODES:
            errors = problem.get("errors")
            gateway_error = GatewayError(ErrorCode(code), detail)
            if isinstance(errors, list):
                from gateway.errors import FieldError

                gateway_error.errors = [
                    FieldError(str(e.get("field", "")), str(e.get("message", "")))
                    for e in errors[:50] if isinstance(e, dict)
                ]
            return gateway_error
        return GatewayError(ErrorCode.BACKEND_REJECTED, detail, extra={"court_code": code} if code else {})
    return GatewayError(ErrorCode.BACKEND_UNAVAILABLE, f"court answered {status}", retry_after=_retry_after(response))


def _retry_after(response: CourtResponse) -> int | None:
    """A court's own Retry-After (seconds form), passed on to the caller when it is plausible."""
    value = response.headers.get("Retry-After", "").strip()
    return min(int(value), 3600) if value.isdigit() else None


def _problem(response: CourtResponse) -> dict[str, Any]:
    if "json" not in response.content_type:
        return {}
    try:
        body = response.json()
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def is_success(response: CourtResponse) -> bool:
    return 200 <= response.status < 300


def decode_json_answer(response: CourtResponse) -> Any:
    try:
        return response.json()
    except orjson.JSONDecodeError:
        raise GatewayError(ErrorCode.BACKEND_UNAVAILABLE, "court answered malformed JSON") from None


def court_failed(response: CourtResponse) -> bool:
    """An answer that says nothing about the request itself: a 5xx, a redirect, 408 or 429.

    The court did not take the request, or cannot say whether it did; a write is queued and
    delivered again later with the same Idempotency-Key, and the breaker counts it as a failure.
    """
    status = response.status
    return status >= 500 or 300 <= status < 400 or status in (408, 429)
