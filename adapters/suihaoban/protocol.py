"""The 穗好办 wire protocol (CONTRACTS.md section 4.3), as pure functions over strings and dicts.

One endpoint takes a signed envelope::

    {"appId", "method": "<operation id>", "timestamp": "<unix seconds>", "nonceStr",
     "bizContent": "<JSON string of the arguments>", "userTicket"?, "signType": "HMAC-SHA256"|"HMAC-SM3",
     "sign"}

``sign`` is the upper-case hex of HMAC(app_secret, S), where S is every other
non-empty field as ``key=value``, sorted by key and joined with ``&`` (values
as they are, not URL-encoded). Answers are always HTTP 200:
``{"resultCode": "0000", "resultMsg": "成功", "data": ...}`` or
``{"resultCode": <table, a string>, "resultMsg": <Chinese>, "requestId": ...}``.

Uploads (``method: uploads.create``) send the same fields as
multipart/form-data with one ``file`` part; bizContent carries ``court`` and
``fileSha256`` (lower-case hex SHA-256 of the file), which binds the file to
the signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gateway import (
    Algorithm,
    ErrorCode,
    FieldError,
    GatewayError,
    check_depth,
    error_details,
    hmac_digest,
    is_valid_resident_id,
    json_result,
    normalise_id_number,
    normalise_mobile,
)

SIGN_TYPES: dict[str, Algorithm] = {"HMAC-SHA256": "sha256", "HMAC-SM3": "sm3"}
ENVELOPE_FIELDS = ("appId", "method", "timestamp", "nonceStr", "bizContent", "userTicket", "signType", "sign")
IDEMPOTENCY_FIELD = "outBizNo"
FILE_DIGEST_FIELD = "fileSha256"
SUCCESS_CODE = "0000"
SUCCESS_MESSAGE = "成功"
MAX_FIELD_CHARS = 1024  # every field but bizContent (bounded by the body limit) is short

#: CONTRACTS.md section 3, column "suihaoban resultCode": every stable code, as strings.
ERROR_CODES: dict[ErrorCode, str] = {
    ErrorCode.VALIDATION_FAILED: "4001",
    ErrorCode.INVALID_CASE_NUMBER: "4002",
    ErrorCode.INVALID_ID_NUMBER: "4003",
    ErrorCode.PAYLOAD_TOO_LARGE: "4130",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "4150",
    ErrorCode.UNAUTHENTICATED: "4010",
    ErrorCode.SIGNATURE_INVALID: "4011",
    ErrorCode.REPLAYED_REQUEST: "4012",
    ErrorCode.SESSION_EXPIRED: "4013",
    ErrorCode.IDENTITY_REJECTED: "4014",
    ErrorCode.ASSURANCE_TOO_LOW: "4030",
    ErrorCode.SERVICE_NOT_ENABLED: "4031",
    ErrorCode.NOT_FOUND: "4040",
    ErrorCode.IDEMPOTENCY_IN_PROGRESS: "4090",
    ErrorCode.DEADLINE_PASSED: "4220",
    ErrorCode.IDEMPOTENCY_KEY_REUSED: "4221",
    ErrorCode.BACKEND_REJECTED: "4222",
    ErrorCode.RATE_LIMITED: "4290",
    ErrorCode.INTERNAL: "5000",
    ErrorCode.BACKEND_UNAVAILABLE: "5030",
    ErrorCode.SERVICE_UNAVAILABLE: "5031",
    ErrorCode.BACKEND_TIMEOUT: "5040",
}
CODE_NAMES: dict[str, ErrorCode] = {number: code for code, number in ERROR_CODES.items()}

# --- signing --------------------------------------------------------------------------------------


def string_to_sign(fields: Mapping[str, str]) -> bytes:
    """S: every non-empty field but ``sign`` as key=value, sorted by key, joined with &."""
    pairs = sorted((k, v) for k, v in fields.items() if k != "sign" and v != "")
    return "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8")


def sign(sign_type: str, secret: bytes, fields: Mapping[str, str]) -> str:
    algorithm = SIGN_TYPES.get(sign_type)
    if algorithm is None:
        raise GatewayError(ErrorCode.SIGNATURE_INVALID, "signType must be HMAC-SHA256 or HMAC-SM3")
    return hmac_digest(algorithm, secret, string_to_sign(fields)).hex().upper()


def signed_fields(fields: Mapping[str, str], sign_type: str, secret: bytes) -> dict[str, str]:
    """The platform's side: the fields with signType and sign added (drivers, tests, tools)."""
    signed = {k: v for k, v in fields.items() if k != "sign"}
    signed["signType"] = sign_type
    signed["sign"] = sign(sign_type, secret, signed)
    return signed


@dataclass(frozen=True)
class Envelope:
    fields: dict[str, str]  # every string field received, as signed

    @property
    def app_id(self) -> str:
        return self.fields.get("appId", "")

    @property
    def method(self) -> str:
        return self.fields.get("method", "")

    @property
    def timestamp(self) -> str:
        return self.fields.get("timestamp", "")

    @property
    def nonce(self) -> str:
        return self.fields.get("nonceStr", "")

    @property
    def sign_type(self) -> str:
        return self.fields.get("signType", "")

    @property
    def sign(self) -> str:
        return self.fields.get("sign", "")

    @property
    def user_ticket(self) -> str | None:
        return self.fields.get("userTicket") or None

    @property
    def biz_content(self) -> str:
        return self.fields.get("bizContent", "")


def envelope_of(raw: Mapping[str, Any]) -> Envelope:
    """The envelope's fields, all strings (null counts as absent). Anything else is refused, since a
    number or an object has no single text to sign."""
    fields: dict[str, str] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise GatewayError(ErrorCode.VALIDATION_FAILED, "envelope fields are strings",
                               [FieldError(key, "字段须为字符串（bizContent 为 JSON 字符串）。")])
        if key != "bizContent" and len(value) > MAX_FIELD_CHARS:
            raise GatewayError(ErrorCode.VALIDATION_FAILED, "envelope field too long",
                               [FieldError(key, "字段过长。")])
        fields[key] = value
    return Envelope(fields)


def known_app(envelope: Envelope, app_id: str) -> None:
    if envelope.app_id != app_id:
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "unknown appId")


def signature_fields_present(envelope: Envelope) -> None:
    if not envelope.sign or not envelope.sign_type or not envelope.timestamp or not envelope.nonce:
        raise GatewayError(ErrorCode.SIGNATURE_INVALID, "sign, signType, timestamp and nonceStr are required")


# --- arguments ------------------------------------------------------------------------------------


def arguments_of(envelope: Envelope) -> tuple[dict[str, Any], str | None]:
    """bizContent parsed, and the ``outBizNo`` idempotency key taken out of it."""
    text = envelope.biz_content
    if not text.strip():
        return {}, None
    try:
        args = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "bizContent is not JSON",
                           [FieldError("bizContent", "bizContent 须为 JSON 对象字符串。")]) from None
    if not isinstance(args, dict):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "bizContent must be a JSON object",
                           [FieldError("bizContent", "bizContent 须为 JSON 对象字符串。")])
    check_depth(args)
    key = args.pop(IDEMPOTENCY_FIELD, None)
    if key is not None and not isinstance(key, str):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "outBizNo must be a string",
                           [FieldError(IDEMPOTENCY_FIELD, "业务单号（outBizNo）须为字符串。")])
    return args, key


def file_digest_of(args: dict[str, Any]) -> str:
    """Take ``fileSha256`` out of an upload's arguments."""
    value = args.pop(FILE_DIGEST_FIELD, None)
    if not isinstance(value, str) or len(value) != 64:
        raise GatewayError(ErrorCode.SIGNATURE_INVALID, "fileSha256 (hex SHA-256 of the file) is required")
    return value.lower()


# --- envelopes ------------------------------------------------------------------------------------


def success_body(result: Any) -> dict[str, Any]:
    return {"resultCode": SUCCESS_CODE, "resultMsg": SUCCESS_MESSAGE, "data": json_result(result)}


def error_body(error: GatewayError, request_id: str) -> dict[str, Any]:
    """The table's code and the Chinese message that says what to do next; the developer detail, field
    errors and the error's safe extras (the court's own code, the assurance needed) ride along."""
    body: dict[str, Any] = {"resultCode": ERROR_CODES[error.code], "resultMsg": error.message, "requestId": request_id}
    for key, value in error_details(error, camel_case=True).items():
        body.setdefault(key, value)  # never overwrites the envelope's own keys
    return body


def canonical_code(code: str) -> ErrorCode | None:
    """The canonical code a channel code stands for (drivers and tests read answers back with it)."""
    return CODE_NAMES.get(code)


# --- the city user center -------------------------------------------------------------------------

_LEVELS = {1: "L1", 2: "L2", 3: "L3"}


@dataclass(frozen=True)
class TicketHolder:
    """Whom a verified userTicket names, and for how long the user center vouches for it."""

    account: str  # etOpenid
    assurance: str
    expires_in: int
    phone: str | None
    name: str | None = None
    id_number: str | None = None


def ticket_holder(answer: Any) -> TicketHolder:
    """The user center's verdict: "0000" with the holder, any other resultCode a refused ticket
    (UNAUTHENTICATED); an answer of another shape means the user center is in trouble."""
    if not isinstance(answer, dict) or not isinstance(answer.get("resultCode"), str):
        raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "user center answer malformed")
    if answer["resultCode"] != SUCCESS_CODE:
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "userTicket refused by the user center")
    data = answer.get("data")
    if not isinstance(data, dict):
        raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "user center answer without data")
    account, expires_in = data.get("etOpenid"), data.get("expiresIn")
    raw_level = data.get("realNameLevel")
    level = _LEVELS.get(raw_level) if type(raw_level) is int else None
    if not isinstance(account, str) or not account or level is None or type(expires_in) is not int:
        raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "user center answer incomplete")
    if expires_in <= 0:
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "userTicket expired")
    mobile = data.get("mobile")
    phone = normalise_mobile(mobile) if isinstance(mobile, str) else None
    if level == "L1":
        return TicketHolder(account, level, expires_in, phone)
    name, id_number = data.get("name"), data.get("idNo")
    if not isinstance(name, str) or not name.strip() or not isinstance(id_number, str):
        raise GatewayError(ErrorCode.IDENTITY_REJECTED, "real-name data incomplete")
    if not is_valid_resident_id(id_number):
        raise GatewayError(ErrorCode.IDENTITY_REJECTED, "the vouched ID number fails GB 11643")
    return TicketHolder(account, level, expires_in, phone, name.strip(), normalise_id_number(id_number))
