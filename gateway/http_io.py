"""Reading requests safely, for the canonical API and every adapter.

Bodies are limited while they are read (a lying or missing Content-Length
changes nothing), then parsed as gateway/json_bodies.py says.
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import ErrorCode, GatewayError
from gateway.json_bodies import parse_json_object

if TYPE_CHECKING:
    from gateway.calls import Outcome

MAX_JSON_BYTES = 2**20
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def request_id_for(request: Request) -> str:
    """The caller's X-Request-Id when it is a sane token, else a fresh one; stored on the request.

    Fresh ids come from the process's Mersenne Twister (reseeded by Python in a forked child), not
    the kernel: a request id is unique, not secret (the caller may choose it), and a getrandom
    system call per request costs a few microseconds (see gateway/tracing.py).
    """
    existing = getattr(request.state, "request_id", None)
    if existing:
        return str(existing)
    offered = request.headers.get("x-request-id", "")
    request_id = offered if _REQUEST_ID.match(offered) else f"{random.getrandbits(96):024x}"
    request.state.request_id = request_id
    return request_id


async def read_body(request: Request, max_bytes: int = MAX_JSON_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise GatewayError(ErrorCode.PAYLOAD_TOO_LARGE, f"body larger than {max_bytes} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise GatewayError(ErrorCode.PAYLOAD_TOO_LARGE, f"body larger than {max_bytes} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def read_json_object(request: Request, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    return parse_json_object(await read_body(request, max_bytes))


def signed_target(request: Request) -> str:
    """PATH as signed channels sign it (CONTRACTS.md section 4): the raw path exactly as received,
    including ``/channels/...``, plus ``?`` and the raw query string if any."""
    scope = request.scope
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope.get("root_path", "") + scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def set_outcome_headers(response: Response, outcome: Outcome) -> Response:
    """Headers every answer carries: a replay is flagged; rate-limit state is reported (IETF RateLimit).

    Appended, not set: no one else writes these, and setting each would first search the others.
    """
    headers = response.headers
    if outcome.replayed:
        headers.append("Idempotent-Replayed", "true")
    if outcome.rate is not None:
        headers.append("RateLimit-Limit", str(outcome.rate.limit))
        headers.append("RateLimit-Remaining", str(outcome.rate.remaining))
        headers.append("RateLimit-Reset", str(max(0, int(outcome.rate.reset_s + 0.999))))
    return response
