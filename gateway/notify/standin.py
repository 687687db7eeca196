"""A fake SMS provider that really works: ``court-gateway demo`` serves it, tests drive it.

It answers ``POST /send`` as CONTRACTS.md section 7 says, records every
message it accepts (with the text the phone would show, rendered from the
local template table), and can be told to fail the next requests so retries
can be tested. ``GET /messages`` lists what it received, phone numbers masked,
so a newcomer can see the SMS the demo sent.

Like the provider it stands in for, it does not deduplicate by OutId: it
records every request, so a test can see that the gateway never sends twice.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.config import DEFAULT_SMS_TEMPLATES
from gateway.domain.id_numbers import mask_phone, normalise_mobile
from gateway.notify.segments import segment_count, signed_text
from gateway.notify.sms import request_signature
from gateway.notify.templates import TEMPLATE_TEXTS, TemplateError, render

REQUIRED_FIELDS = ("PhoneNumbers", "SignName", "TemplateCode", "TemplateParam")
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class ReceivedSms:
    phone: str
    sign_name: str
    template_code: str
    params: dict[str, Any]
    out_id: str | None
    biz_id: str
    text: str | None  # as the phone shows it, when the template code is known
    segments: int | None

    def public(self) -> dict[str, Any]:
        return {"phone": mask_phone(self.phone), "sign_name": self.sign_name, "template_code": self.template_code,
                "params": self.params, "out_id": self.out_id, "biz_id": self.biz_id, "text": self.text,
                "segments": self.segments}


@dataclass
class _Failure:
    status: int
    code: str


@dataclass
class SmsStandIn:
    """The fake provider. ``access_key`` (and ``access_secret``) are checked like the real one would."""

    access_key: str | None = None
    access_secret: str | None = None
    templates: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SMS_TEMPLATES))
    messages: list[ReceivedSms] = field(default_factory=list)
    requests: int = 0
    _failures: list[_Failure] = field(default_factory=list)

    def fail_next(self, count: int = 1, *, status: int = 503, code: str = "isp.SYSTEM_ERROR") -> None:
        """Answer the next ``count`` sends with ``status`` (5xx/429) or, for 200, the provider ``code``."""
        self._failures.extend(_Failure(status, code) for _ in range(count))

    def routes(self) -> list[BaseRoute]:
        return [Route("/send", self._send, methods=["POST"]), Route("/messages", self._list, methods=["GET"])]

    def sent_to(self, phone: str) -> list[ReceivedSms]:
        return [m for m in self.messages if m.phone == phone]

    # --- endpoints -------------------------------------------------------------------------------

    async def _send(self, request: Request) -> Response:
        self.requests += 1
        body = await request.body()
        refused = self._check_credentials(request, body)
        if refused is not None:
            return refused
        if self._failures:
            failure = self._failures.pop(0)
            return _answer(failure.code, "injected failure", status=failure.status)
        payload = _object(body)
        if payload is None or any(not isinstance(payload.get(k), str) for k in REQUIRED_FIELDS):
            return _answer("isv.INVALID_PARAMETERS", "PhoneNumbers, SignName, TemplateCode, TemplateParam required")
        params = _object(payload["TemplateParam"].encode())
        if params is None:
            return _answer("isv.INVALID_JSON_PARAM", "TemplateParam is not a JSON object")
        phone = normalise_mobile(payload["PhoneNumbers"])
        if phone is None:
            return _answer("isv.MOBILE_NUMBER_ILLEGAL", "not a mobile number")
        out_id = payload.get("OutId") if isinstance(payload.get("OutId"), str) else None
        text = self._text(payload["SignName"], payload["TemplateCode"], params)
        message = ReceivedSms(phone, payload["SignName"], payload["TemplateCode"], params, out_id,
                              f"{int(time.time())}^{secrets.token_hex(6)}", text,
                              segment_count(text) if text is not None else None)
        self.messages.append(message)
        return JSONResponse({"Code": "OK", "Message": "OK", "BizId": message.biz_id,
                             "RequestId": secrets.token_hex(16).upper()})

    async def _list(self, request: Request) -> Response:
        return JSONResponse({"items": [m.public() for m in self.messages]})

    # --- helpers ---------------------------------------------------------------------------------

    def _check_credentials(self, request: Request, body: bytes) -> Response | None:
        if self.access_key is None:
            return None
        offered = request.headers.get("x-sms-access-key", "")
        if not hmac.compare_digest(offered.encode(), self.access_key.encode()):
            return _answer("InvalidAccessKeyId.NotFound", "unknown access key", status=403)
        if self.access_secret is None:
            return None
        timestamp = request.headers.get("x-sms-timestamp", "")
        nonce = request.headers.get("x-sms-nonce", "")
        expected = request_signature(self.access_secret.encode(), timestamp, nonce, body)
        if not hmac.compare_digest(expected, request.headers.get("x-sms-signature", "")):
            return _answer("SignatureDoesNotMatch", "bad signature", status=403)
        return None

    def _text(self, sign_name: str, code: str, params: dict[str, Any]) -> str | None:
        event = next((e for e, c in self.templates.items() if c == code), None)
        if event is None or event not in TEMPLATE_TEXTS:
            return None
        try:
            return signed_text(sign_name, render(TEMPLATE_TEXTS[event], params))
        except TemplateError:
            return None


def _object(raw: bytes) -> dict[str, Any] | None:
    if len(raw) > MAX_BODY_BYTES:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _answer(code: str, message: str, *, status: int = 200) -> Response:
    return JSONResponse({"Code": code, "Message": message, "RequestId": secrets.token_hex(16).upper()},
                        status_code=status)
