"""The example terminal's wire format, pure: no web framework, no state, no HTTP client.

Every request carries four headers::

    X-Terminal-Id         the terminal's id under the channel's ``terminals``
    X-Terminal-Time       unix seconds
    X-Terminal-Nonce      unique per request (at most 128 characters)
    X-Terminal-Signature  hex(HMAC-SHA256(terminal_key,
                              METHOD \\n PATH \\n TIME \\n NONCE \\n hex(SHA256(body))))

and, once a person has signed in, ``X-Terminal-Session`` (the session the sign-in returned).
PATH is the raw path as sent (``/channels/{channel}/...``, with ``?query`` if any); the key is
the UTF-8 bytes of the terminal's secret.

An operation's body is a small envelope, ``{"args": {...}, "request_key": "..."}``;
``request_key`` (writes) is the idempotency key. Answers::

    {"ok": true, "result": <the canonical result>}
    {"ok": false, "error": {"code": "NOT_FOUND", "message": "<Chinese>", ...}, "request_id": "..."}

with an error's HTTP status the code's own (CONTRACTS.md section 3).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway import ErrorCode, FieldError, GatewayError, error_details, same

TERMINAL_ID = "x-terminal-id"
TIME = "x-terminal-time"
NONCE = "x-terminal-nonce"
SIGNATURE = "x-terminal-signature"
SESSION = "x-terminal-session"
IDEMPOTENCY_FIELD = "request_key"
_ENVELOPE_KEYS = frozenset({"args", IDEMPOTENCY_FIELD})


@dataclass(frozen=True)
class SignedHeaders:
    terminal_id: str
    time: str
    nonce: str
    signature: str

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> SignedHeaders:
        terminal_id = headers.get(TERMINAL_ID, "").strip()
        if not terminal_id:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "X-Terminal-Id is missing")
        return cls(terminal_id, headers.get(TIME, "").strip(), headers.get(NONCE, "").strip(),
                   headers.get(SIGNATURE, "").strip().lower())


def string_to_sign(method: str, path: str, time: str, nonce: str, body_sha256_hex: str) -> bytes:
    return f"{method.upper()}\n{path}\n{time}\n{nonce}\n{body_sha256_hex}".encode()


def signature(key: bytes, method: str, path: str, time: str, nonce: str, body_sha256_hex: str) -> str:
    """The X-Terminal-Signature value (what a terminal computes, and what the adapter recomputes)."""
    return hmac.new(key, string_to_sign(method, path, time, nonce, body_sha256_hex), hashlib.sha256).hexdigest()


def require_valid(key: bytes, headers: SignedHeaders, method: str, path: str, body_sha256_hex: str) -> None:
    """SIGNATURE_INVALID unless the signature matches (compared in constant time)."""
    expected = signature(key, method, path, headers.time, headers.nonce, body_sha256_hex)
    if not same(expected, headers.signature):
        raise GatewayError(ErrorCode.SIGNATURE_INVALID, "terminal signature does not match")


def open_envelope(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """(arguments, idempotency key) of an operation's envelope; anything else is VALIDATION_FAILED."""
    unknown = sorted(set(body) - _ENVELOPE_KEYS)
    if unknown:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "unknown envelope fields",
                           [FieldError(name, "不支持的字段。") for name in unknown])
    args = body.get("args", {})
    key = body.get(IDEMPOTENCY_FIELD)
    if not isinstance(args, dict):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "args must be an object", [FieldError("args", "须为对象。")])
    if key is not None and not isinstance(key, str):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "request_key must be a string",
                           [FieldError(IDEMPOTENCY_FIELD, "须为字符串。")])
    return args, key


def success(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def failure(error: GatewayError, request_id: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": error.code.value, "message": error.message, **error_details(error)},
            "request_id": request_id}
