"""The SMS sender of CONTRACTS.md section 7, the gateway's one way to text somebody.

    POST {notify.sms.base_url}/send
    {"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam": "<JSON string>", "OutId"}
    -> {"Code": "OK", "BizId", "RequestId"}

In order, for every message:

1. the template is looked up (by event, or by the provider's template code)
   and rendered from the local template text (gateway/notify/templates.py);
2. the rendered text, 【签名】 included, is screened: a link or a payment request
   is refused before anything is sent; the segments are counted (70/67 rule);
3. the ``OutId`` is claimed in the shared state store, so a message goes out at
   most once per OutId whichever instance, retry or redelivery sends it; the
   claim holds the outcome afterwards;
4. the provider is called. Failures that certainly did not deliver (connection
   refused, a 5xx or 429, a provider "system busy" code) are retried with
   exponential backoff (tenacity); an answer that may have delivered (a read
   timeout, a garbled 2xx) is never retried, because a retry could text the
   person twice;
5. a :class:`SmsResult` is returned and one log line written, without the phone
   number or the text.

Provider authentication: ``X-Sms-Access-Key`` carries the access key; when an
access secret is configured, ``X-Sms-Timestamp``, ``X-Sms-Nonce`` and
``X-Sms-Signature`` = hex(HMAC-SHA256(secret, timestamp + "\\n" + nonce + "\\n" +
hex(SHA-256(body)))) are added.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import orjson
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt, wait_exponential

from gateway.config import SmsSettings
from gateway.domain.id_numbers import normalise_mobile
from gateway.logs import get_logger
from gateway.notify.screening import screen
from gateway.notify.segments import segment_count, signed_text
from gateway.notify.templates import TemplateError, render, template_text, used_params
from gateway.state import StateStore, StateUnavailable

_log = get_logger("court_gateway.sms")

#: how long an OutId stays claimed: "never twice" holds for this long after the first send
OUT_ID_TTL_S = 30 * 24 * 3600
OUT_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: provider codes that mean "not sent, try again" (Alibaba Cloud style)
RETRYABLE_CODES = frozenset({"isp.SYSTEM_ERROR", "Throttling.User", "Throttling.Api", "ServiceUnavailable"})

SmsStatus = Literal["sent", "duplicate", "refused", "failed"]


@dataclass(frozen=True)
class SmsResult:
    """What became of one message.

    ``sent``: the provider accepted it now. ``duplicate``: this OutId was claimed before, nothing
    was sent now (``reason`` holds what became of the first: sent, failed or sending).
    ``refused``: not sent, and sending it again would not help (a link, a payment request, a
    missing parameter, not a mobile number, the provider refused it). ``failed``: not sent, or
    not known to be sent, after the retries.
    """

    status: SmsStatus
    out_id: str
    segments: int = 0
    biz_id: str | None = None
    reason: str | None = None
    attempts: int = 0

    @property
    def delivered(self) -> bool:
        """True when the provider took this message, now or the first time."""
        return self.status == "sent" or (self.status == "duplicate" and self.reason == "sent")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    first_wait_s: float = 0.5
    max_wait_s: float = 8.0


class _Retry(Exception):
    """A failure that certainly did not deliver: safe to try again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Final(Exception):
    """A failure after which nothing is retried."""

    def __init__(self, status: SmsStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class _Prepared:
    event: str
    code: str
    params: dict[str, str]
    segments: int


class SmsSender:
    """Sends templated SMS through the provider of ``notify.sms``; see the module docstring."""

    def __init__(self, settings: SmsSettings, state: StateStore, http: httpx.AsyncClient,
                 retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self._state = state
        self._http = http
        self._retry = retry or RetryPolicy()
        self._url = str(settings.base_url).rstrip("/") + "/send"

    # --- the Notifier port ------------------------------------------------------------------------

    async def sms(self, phone: str, event: str, params: Mapping[str, object], out_id: str) -> SmsResult:
        """Text ``phone`` the template of ``event`` (the Notifier protocol)."""
        return await self.send(phone, event, params, out_id)

    async def send(self, phone: str, template: str, params: Mapping[str, object], out_id: str) -> SmsResult:
        """``template`` is an event name (``judge_message.callback_requested``) or its template code."""
        try:
            result = await self._send(phone, template, params, out_id)
        except _Final as final:
            result = SmsResult(final.status, out_id, reason=final.reason)
        _log.info("sms", template=template, out_id=out_id, status=result.status, reason=result.reason,
                  segments=result.segments, attempts=result.attempts)
        return result

    def prepare(self, template: str, params: Mapping[str, object]) -> tuple[str, str]:
        """(template code, text as the phone shows it); raises TemplateError; nothing is sent."""
        prepared, text = self._prepare(template, params)
        return prepared.code, text

    # --- steps -------------------------------------------------------------------------------------

    async def _send(self, phone: str, template: str, params: Mapping[str, object], out_id: str) -> SmsResult:
        if not OUT_ID_PATTERN.match(out_id):
            raise _Final("refused", "invalid_out_id")
        number = normalise_mobile(phone)
        if number is None:
            raise _Final("refused", "not_a_mobile_number")
        try:
            prepared, text = self._prepare(template, params)
        except TemplateError as exc:
            raise _Final("refused", exc.reason) from None
        refusal = screen(text)
        if refusal is not None:
            _log.warning("sms refused by screening", template=template, out_id=out_id, reason=refusal.reason,
                         found=refusal.found)
            return SmsResult("refused", out_id, prepared.segments, reason=refusal.reason)
        previous = await self._claim(out_id)
        if previous is not None:
            return SmsResult("duplicate", out_id, prepared.segments, previous.get("biz_id"),
                             str(previous.get("status", "sending")))
        return await self._deliver(number, prepared, out_id)

    def _prepare(self, template: str, params: Mapping[str, object]) -> tuple[_Prepared, str]:
        event, code = self._template(template)
        body = template_text(event)
        text = signed_text(self.settings.sign_name, render(body, params))
        return _Prepared(event, code, used_params(body, params), segment_count(text)), text

    def _template(self, template: str) -> tuple[str, str]:
        templates = self.settings.templates
        if template in templates:
            return template, templates[template]
        for event, code in templates.items():
            if code == template:
                return event, code
        raise TemplateError(f"unknown_template:{template}")

    async def _claim(self, out_id: str) -> dict[str, Any] | None:
        """None when this call owns the OutId now; else the record of whoever claimed it first."""
        key = _out_key(out_id)
        try:
            if await self._state.set(key, orjson.dumps({"status": "sending"}), OUT_ID_TTL_S, only_if_absent=True):
                return None
            raw = await self._state.get(key)
        except StateUnavailable:
            # Without the shared claim a retry elsewhere could send it again: do not send.
            raise _Final("failed", "state_unavailable") from None
        record = orjson.loads(raw) if raw else {"status": "sending"}
        return record if isinstance(record, dict) else {"status": "sending"}

    async def _deliver(self, phone: str, prepared: _Prepared, out_id: str) -> SmsResult:
        body = orjson.dumps({
            "PhoneNumbers": phone,
            "SignName": self.settings.sign_name,
            "TemplateCode": prepared.code,
            "TemplateParam": orjson.dumps(prepared.params).decode(),
            "OutId": out_id,
        })
        attempts = 0
        try:
            async for attempt in self._retrying():
                with attempt:
                    attempts += 1
                    answer = await self._post(body)
            result = SmsResult("sent", out_id, prepared.segments, str(answer.get("BizId") or "") or None,
                               attempts=attempts)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            reason = last.reason if isinstance(last, _Retry) else "retries_exhausted"
            result = SmsResult("failed", out_id, prepared.segments, reason=reason, attempts=attempts)
        except _Final as final:
            result = SmsResult(final.status, out_id, prepared.segments, reason=final.reason, attempts=attempts)
        await self._record(out_id, result)
        return result

    def _retrying(self) -> AsyncRetrying:
        policy = self._retry
        return AsyncRetrying(
            stop=stop_after_attempt(policy.attempts),
            wait=wait_exponential(multiplier=policy.first_wait_s, max=policy.max_wait_s),
            retry=retry_if_exception_type(_Retry),
            reraise=False,
        )

    async def _post(self, body: bytes) -> dict[str, Any]:
        try:
            response = await self._http.post(self._url, content=body, headers=self._headers(body),
                                             timeout=self.settings.timeout_s)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _Retry(f"unreachable:{type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            # The request may have reached the provider: a retry could deliver a second copy.
            raise _Final("failed", f"unknown_outcome:{type(exc).__name__}") from None
        return _answer(response)

    def _headers(self, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "X-Sms-Access-Key": self.settings.access_key_env.value}
        secret = self.settings.access_secret_env
        if secret is not None:
            timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
            headers.update({"X-Sms-Timestamp": timestamp, "X-Sms-Nonce": nonce,
                            "X-Sms-Signature": request_signature(secret.value_bytes, timestamp, nonce, body)})
        return headers

    async def _record(self, out_id: str, result: SmsResult) -> None:
        record = {"status": result.status, "biz_id": result.biz_id, "reason": result.reason}
        try:
            await self._state.set(_out_key(out_id), orjson.dumps(record), OUT_ID_TTL_S)
        except StateUnavailable:
            _log.warning("sms outcome not recorded; the OutId stays claimed", out_id=out_id)


def request_signature(secret: bytes, timestamp: str, nonce: str, body: bytes) -> str:
    """The provider request signature (see the module docstring); the SMS stand-in checks the same."""
    message = f"{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code == 429 or response.status_code >= 500:
        raise _Retry(f"http_{response.status_code}")
    try:
        answer = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        if 200 <= response.status_code < 300:
            raise _Final("failed", "unknown_outcome:malformed_answer")
        raise _Final("refused", f"http_{response.status_code}")
    code = str(answer.get("Code", ""))
    if code == "OK":
        return answer
    if code in RETRYABLE_CODES:
        raise _Retry(code)
    raise _Final("refused", code or f"http_{response.status_code}")


def _out_key(out_id: str) -> str:
    return f"sms:out:{out_id}"
