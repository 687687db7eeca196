"""The 广州微法院 mini program's wire protocol (CONTRACTS.md section 4.1), as pure functions.

Nothing here does I/O: envelopes, the errcode table, reading WeChat's and the
real-name provider's answers, and the subscribe-message body. The glue in
``adapter.py``, ``upstream.py`` and ``messaging.py`` calls these.

    {"errcode": 0, "errmsg": "ok", "data": <canonical result>}               success, HTTP 200
    {"errcode": 40004, "errmsg": "<Chinese>", "request_id": "..."}           error, HTTP 200 too
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

import orjson

from gateway import (
    ErrorCode,
    FieldError,
    GatewayError,
    application_kind_label,
    citizen_events,
    error_details,
    hearing_mode_label,
    json_result,
    operation_label,
    status_label,
)

#: CONTRACTS.md section 3, the wechat column. Codes never change meaning.
ERRCODES: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_FAILED: 41001,
    ErrorCode.INVALID_CASE_NUMBER: 41002,
    ErrorCode.INVALID_ID_NUMBER: 41003,
    ErrorCode.PAYLOAD_TOO_LARGE: 41301,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 41501,
    ErrorCode.UNAUTHENTICATED: 40001,
    ErrorCode.SIGNATURE_INVALID: 40002,
    ErrorCode.REPLAYED_REQUEST: 40005,
    ErrorCode.SESSION_EXPIRED: 40006,
    ErrorCode.IDENTITY_REJECTED: 40007,
    ErrorCode.ASSURANCE_TOO_LOW: 40003,
    ErrorCode.SERVICE_NOT_ENABLED: 40008,
    ErrorCode.NOT_FOUND: 40004,
    ErrorCode.IDEMPOTENCY_IN_PROGRESS: 40901,
    ErrorCode.DEADLINE_PASSED: 42201,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 42202,
    ErrorCode.BACKEND_REJECTED: 42203,
    ErrorCode.RATE_LIMITED: 42901,
    ErrorCode.INTERNAL: 50001,
    ErrorCode.BACKEND_UNAVAILABLE: 50301,
    ErrorCode.SERVICE_UNAVAILABLE: 50302,
    ErrorCode.BACKEND_TIMEOUT: 50401,
}
CODE_OF_ERRCODE: dict[int, ErrorCode] = {number: code for code, number in ERRCODES.items()}

#: The channel answers every error with HTTP 200; the errcode says what happened.
HTTP_STATUS = 200
IDEMPOTENCY_FIELD = "client_request_id"
_RESERVED_ERROR_KEYS = frozenset({"errcode", "errmsg", "request_id", "data"})
_MAX_CODE_LENGTH = 128
_CODE = re.compile(r"^[\x21-\x7e]+$")  # wx.login codes and verify tokens: printable ASCII, no spaces


# --- envelopes --------------------------------------------------------------------------------------


def success_body(data: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", "data": json_result(data)}


def error_body(error: GatewayError, request_id: str) -> dict[str, Any]:
    """An error in the channel's envelope: the table's errcode and a Chinese message saying what to do."""
    body: dict[str, Any] = {
        "errcode": ERRCODES[error.code],
        "errmsg": errmsg_for(error),
        "request_id": request_id,
    }
    # Extras are safe to show by construction (required_assurance, the court's code, a refusal reason)
    # but may never overwrite the envelope's own keys.
    body.update({k: v for k, v in error_details(error).items() if k not in _RESERVED_ERROR_KEYS})
    return body


def errmsg_for(error: GatewayError) -> str:
    reason = error.extra.get("reason")
    if isinstance(reason, str) and reason in REASON_MESSAGES:
        return REASON_MESSAGES[reason]
    return error.message


def canonical_code(errcode: int) -> ErrorCode | None:
    """The canonical code an errcode stands for (drivers and tests read answers back with it)."""
    return CODE_OF_ERRCODE.get(errcode)


# --- refusals by WeChat and the real-name provider --------------------------------------------------


class Reason(str, Enum):
    """Why a sign-in step failed, in the answer's ``reason`` field and chosen ``errmsg``."""

    WECHAT_CODE_INVALID = "wechat_code_invalid"
    WECHAT_USER_HIGH_RISK = "wechat_user_high_risk"
    WECHAT_RATE_LIMITED = "wechat_rate_limited"
    WECHAT_BUSY = "wechat_busy"
    WECHAT_REFUSED = "wechat_refused"
    WECHAT_UNREACHABLE = "wechat_unreachable"
    WECHAT_TIMEOUT = "wechat_timeout"
    WECHAT_BAD_ANSWER = "wechat_bad_answer"
    REALNAME_FAILED = "realname_failed"
    REALNAME_UNREACHABLE = "realname_unreachable"
    REALNAME_TIMEOUT = "realname_timeout"
    REALNAME_BAD_ANSWER = "realname_bad_answer"
    REALNAME_NOT_BOUND = "realname_not_bound"


REASON_MESSAGES: dict[str, str] = {
    Reason.WECHAT_CODE_INVALID: "微信登录凭证无效或已过期，请关闭小程序后重新进入。",
    Reason.WECHAT_USER_HIGH_RISK: "微信提示您的账号存在安全风险，暂时无法登录，请稍后再试或通过其他渠道办理。",
    Reason.WECHAT_RATE_LIMITED: "微信登录请求过于频繁，请稍后再试。",
    Reason.WECHAT_BUSY: "微信系统繁忙，请稍后再试。",
    Reason.WECHAT_REFUSED: "微信登录服务暂时不可用，请稍后再试。",
    Reason.WECHAT_UNREACHABLE: "暂时无法连接微信登录服务，请稍后再试。",
    Reason.WECHAT_TIMEOUT: "微信登录服务响应超时，请稍后再试。",
    Reason.WECHAT_BAD_ANSWER: "微信登录服务返回异常，请稍后再试。",
    Reason.REALNAME_FAILED: "实名核验未通过，请确认本人操作并重新进行人脸识别。",
    Reason.REALNAME_UNREACHABLE: "暂时无法连接实名认证服务，请稍后再试。",
    Reason.REALNAME_TIMEOUT: "实名认证服务响应超时，请稍后再试。",
    Reason.REALNAME_BAD_ANSWER: "实名认证服务返回异常，请稍后再试。",
    Reason.REALNAME_NOT_BOUND: "当前登录未关联微信账号，请重新登录后再进行实名认证。",
}


def refusal(code: ErrorCode, reason: Reason, detail: str) -> GatewayError:
    return GatewayError(code, detail, extra={"reason": reason.value})


#: jscode2session errcodes (developers.weixin.qq.com, 小程序登录 auth.code2Session)
LOGIN_REFUSALS: dict[int, tuple[ErrorCode, Reason]] = {
    40029: (ErrorCode.UNAUTHENTICATED, Reason.WECHAT_CODE_INVALID),  # invalid js_code
    40163: (ErrorCode.UNAUTHENTICATED, Reason.WECHAT_CODE_INVALID),  # code already used
    40226: (ErrorCode.UNAUTHENTICATED, Reason.WECHAT_USER_HIGH_RISK),  # high-risk user, login blocked
    45011: (ErrorCode.SERVICE_UNAVAILABLE, Reason.WECHAT_RATE_LIMITED),  # API minute-quota reached
    -1: (ErrorCode.SERVICE_UNAVAILABLE, Reason.WECHAT_BUSY),  # system busy
}


@dataclass(frozen=True)
class WeChatAccount:
    """Who jscode2session says this is. ``session_key`` is deliberately not kept: the gateway
    decrypts nothing from the mini program, and a key not held cannot leak."""

    openid: str
    unionid: str | None = None


def login_code(body: Mapping[str, Any]) -> str:
    return _token_field(body, "code", "请重新调用 wx.login 获取登录凭证。")


def verify_token(body: Mapping[str, Any]) -> str:
    return _token_field(body, "verify_token", "请先完成人脸核验。")


def _token_field(body: Mapping[str, Any], name: str, hint: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > _MAX_CODE_LENGTH or not _CODE.match(value):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, f"`{name}` must be a non-empty token",
                           [FieldError(name, hint)])
    return value


def jscode2session_params(app_id: str, secret: str, code: str) -> dict[str, str]:
    return {"appid": app_id, "secret": secret, "js_code": code, "grant_type": "authorization_code"}


def parse_code2session(status: int, body: bytes) -> WeChatAccount:
    """jscode2session's answer: ``{"openid", "session_key", "unionid"?}`` or ``{"errcode", "errmsg"}``."""
    if status != 200:
        raise refusal(ErrorCode.SERVICE_UNAVAILABLE, Reason.WECHAT_UNREACHABLE,
                      f"WeChat jscode2session answered HTTP {status}")
    answer = _json_object(body, Reason.WECHAT_BAD_ANSWER, "WeChat jscode2session")
    errcode = _int(answer.get("errcode", 0))
    if errcode is None:
        raise refusal(ErrorCode.SERVICE_UNAVAILABLE, Reason.WECHAT_BAD_ANSWER,
                      "WeChat jscode2session answered an errcode that is not a number")
    if errcode != 0:
        code, reason = LOGIN_REFUSALS.get(errcode, (ErrorCode.SERVICE_UNAVAILABLE, Reason.WECHAT_REFUSED))
        raise refusal(code, reason, f"WeChat jscode2session refused: errcode {errcode}")
    openid = answer.get("openid")
    if not isinstance(openid, str) or not openid or len(openid) > 128:
        raise refusal(ErrorCode.SERVICE_UNAVAILABLE, Reason.WECHAT_BAD_ANSWER,
                      "WeChat jscode2session answered without an openid")
    unionid = answer.get("unionid")
    return WeChatAccount(openid, unionid if isinstance(unionid, str) and unionid else None)


@dataclass(frozen=True)
class RealnameResult:
    name: str
    id_number: str
    similarity: float | None


def realname_request(token: str) -> dict[str, str]:
    return {"token": token}


#: HTTP answers that mean "this verify token is not (or no longer) valid", the citizen's part.
_REALNAME_TOKEN_REFUSED = frozenset({400, 404, 410})


def parse_realname(status: int, body: bytes) -> RealnameResult:
    """``{"result": "0", "name", "id_number", "similarity"}``; result "0" passes, anything else is a refusal."""
    if status in _REALNAME_TOKEN_REFUSED:
        raise refusal(ErrorCode.IDENTITY_REJECTED, Reason.REALNAME_FAILED,
                      f"the real-name provider refused the verify token (HTTP {status})")
    if status != 200:
        raise refusal(ErrorCode.SERVICE_UNAVAILABLE, Reason.REALNAME_UNREACHABLE,
                      f"the real-name provider answered HTTP {status}")
    answer = _json_object(body, Reason.REALNAME_BAD_ANSWER, "the real-name provider")
    if str(answer.get("result")) != "0":
        raise refusal(ErrorCode.IDENTITY_REJECTED, Reason.REALNAME_FAILED,
                      f"the real-name check did not pass (result {str(answer.get('result'))[:8]})")
    name, number = answer.get("name"), answer.get("id_number")
    if not isinstance(name, str) or not name.strip() or not isinstance(number, str) or not number.strip():
        raise refusal(ErrorCode.SERVICE_UNAVAILABLE, Reason.REALNAME_BAD_ANSWER,
                      "the real-name provider passed the check but sent no name or ID number")
    return RealnameResult(name.strip(), number.strip().upper(), _similarity(answer.get("similarity")))


def _similarity(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def assurance_for(similarity: float | None, face_threshold: float) -> str:
    """A passed real-name check is L2; a face match at or above the threshold makes this session L3."""
    return "L3" if similarity is not None and similarity >= face_threshold else "L2"


# --- arguments --------------------------------------------------------------------------------------


def pop_client_request_id(args: dict[str, Any]) -> str | None:
    """The idempotency key travels in the body; it is removed before the arguments are forwarded."""
    if IDEMPOTENCY_FIELD not in args:
        return None
    value = args.pop(IDEMPOTENCY_FIELD)
    if value is None:
        return None
    if not isinstance(value, str):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "client_request_id must be a string",
                           [FieldError(IDEMPOTENCY_FIELD, "请使用字符串作为提交编号。")])
    return value


# --- access token and subscribe messages ------------------------------------------------------------

#: errcodes by which WeChat says an access_token is invalid, expired or not the latest one
TOKEN_INVALID_ERRCODES = frozenset({40001, 40014, 42001})
#: the user has not accepted (or has used up) this template's subscription
USER_REFUSED_ERRCODE = 43101
#: the openid is not a user of this app: the channel cannot reach this person
UNREACHABLE_ERRCODES = frozenset({USER_REFUSED_ERRCODE, 40003})


def token_params(app_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credential", "appid": app_id, "secret": secret}


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


class WeChatApiError(Exception):
    """WeChat could not be used (unreachable, refused, or an answer that makes no sense)."""

    def __init__(self, detail: str, errcode: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errcode = errcode


def parse_access_token(status: int, body: bytes) -> AccessToken:
    """``{"access_token", "expires_in"}`` or ``{"errcode", "errmsg"}``."""
    if status != 200:
        raise WeChatApiError(f"cgi-bin/token answered HTTP {status}")
    answer = _plain_json(body, "cgi-bin/token")
    errcode = _int(answer.get("errcode", 0))
    token = answer.get("access_token")
    if errcode != 0 or not isinstance(token, str) or not token:
        raise WeChatApiError(f"cgi-bin/token refused: errcode {errcode}", errcode)
    expires_in = _int(answer.get("expires_in", 7200)) or 0
    return AccessToken(token, expires_in if expires_in > 0 else 7200)


class SendOutcome(str, Enum):
    SENT = "sent"
    UNREACHABLE = "unreachable"  # the person refused the subscription, or is no user of this app
    TOKEN_INVALID = "token_invalid"


def parse_send_answer(status: int, body: bytes) -> SendOutcome:
    if status != 200:
        raise WeChatApiError(f"subscribe/send answered HTTP {status}")
    errcode = _int(_plain_json(body, "subscribe/send").get("errcode", 0))
    if errcode == 0:
        return SendOutcome.SENT
    if errcode in TOKEN_INVALID_ERRCODES:
        return SendOutcome.TOKEN_INVALID
    if errcode in UNREACHABLE_ERRCODES:
        return SendOutcome.UNREACHABLE
    raise WeChatApiError(f"subscribe/send refused: errcode {errcode}", errcode)


def subscribe_body(
    openid: str, template_id: str, page: str | None, data: Mapping[str, Mapping[str, str]], state: str,
) -> dict[str, Any]:
    body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": dict(data),
                            "miniprogram_state": state, "lang": "zh_CN"}
    if page:
        body["page"] = page
    return body


# --- what each event says in a subscribe message ----------------------------------------------------
#
# A template's keys (thing1, time2 ...) are chosen when the court picks the template in the mini
# program's console; their prefix is the WeChat field type, which limits length and characters.
# Each event offers a few named values, never a name or an ID number; the config maps template keys
# to them (defaults below match the templates suggested in README.md).

#: every event a citizen is told about (CONTRACTS.md section 5 and the gateway's delivery.finished)
SUBSCRIBE_EVENTS: tuple[str, ...] = citizen_events()

#: event -> the named values it offers
EVENT_VALUES: dict[str, frozenset[str]] = {
    "filing.received": frozenset({"filing_id", "tip"}),
    "filing.correction_required": frozenset({"filing_id", "items", "tip"}),
    "filing.reviewed": frozenset({"filing_id", "status", "reason", "tip"}),
    "filing.docketed": frozenset({"filing_id", "case_no", "tip"}),
    "hearing.scheduled": frozenset({"case_no", "at", "place", "mode", "tip"}),
    "judge_message.replied": frozenset({"case_no", "tip"}),
    "refund.completed": frozenset({"case_no", "amount", "tip"}),
    "application.updated": frozenset({"application_id", "kind", "status", "tip"}),
    "payment.confirmed": frozenset({"case_no", "amount", "tip"}),
    "delivery.finished": frozenset({"delivery_id", "operation", "status", "tip"}),
}
#: event -> default template key -> named value
DEFAULT_FIELDS: dict[str, dict[str, str]] = {
    "filing.received": {"character_string1": "filing_id", "thing2": "tip"},
    "filing.correction_required": {"character_string1": "filing_id", "thing2": "items", "thing3": "tip"},
    "filing.reviewed": {"character_string1": "filing_id", "phrase2": "status", "thing3": "tip"},
    "filing.docketed": {"thing1": "case_no", "character_string2": "filing_id", "thing3": "tip"},
    "hearing.scheduled": {"thing1": "case_no", "time2": "at", "thing3": "place", "phrase4": "mode"},
    "judge_message.replied": {"thing1": "case_no", "thing2": "tip"},
    "refund.completed": {"thing1": "case_no", "amount2": "amount", "thing3": "tip"},
    "application.updated": {"thing1": "kind", "phrase2": "status", "character_string3": "application_id"},
    "payment.confirmed": {"thing1": "case_no", "amount2": "amount", "thing3": "tip"},
    "delivery.finished": {"thing1": "operation", "phrase2": "status", "character_string3": "delivery_id"},
}
_TIPS: dict[str, str] = {
    "filing.received": "法院已收到，请留意审查结果",
    "filing.correction_required": "请进入小程序按要求补正材料",
    "filing.reviewed": "请进入小程序查看审核详情",
    "filing.docketed": "已立案，请留意缴费通知",
    "hearing.scheduled": "请按时参加庭审",
    "judge_message.replied": "法官已回复您的留言",
    "refund.completed": "退费已办结，请留意到账",
    "application.updated": "请进入小程序查看办理进度",
    "payment.confirmed": "诉讼费已确认缴纳",
    "delivery.finished": "请进入小程序查看提交结果",
}

#: WeChat subscribe-message field types (the key's prefix) and their length limits
FIELD_LIMITS: dict[str, int] = {
    "thing": 20, "character_string": 32, "phrase": 5, "number": 32, "letter": 32, "symbol": 5, "amount": 20,
    "time": 40, "date": 40,
}
TEMPLATE_KEY = re.compile(r"^(thing|character_string|phrase|number|letter|symbol|amount|time|date)(\d{1,3})$")
_CHINA = timezone(timedelta(hours=8))


#: event -> the kind of item whose status it reports (application.updated names its own kind)
_STATUS_KIND: dict[str, str] = {"filing.reviewed": "filing", "delivery.finished": "delivery"}


def event_values(event: str, data: Mapping[str, Any]) -> dict[str, str]:
    """The named values an event offers, from the court event's ``data`` (CONTRACTS.md section 5)."""
    allowed = EVENT_VALUES.get(event, frozenset())
    values: dict[str, str] = {"tip": _TIPS.get(event, "请进入小程序查看详情")}
    for name in allowed - {"tip"}:
        text = _text(data.get(name))
        if text:
            values[name] = _label(name, text, _STATUS_KIND.get(event) or _text(data.get("kind")) or None)
    if event == "filing.reviewed" and data.get("reason"):
        values["tip"] = str(data["reason"])
    return values


def _text(raw: Any) -> str:
    """A data value as text; a list (a correction request's items) as one line."""
    if raw is None:
        return ""
    if isinstance(raw, list):
        return "；".join(str(item) for item in raw if item not in (None, ""))
    return str(raw)


def _label(name: str, raw: str, kind: str | None) -> str:
    """Statuses, kinds, operations and modes in the words every channel uses (gateway.vocabulary)."""
    if name == "status":
        return status_label(kind, raw)
    if name == "kind":
        return application_kind_label(raw)
    if name == "operation":
        return operation_label(raw)
    if name == "mode":
        return hearing_mode_label(raw)
    return raw


def template_data(fields: Mapping[str, str], values: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``{key: {"value": ...}}`` for the template's keys, each value fitted to its field type."""
    data: dict[str, dict[str, str]] = {}
    for key, name in fields.items():
        if name in values:
            data[key] = {"value": fit(key, values[name])}
    return data


def fit(key: str, value: str) -> str:
    """Fit a value to its WeChat field type: length, characters and the time layout WeChat accepts."""
    match = TEMPLATE_KEY.match(key)
    kind = match.group(1) if match else "thing"
    if kind == "time":
        return _wechat_time(value, with_clock=True)
    if kind == "date":
        return _wechat_time(value, with_clock=False)
    if kind == "amount":
        return _amount(value)
    if kind in ("character_string", "letter", "number", "symbol"):
        value = "".join(ch for ch in value if "\x21" <= ch <= "\x7e")
    limit = FIELD_LIMITS[kind]
    if len(value) <= limit:
        return value
    return value[:limit] if kind != "thing" else value[: limit - 1] + "…"


def _wechat_time(text: str, *, with_clock: bool) -> str:
    """``2026-11-10T15:00:00+08:00`` -> ``2026年11月10日 15:00`` (Beijing time, as WeChat shows it)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text[:FIELD_LIMITS["time"]]
    if moment.tzinfo is not None:
        moment = moment.astimezone(_CHINA)
    day = f"{moment.year}年{moment.month}月{moment.day}日"
    return f"{day} {moment:%H:%M}" if with_clock else day


def _amount(text: str) -> str:
    number = text.strip().removesuffix("元")
    return (number if re.fullmatch(r"\d{1,10}(\.\d{1,2})?", number) else "0") + "元"


# --- helpers ----------------------------------------------------------------------------------------


def _json_object(body: bytes, reason: Reason, who: str) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise refusal(ErrorCode.SERVICE_UNAVAILABLE, reason, f"{who} answered something that is not a JSON object")
    return value


def _plain_json(body: bytes, who: str) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise WeChatApiError(f"{who} answered something that is not a JSON object")
    return value


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
