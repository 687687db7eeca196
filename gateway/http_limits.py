"""Request-head limits (OWASP API4): 64 KiB and 100 header lines, enforced by the HTTP library
and checked again on the parsed head.

The server is uvicorn on h11 (chosen by measurement, README "Speed"): h11 never
buffers more than ``h11_max_incomplete_event_size`` bytes of a head it has not
yet seen the end of, and uvicorn answers a head that outgrows it with 400 and
closes the connection, long before a 64 MiB header or 100,000 header lines are
in memory. That bound (:data:`SERVER_HEAD_BYTES`) sits a little above ours, so
a head just over our limits is still parsed whole, and :func:`head_too_large`
then refuses it with a 431 problem+json the caller can act on; so does a head
that arrived whole in one read, or one within the bytes but over the line
count (h11 does not count lines).
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADER_LINES = 100
#: what h11 may buffer of an unfinished head before uvicorn refuses it (400): our limit plus room
#: for one more line of any size we would answer 431 for, so those get the clearer answer
SERVER_HEAD_BYTES = MAX_HEAD_BYTES + 8 * 1024
#: uvicorn's HTTP protocol (its name in uvicorn.config.HTTP_PROTOCOLS) and the option that bounds its heads
HTTP_PROTOCOL = "h11"
HEAD_LIMIT_OPTIONS: dict[str, Any] = {"h11_max_incomplete_event_size": SERVER_HEAD_BYTES}


def server_options() -> dict[str, Any]:
    """The ``uvicorn.Config`` options every gateway server uses: uvicorn's own h11 protocol, head bounded."""
    return {"http": HTTP_PROTOCOL, **HEAD_LIMIT_OPTIONS}


REFUSAL_BODY = orjson.dumps({
    "type": "https://court-gateway.invalid/errors/request-headers-too-large",
    "title": "Request Header Fields Too Large", "status": 431, "code": "REQUEST_HEADERS_TOO_LARGE",
    "detail": f"request headers are limited to {MAX_HEAD_BYTES // 1024} KiB and {MAX_HEADER_LINES} lines",
})


def head_too_large(scope: Any) -> bool:
    """Our limits on a head the server parsed whole (about a microsecond for a usual head)."""
    headers = scope["headers"]
    if len(headers) > MAX_HEADER_LINES:
        return True
    return sum(len(name) + len(value) + 4 for name, value in headers) > MAX_HEAD_BYTES
