"""The 12368 hotline's wire protocol (CONTRACTS.md section 4.5): pure code, no Starlette, no Redis.

One call flow, two dialects:

* JSON steps: ``{"call_id", "caller", "called", "event", "digits"}`` in,
  ``{"code", "action", "prompt", "max_digits", "finish_key", "timeout_s", "transfer_to", "error"?}`` out
  (plus ``data``, the canonical result, on the step that ran an operation);
* VoiceXML 2.1 documents, built with ElementTree (user input is only ever an
  element's text or an attribute value, escaped by the serializer, never
  concatenated into markup), each speaking one prompt and ``<submit>``-ing the
  caller's keys back to a URL that carries a per-call signed token.

A :class:`Step` is what the flow decided; :func:`json_answer` and
:func:`vxml_document` draw it in each dialect.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from gateway import ErrorCode, GatewayError

VOICEXML_MEDIA_TYPE = "application/voicexml+xml"
VXML_NAMESPACE = "http://www.w3.org/2001/vxml"
LANGUAGE = "zh-CN"
FINISH_KEY = "#"
BACK_KEY = "*"
DTMF_KEYS = frozenset("0123456789*#")
CALL_ID = re.compile(r"^[A-Za-z0-9._:@+-]{1,128}$")
_NUMBER = re.compile(r"^\+?[0-9]{0,31}$")
MAX_DIGITS_FIELD = 64
#: the form fields of a VoiceXML step (CONTRACTS.md section 4.5)
FORM_FIELDS = ("call_id", "caller", "called", "event", "digits")
#: query parameters: the IVR token on a call's first request, the signed per-call token afterwards
TOKEN_PARAM = "token"
CALL_TOKEN_PARAM = "ct"


class Action(str, Enum):
    COLLECT = "collect"  # speak the prompt, then collect keys
    PLAY = "play"  # speak the prompt without barge-in, then send the next step (event "input", no digits)
    TRANSFER = "transfer"  # speak the prompt, then transfer the call to ``transfer_to``
    HANGUP = "hangup"  # speak the prompt, then hang up


class Event(str, Enum):
    START = "start"
    INPUT = "input"
    NOINPUT = "noinput"
    NOMATCH = "nomatch"
    HANGUP = "hangup"


@dataclass(frozen=True)
class Collect:
    """What keys a collect step accepts: one key of ``keys``, or a digit string ended by ``#``."""

    timeout_s: int
    keys: tuple[str, ...] = ()
    min_digits: int = 0
    max_digits: int = 0
    #: extra single keys accepted besides the digit string (``*`` to go back)
    also: tuple[str, ...] = (BACK_KEY,)

    @property
    def is_entry(self) -> bool:
        return self.max_digits > 0

    @property
    def finish_key(self) -> str:
        return FINISH_KEY if self.is_entry else ""

    @property
    def max_keys(self) -> int:
        return self.max_digits if self.is_entry else 1


@dataclass(frozen=True)
class Step:
    action: Action
    prompt: str
    collect: Collect | None = None
    transfer_to: str | None = None
    error: ErrorCode | None = None
    #: the canonical result of the operation this step reports (JSON dialect only)
    data: Any = None
    #: the gateway's outcome behind ``data``, for the HTTP headers (Idempotent-Replayed, RateLimit-*)
    outcome: Any = None

    @property
    def ends_call(self) -> bool:
        return self.action in (Action.TRANSFER, Action.HANGUP)


@dataclass(frozen=True)
class StepRequest:
    call_id: str
    caller: str  # digits (and a leading +) only; "" when withheld
    called: str
    event: Event
    digits: str  # keys pressed, without the finish key and spaces


# --- spoken error messages ----------------------------------------------------------------------

#: What a caller hears for each error code: what happened and what to do next.
ERROR_PROMPTS: dict[ErrorCode, str] = {
    ErrorCode.VALIDATION_FAILED: "您的输入有误。",
    ErrorCode.INVALID_CASE_NUMBER: "案号有误，请核对受理通知书上的案号。",
    ErrorCode.INVALID_ID_NUMBER: "证件号码有误，请核对后再试。",
    ErrorCode.PAYLOAD_TOO_LARGE: "请求内容过长，请重新操作。",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "请求格式不受支持，请重新操作。",
    ErrorCode.UNAUTHENTICATED: "系统身份验证未通过，请稍后再拨。",
    ErrorCode.SIGNATURE_INVALID: "系统身份验证未通过，请稍后再拨。",
    ErrorCode.REPLAYED_REQUEST: "请求已过期，请重新操作。",
    ErrorCode.SESSION_EXPIRED: "本次通话已超时，请重新拨打。",
    ErrorCode.IDENTITY_REJECTED: "身份核验未通过。",
    ErrorCode.ASSURANCE_TOO_LOW: "该业务需要先完成身份核验。",
    ErrorCode.SERVICE_NOT_ENABLED: "电话渠道暂未开通该项服务，请通过其他渠道办理或转人工服务。",
    ErrorCode.NOT_FOUND: "未查询到相关信息，请核对后再试。",
    ErrorCode.IDEMPOTENCY_IN_PROGRESS: "您的上一次请求正在处理中，请稍候再试。",
    ErrorCode.DEADLINE_PASSED: "已超过办理期限，如有疑问请转人工服务。",
    ErrorCode.IDEMPOTENCY_KEY_REUSED: "该请求与之前的请求不一致，请重新操作。",
    ErrorCode.BACKEND_REJECTED: "法院系统未受理该请求，请转人工服务咨询。",
    ErrorCode.RATE_LIMITED: "操作过于频繁，请稍后再拨。",
    ErrorCode.INTERNAL: "系统繁忙，请稍后再拨。",
    ErrorCode.BACKEND_UNAVAILABLE: "法院业务系统暂时无法访问，请稍后再拨。",
    ErrorCode.SERVICE_UNAVAILABLE: "服务暂时不可用，请稍后再拨。",
    ErrorCode.BACKEND_TIMEOUT: "法院业务系统响应超时，请稍后再拨。",
}


def error_prompt(code: ErrorCode) -> str:
    return ERROR_PROMPTS[code]


def error_step(error: GatewayError) -> Step:
    """A request the flow could not take at all (bad token, malformed step): say so and hang up."""
    return Step(Action.HANGUP, error_prompt(error.code) + "感谢您的来电，再见。", error=error.code)


def http_status(error: ErrorCode | None) -> int:
    """401 for a bad IVR token (or call token), 200 for everything else (CONTRACTS.md section 4)."""
    return 401 if error in (ErrorCode.UNAUTHENTICATED, ErrorCode.SIGNATURE_INVALID) else 200


# --- requests ----------------------------------------------------------------------------------------


def _field(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid(name, "must be a string")
    return value.strip()


def _invalid(name: str, message: str) -> GatewayError:
    from gateway import FieldError

    return GatewayError(ErrorCode.VALIDATION_FAILED, f"{name}: {message}", [FieldError(name, message)])


def phone_number(text: str) -> str:
    """Keep what identifies a line: digits and a leading ``+``; anything else (``anonymous``) is withheld."""
    number = re.sub(r"[\s()-]", "", text)
    return number if _NUMBER.match(number) else ""


def parse_step(fields: Mapping[str, Any]) -> StepRequest:
    """One step of either dialect. Keys other than DTMF keys make the step a ``nomatch``."""
    call_id = _field(fields, "call_id")
    if not CALL_ID.match(call_id):
        raise _invalid("call_id", "1-128 characters of A-Z a-z 0-9 . _ : @ + -")
    try:
        event = Event(_field(fields, "event") or "input")
    except ValueError:
        raise _invalid("event", "start, input, noinput, nomatch or hangup") from None
    raw_digits = re.sub(r"\s", "", _field(fields, "digits"))[:MAX_DIGITS_FIELD]
    digits = raw_digits.removesuffix(FINISH_KEY)
    if event is Event.INPUT and not set(digits) <= DTMF_KEYS:
        event, digits = Event.NOMATCH, ""
    return StepRequest(call_id, phone_number(_field(fields, "caller")), phone_number(_field(fields, "called")),
                       event, digits)


# --- the JSON dialect --------------------------------------------------------------------------------


def json_answer(step: Step) -> dict[str, Any]:
    collect = step.collect
    answer: dict[str, Any] = {
        "code": 1 if step.error is not None else 0,
        "action": step.action.value,
        "prompt": step.prompt,
        "max_digits": collect.max_keys if collect else 0,
        "finish_key": collect.finish_key if collect else "",
        "timeout_s": collect.timeout_s if collect else 0,
        "transfer_to": step.transfer_to,
    }
    if step.error is not None:
        answer["error"] = step.error.value
    if step.data is not None:
        answer["data"] = step.data
    return answer


# --- the VoiceXML dialect ----------------------------------------------------------------------------


def submit_url(path: str, request: StepRequest, call_token: str) -> str:
    """Where a document's ``<submit>`` posts: the same route, the call id and its signed token in the query."""
    # The caller's number stays out of URLs (browsers log them): the call state already holds it.
    query = urlencode({"call_id": request.call_id, CALL_TOKEN_PARAM: call_token})
    return f"{path}?{query}"


def vxml_document(step: Step, next_url: str | None) -> bytes:
    """A VoiceXML 2.1 document for one step. ``next_url`` is None when nothing is submitted back."""
    root = ET.Element("vxml", {"version": "2.1", "xmlns": VXML_NAMESPACE, "xml:lang": LANGUAGE})
    ET.SubElement(root, "property", {"name": "inputmodes", "value": "dtmf"})
    ET.SubElement(root, "var", {"name": "event", "expr": "'input'"})
    if next_url is not None and not step.ends_call:
        hangup = ET.SubElement(root, "catch", {"event": "connection.disconnect.hangup"})
        _submit(hangup, next_url, "hangup", with_digits=False)
    form = ET.SubElement(root, "form", {"id": "step"})
    if step.action is Action.COLLECT and step.collect is not None and next_url is not None:
        _field_element(form, step, step.collect, next_url)
    elif step.action is Action.PLAY and next_url is not None:
        block = ET.SubElement(form, "block")
        _prompt(block, step.prompt, bargein=False)
        _submit(block, next_url, "input", with_digits=False)
    elif step.action is Action.TRANSFER and step.transfer_to:
        transfer = ET.SubElement(form, "transfer", {"name": "agent", "type": "blind", "dest": step.transfer_to})
        _prompt(transfer, step.prompt, bargein=False)
    else:
        block = ET.SubElement(form, "block")
        if step.prompt:
            _prompt(block, step.prompt, bargein=False)
        ET.SubElement(block, "disconnect")
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _prompt(parent: ET.Element, text: str, *, bargein: bool) -> None:
    prompt = ET.SubElement(parent, "prompt", {"bargein": "true" if bargein else "false"})
    prompt.text = text


def _field_element(form: ET.Element, step: Step, collect: Collect, next_url: str) -> None:
    field_element = ET.SubElement(form, "field", {"name": "digits"})
    ET.SubElement(field_element, "property", {"name": "timeout", "value": f"{collect.timeout_s}s"})
    if collect.is_entry:
        ET.SubElement(field_element, "property", {"name": "termchar", "value": FINISH_KEY})
        ET.SubElement(field_element, "property", {"name": "interdigittimeout", "value": "5s"})
    field_element.append(dtmf_grammar(collect))
    _prompt(field_element, step.prompt, bargein=True)
    for event in ("noinput", "nomatch"):
        _submit(ET.SubElement(field_element, event), next_url, event, with_digits=False)
    _submit(ET.SubElement(field_element, "filled"), next_url, "input", with_digits=True)


def _submit(parent: ET.Element, next_url: str, event: str, *, with_digits: bool) -> None:
    # The event names are constants of this module; nothing the caller sent becomes an expression.
    ET.SubElement(parent, "assign", {"name": "event", "expr": f"'{Event(event).value}'"})
    namelist = "event digits" if with_digits else "event"
    ET.SubElement(parent, "submit", {"next": next_url, "method": "post", "namelist": namelist,
                                     "enctype": "application/x-www-form-urlencoded"})


def dtmf_grammar(collect: Collect) -> ET.Element:
    """An inline SRGS DTMF grammar: the menu keys, or a digit string of the allowed length (and ``*``)."""
    grammar = ET.Element("grammar", {"mode": "dtmf", "version": "1.0", "root": "keys",
                                     "type": "application/srgs+xml"})
    rule = ET.SubElement(grammar, "rule", {"id": "keys", "scope": "public"})
    choices = ET.SubElement(rule, "one-of")
    if collect.is_entry:
        repeat = ET.SubElement(choices, "item", {"repeat": f"{collect.min_digits}-{collect.max_digits}"})
        digit = ET.SubElement(repeat, "one-of")
        for key in "0123456789":
            ET.SubElement(digit, "item").text = key
        keys: tuple[str, ...] = collect.also
    else:
        keys = collect.keys
    for key in keys:
        ET.SubElement(choices, "item").text = key
    return grammar


# --- the per-call token of VoiceXML submits ----------------------------------------------------------


def call_token_key(ivr_token: bytes) -> bytes:
    """The key of per-call tokens, derived so the IVR token itself never signs anything that is shown."""
    return hmac.new(ivr_token, b"court-gateway/ivr12368/call-token/v1", hashlib.sha256).digest()


def _call_mac(key: bytes, channel: str, call_id: str, expires: int) -> str:
    return hmac.new(key, f"{channel}\n{call_id}\n{expires}".encode(), hashlib.sha256).hexdigest()


def sign_call_token(key: bytes, channel: str, call_id: str, expires: int) -> str:
    """``{expires}.{hex(HMAC-SHA256(key, channel + "\\n" + call_id + "\\n" + expires))}``."""
    return f"{expires}.{_call_mac(key, channel, call_id, expires)}"


def check_call_token(key: bytes, channel: str, call_id: str, token: str, now: float) -> bool:
    """Valid for this channel and this call only, until it expires; constant-time compare."""
    expires_text, _, mac = token.partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12 or not mac:
        return False
    expires = int(expires_text)
    if expires < now:
        return False
    return hmac.compare_digest(_call_mac(key, channel, call_id, expires), mac)
