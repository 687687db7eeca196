"""The 粤省事 wire protocol (CONTRACTS.md section 4.2), as pure functions over bytes and dicts.

Every request is signed in four headers::

    X-Dgi-Req-App        the app id the platform registered for the court
    X-Dgi-Req-Nonce      16 characters, never reused within 600 s
    X-Dgi-Req-Timestamp  Unix time in milliseconds, within ±300 s
    X-Dgi-Req-Signature  hex(HMAC(app_secret, METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n hex(DIGEST(body))))

HMAC and DIGEST are both SM3 (``hmac-sm3``, GB/T 32905-2016, the platform's
default) or both SHA-256 (``hmac-sha256``). PATH is the raw path as received,
``/channels/...`` included, plus ``?`` and the raw query string when there is
one; the body is the exact bytes sent. Answers are ``{"code": 0, "msg":
"success", "data": ...}`` or ``{"code": <table>, "msg": <Chinese>,
"requestId": ...}``; only a bad signature or a replay leaves as HTTP 401.

Nothing here does I/O: the adapter feeds headers and bytes in and sends out
what comes back, so every rule can be tested without a server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes

from gateway import (
    Algorithm,
    ErrorCode,
    FieldError,
    GatewayError,
    error_details,
    hmac_digest,
    is_valid_resident_id,
    json_result,
    normalise_id_number,
    normalise_mobile,
)

HEADER_APP = "x-dgi-req-app"
HEADER_NONCE = "x-dgi-req-nonce"
HEADER_TIMESTAMP = "x-dgi-req-timestamp"
HEADER_SIGNATURE = "x-dgi-req-signature"
HEADER_USER_TOKEN = "x-dgi-user-token"
NONCE_LENGTH = 16
IDEMPOTENCY_FIELD = "reqSeq"

SignAlgorithm = Literal["hmac-sm3", "hmac-sha256"]
_HASH_OF: dict[str, Algorithm] = {"hmac-sm3": "sm3", "hmac-sha256": "sha256"}

#: CONTRACTS.md section 3, column "yueshengshi code": every stable code, never reused.
ERROR_CODES: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_FAILED: 1001,
    ErrorCode.INVALID_CASE_NUMBER: 1002,
    ErrorCode.INVALID_ID_NUMBER: 1003,
    ErrorCode.PAYLOAD_TOO_LARGE: 1004,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 1005,
    ErrorCode.UNAUTHENTICATED: 2001,
    ErrorCode.SIGNATURE_INVALID: 2002,
    ErrorCode.REPLAYED_REQUEST: 2005,
    ErrorCode.SESSION_EXPIRED: 2006,
    ErrorCode.IDENTITY_REJECTED: 2007,
    ErrorCode.ASSURANCE_TOO_LOW: 2003,
    ErrorCode.SERVICE_NOT_ENABLED: 2008,
    ErrorCode.NOT_FOUND: 2004,
    ErrorCode.IDEMPOTENCY_IN_PROGRESS: 3003,
    ErrorCode.DEADLINE_PASSED: 3001,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 3002,
    ErrorCode.BACKEND_REJECTED: 3004,
    ErrorCode.RATE_LIMITED: 4001,
    ErrorCode.INTERNAL: 5000,
    ErrorCode.BACKEND_UNAVAILABLE: 5001,
    ErrorCode.SERVICE_UNAVAILABLE: 5003,
    ErrorCode.BACKEND_TIMEOUT: 5002,
}
CODE_NAMES: dict[int, ErrorCode] = {number: code for code, number in ERROR_CODES.items()}

#: CONTRACTS.md section 4: HTTP 401 for these two, HTTP 200 with the code in the body for everything else.
_HTTP_401 = frozenset({ErrorCode.SIGNATURE_INVALID, ErrorCode.REPLAYED_REQUEST})

# --- signing --------------------------------------------------------------------------------------


def hash_of(algorithm: SignAlgorithm) -> Algorithm:
    return _HASH_OF[algorithm]


class BodyDigest:
    """DIGEST(body) computed while the body streams past (uploads are never held whole in memory)."""

    def __init__(self, algorithm: SignAlgorithm) -> None:
        self._sha256 = hashlib.sha256() if hash_of(algorithm) == "sha256" else None
        self._sm3 = None if self._sha256 is not None else hashes.Hash(hashes.SM3())

    def update(self, chunk: bytes) -> None:
        if self._sha256 is not None:
            self._sha256.update(chunk)
        elif self._sm3 is not None:
            self._sm3.update(chunk)

    def hexdigest(self) -> str:
        if self._sha256 is not None:
            return self._sha256.hexdigest()
        assert self._sm3 is not None
        return self._sm3.finalize().hex()


def body_digest(algorithm: SignAlgorithm, body: bytes) -> str:
    digest = BodyDigest(algorithm)
    digest.update(body)
    return digest.hexdigest()


def request_path(raw_path: bytes, query_string: bytes = b"") -> bytes:
    """PATH as the contract defines it: the raw path as received, then ``?`` and the raw query if any."""
    return raw_path + b"?" + query_string if query_string else raw_path


def string_to_sign(method: str, path: bytes, timestamp: str, nonce: str, body_digest_hex: str) -> bytes:
    return b"\n".join((method.upper().encode("ascii"), path, timestamp.encode("utf-8"), nonce.encode("utf-8"),
                       body_digest_hex.encode("ascii")))


def signature(algorithm: SignAlgorithm, secret: bytes, method: str, path: bytes, timestamp: str, nonce: str,
              body_digest_hex: str) -> str:
    """Lower-case hex, as every ``hex()`` of the contract unless it says otherwise."""
    message = string_to_sign(method, path, timestamp, nonce, body_digest_hex)
    return hmac_digest(hash_of(algorithm), secret, message).hex()


def signing_headers(algorithm: SignAlgorithm, secret: bytes, app_id: str, method: str, path: bytes, body: bytes,
                    timestamp_ms: int, nonce: str) -> dict[str, str]:
    """The platform's side: the four headers of a request (for drivers, the demo client and tests)."""
    offered = signature(algorithm, secret, method, path, str(timestamp_ms), nonce, body_digest(algorithm, body))
    return {"X-Dgi-Req-App": app_id, "X-Dgi-Req-Nonce": nonce, "X-Dgi-Req-Timestamp": str(timestamp_ms),
            "X-Dgi-Req-Signature": offered}


@dataclass(frozen=True)
class SignedHeaders:
    app: str
    nonce: str
    timestamp: str
    signature: str


def signed_headers(headers: Mapping[str, str], app_id: str) -> SignedHeaders:
    """The four signing headers of a request from ``app_id``. First check: a missing or unknown app id
    is UNAUTHENTICATED; then anything else missing or misshapen is SIGNATURE_INVALID (the request
    cannot have been signed by the rules)."""
    app = headers.get(HEADER_APP, "").strip()
    if app != app_id:
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "missing or unknown app id")
    nonce = headers.get(HEADER_NONCE, "")
    timestamp = headers.get(HEADER_TIMESTAMP, "")
    offered = headers.get(HEADER_SIGNATURE, "")
    if not offered or not timestamp:
        raise GatewayError(ErrorCode.SIGNATURE_INVALID, "signature headers are missing")
    if len(nonce) != NONCE_LENGTH or not nonce.isascii() or not nonce.isprintable():
        raise GatewayError(ErrorCode.SIGNATURE_INVALID, "X-Dgi-Req-Nonce must be 16 printable characters")
    return SignedHeaders(app, nonce, timestamp, offered)


# --- envelopes ------------------------------------------------------------------------------------


def http_status(code: ErrorCode) -> int:
    return 401 if code in _HTTP_401 else 200


def success_body(result: Any) -> dict[str, Any]:
    return {"code": 0, "msg": "success", "data": json_result(result)}


def error_body(error: GatewayError, request_id: str) -> dict[str, Any]:
    """The table's code and the Chinese message that says what to do next; the developer detail, field
    errors and the error's safe extras (the court's own code, the assurance needed) ride along."""
    body: dict[str, Any] = {"code": ERROR_CODES[error.code], "msg": error.message, "requestId": request_id}
    for key, value in error_details(error, camel_case=True).items():
        body.setdefault(key, value)  # never overwrites the envelope's own keys
    return body


def canonical_code(code: int) -> ErrorCode | None:
    """The canonical code a channel code stands for (drivers and tests read answers back with it)."""
    return CODE_NAMES.get(code)


def split_arguments(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The operation's arguments and the ``reqSeq`` idempotency key, which is not an argument."""
    args = dict(body)
    key = args.pop(IDEMPOTENCY_FIELD, None)
    if key is not None and not isinstance(key, str):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "reqSeq must be a string",
                           [FieldError(IDEMPOTENCY_FIELD, "业务流水号（reqSeq）须为字符串。")])
    return args, key


def login_code(body: Mapping[str, Any]) -> str:
    code = body.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 512:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "an authorization code is required",
                           [FieldError("code", "缺少粤省事授权码（code）。")])
    return code.strip()


# --- the provincial identity platform (OpenID Connect style) ----------------------------------------


def token_request(code: str, client_id: str, client_secret: str) -> dict[str, str]:
    """The form of ``POST {idp_base}/oauth2/token`` (client_secret_post)."""
    return {"grant_type": "authorization_code", "code": code, "client_id": client_id,
            "client_secret": client_secret}


#: OAuth 2.0 errors (RFC 6749 section 5.2) that mean the citizen's code is no good, not that we are broken.
_CITIZEN_ERRORS = frozenset({"invalid_grant", "invalid_request", "access_denied"})


def id_token_of(status: int, answer: Any) -> str:
    """The id_token of a token-endpoint answer; a refused code is UNAUTHENTICATED, a platform that
    misbehaves (or refuses our client credentials) is SERVICE_UNAVAILABLE."""
    error = answer.get("error") if isinstance(answer, dict) else None
    if 400 <= status < 500 and isinstance(error, str):
        if error in _CITIZEN_ERRORS:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, f"identity platform refused the code: {error}")
        raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, f"identity platform refused the gateway: {error}")
    if status != 200 or not isinstance(answer, dict):
        raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, f"identity platform answered HTTP {status}")
    id_token = answer.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "identity platform answered without an id_token")
    return id_token


CLOCK_SKEW_S = 30


def check_id_token_claims(claims: Mapping[str, Any], *, issuer: str, audience: str, now: float) -> None:
    """iss, aud and exp (with a little clock skew); any failure is UNAUTHENTICATED."""
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if claims.get("iss") != issuer:
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "id_token from another issuer")
    if audience not in audiences:
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "id_token for another client")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "id_token without expiry")
    if exp + CLOCK_SKEW_S < now:
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "id_token expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, (int, float)) and nbf - CLOCK_SKEW_S > now:
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "id_token not yet valid")


@dataclass(frozen=True)
class Identity:
    """Who the identity platform vouched for."""

    account: str  # the platform's sub
    assurance: str  # L1 | L2 | L3
    phone: str | None
    name: str | None = None
    id_type: str = "ID_CARD"
    id_number: str | None = None


def identity_of(claims: Mapping[str, Any]) -> Identity:
    """The person in verified id_token claims. An ``acr`` other than L2/L3 is an account only (L1);
    L2/L3 must carry a name and a resident ID number that passes GB 11643."""
    account = claims.get("sub")
    if not isinstance(account, str) or not account:
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "id_token without sub")
    raw_phone = claims.get("phone_number")
    phone = normalise_mobile(raw_phone) if isinstance(raw_phone, str) else None
    acr = claims.get("acr")
    if acr not in ("L2", "L3"):
        return Identity(account, "L1", phone)
    name = claims.get("name")
    id_number = claims.get("id_number")
    if not isinstance(name, str) or not name.strip() or not isinstance(id_number, str):
        raise GatewayError(ErrorCode.IDENTITY_REJECTED, "real-name claims are incomplete")
    if not is_valid_resident_id(id_number):
        raise GatewayError(ErrorCode.IDENTITY_REJECTED, "the vouched ID number fails GB 11643")
    return Identity(account, str(acr), phone, name.strip(), "ID_CARD", normalise_id_number(id_number))


def login_answer(user_token: str, expires_in: int, assurance: str) -> dict[str, Any]:
    return success_body({"user_token": user_token, "expires_in": expires_in, "assurance": assurance})
