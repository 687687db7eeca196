"""JSON bodies parsed safely, for the canonical API and every adapter.

JSON is parsed by orjson (which refuses integers beyond 64 bits, so a
10,000-digit number costs nothing) and then checked for depth. Pure: no web
framework here (an adapter's ``protocol.py`` may use it; reading a request's
body within its limit is gateway/http_io.py).
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.errors import ErrorCode, FieldError, GatewayError

MAX_JSON_DEPTH = 32


def parse_json_object(body: bytes, *, allow_empty: bool = True) -> dict[str, Any]:
    if not body.strip():
        if allow_empty:
            return {}
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "a JSON object is required", [FieldError("(body)", "empty")])
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "the body is not valid JSON",
                           [FieldError("(body)", "not valid UTF-8 JSON")]) from None
    if not isinstance(value, dict):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "the body must be a JSON object",
                           [FieldError("(body)", "expected an object")])
    check_depth(value)
    return value


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Iterative, so a hostile document cannot exhaust the stack while being measured."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise GatewayError(ErrorCode.VALIDATION_FAILED, f"JSON nested deeper than {limit}",
                               [FieldError("(body)", f"nested deeper than {limit} levels")])
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)


def json_bytes(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
