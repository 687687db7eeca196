"""Calling a court's system (CONTRACTS.md section 5), behind one seam.

Every court call, uploads included, goes through :mod:`gateway.court_http`
(one aiohttp session per court on the gateway's loop, chosen by measurement
inside the gateway: bench/ and README). Only :class:`CourtTransport` knows the wire; the rest of the
gateway sees :class:`CourtResponse`, :class:`UploadPart` and
:class:`GatewayError`. Each call carries a W3C ``traceparent`` (the caller's
trace passed on, or a new one); the request id travels as ``X-Request-Id``.

Court answers are mapped here, once: a 404 is NOT_FOUND; a problem+json with a
code courts may pass through keeps it; other 4xx are BACKEND_REJECTED with the
court's detail; 5xx, connection failures, redirects and malformed or oversized
answers are BACKEND_UNAVAILABLE; timeouts BACKEND_TIMEOUT.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any, Literal

import orjson

from gateway import tracing
from gateway.court_http import CourtHttp, CourtHttpError, HeaderRefused, Limits, TlsFiles, UploadPart
from gateway.errors import ErrorCode, GatewayError

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
    #: at most this many calls in flight to the court (and so at most this many sockets)
    pool_size: int = 100


#: Why a court call produced no usable answer. ``refused``: no connection (refused, unresolvable),
#: so the court never saw the request; ``broken``: the connection broke after the request went out,
#: so the court may have seen it; ``timeout``: no answer in time, the court may still be working on
#: it; ``oversized``: it answered something no litigation service answers; ``breaker_open``: the
#: gateway did not call at all because the court's circuit breaker is open.
FailureKind = Literal["refused", "broken", "timeout", "oversized", "breaker_open"]
_KINDS: dict[str, FailureKind] = {"refused": "refused", "broken": "broken", "timeout": "timeout",
                                  "oversized": "oversized"}


class CourtUnreachable(Exception):
    """No usable answer from the court (see :data:`FailureKind`): safe to queue a write."""

    def __init__(self, code: ErrorCode, detail: str, kind: FailureKind = "refused",
                 retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.kind = kind
        self.retry_after_s = retry_after_s


class CourtTransport:
    """One long-lived connection pool per court."""

    def __init__(self, base_url: str, settings: TransportSettings) -> None:
        self.base_url = base_url.rstrip("/")
        self._settings = settings
        self._http = CourtHttp(
            self.base_url, Limits(settings.timeout_s, settings.connect_timeout_s, settings.pool_size),
            TlsFiles(settings.ca_file, settings.client_cert_file, settings.client_key_file),
        )

    async def request(
        self, method: str, path: str, *, headers: dict[str, str], body: bytes | None = None,
        params: Mapping[str, str] | None = None, form: UploadPart | None = None,
        timeout_s: float | None = None,
    ) -> CourtResponse:
        """Raises CourtUnreachable (connection, timeout, oversized); any HTTP answer is returned as is.

        ``timeout_s`` shortens this one call (a retry must fit in what is left of the caller's
        deadline); the total timeout also bounds a court that trickles its answer byte by byte.
        """
        sent = {**headers, "traceparent": tracing.outgoing()}
        try:
            answer = await self._http.request(method, path, sent, body=body, params=params, upload=form,
                                              timeout_s=timeout_s)
        except CourtHttpError as exc:
            raise CourtUnreachable(exc.code, exc.detail, _KINDS.get(exc.kind, "broken")) from None
        except HeaderRefused:
            # Nothing went out; a value with a line break is never the court's fault.
            raise GatewayError(ErrorCode.VALIDATION_FAILED, "a header value with a line break was refused") from None
        return CourtResponse(answer.status, answer.headers.get("content-type", ""), answer.body, answer.headers)

    @property
    def timeout_s(self) -> float:
        return self._settings.timeout_s

    async def close(self) -> None:
        await self._http.close()


def upload_form(file: IO[bytes], filename: str, content_type: str) -> UploadPart:
    """The spooled upload as the court's multipart ``file`` part (streamed, never read whole)."""
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(0)
    return UploadPart(file, filename, content_type, size)


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
