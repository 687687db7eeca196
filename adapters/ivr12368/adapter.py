"""Glue for the 12368 hotline: Starlette routes -> call state -> flow -> gateway -> spoken answer.

Two routes, one flow (CONTRACTS.md section 4.5):

    POST /channels/{name}/json   Bearer IVR token; a JSON step in, a JSON step out
    POST /channels/{name}/vxml   (GET too, for a browser's first fetch) form fields in,
                                 a VoiceXML 2.1 document out

A call's state lives in the shared state store under its call id (its
``call_ttl_s`` renewed on every step, deleted on hang-up, transfer or goodbye),
so consecutive steps of one call may reach different gateway instances, and a
call survives a restart. The caller is anonymous until a court verifies a case
query password (gateway/case_passwords.py); the resulting actor is L2 for that
one case, and the three services run as canonical operations through
:meth:`Adapter.run`, exactly as on every other channel.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.ivr12368.flow import SERVICES, CallFlow, CallState, FlowSettings
from adapters.ivr12368.protocol import (
    CALL_TOKEN_PARAM,
    FORM_FIELDS,
    TOKEN_PARAM,
    VOICEXML_MEDIA_TYPE,
    Action,
    Event,
    Step,
    StepRequest,
    call_token_key,
    check_call_token,
    error_step,
    http_status,
    json_answer,
    parse_step,
    sign_call_token,
    submit_url,
    vxml_document,
)
from adapters.ivr12368.settings import IvrSettings
from adapters.ivr12368.speech import callback_spoken, fees_spoken, progress_spoken
from gateway import (
    Actor,
    Adapter,
    CaseNumberError,
    ChannelContext,
    Credential,
    Decoded,
    DemoKit,
    ErrorCode,
    GatewayError,
    Outcome,
    PasswordGuard,
    RateCheck,
    StateUnavailable,
    account_actor,
    bearer_token,
    caller_number,
    court_for_digits,
    get_logger,
    normalise_mobile,
    parse_case_number,
    parse_json_object,
    read_body,
    request_id_for,
    set_outcome_headers,
    verify_case_password,
)

_log = get_logger("court_gateway.ivr12368")
MAX_STEP_BYTES = 16 * 1024
#: what the court receives as the text of a callback request made by phone
CALLBACK_TEXT = "12368热线来电：当事人请求承办法官回电。"
CALLBACK_EVENT = "judge_message.callback_requested"
SMS_DRAIN_S = 10.0


class Dialect(str, Enum):
    JSON = "json"
    VXML = "vxml"


@dataclass
class _StepContext:
    """The request being answered: its dialect and, once known, its call (for submits and decode)."""

    dialect: Dialect
    path: str
    request: StepRequest | None = None
    call: CallState | None = None


_CONTEXT: contextvars.ContextVar[_StepContext] = contextvars.ContextVar("ivr12368_step")


def callback_text(caller: str) -> str:
    """The judge message of a callback request; a number that cannot take SMS is written into it."""
    if caller and normalise_mobile(caller) is None:
        return f"{CALLBACK_TEXT}回电号码：{caller}。"
    return CALLBACK_TEXT


class Ivr12368Adapter(Adapter):
    name = "ivr12368"
    settings_model = IvrSettings
    idempotency_field = "call_id"  # writes are keyed by call id and step (CONTRACTS.md section 4)

    def __init__(self, context: ChannelContext) -> None:
        super().__init__(context)
        settings: IvrSettings = context.settings
        self.settings = settings
        self._token = settings.token_env.value_bytes
        self._call_key = call_token_key(self._token)
        self._flow_settings = FlowSettings(
            max_password_attempts=settings.max_password_attempts, lockout_s=settings.lockout_s,
            menu_timeout_s=settings.menu_timeout_s, digits_timeout_s=settings.digits_timeout_s,
            max_repeats=settings.max_repeats, agent_queue=settings.agent_queue,
        )
        self._background: set[asyncio.Task[None]] = set()

    # --- routes ----------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/json", self._json_endpoint, methods=["POST"]),
            Route("/vxml", self._vxml_endpoint, methods=["GET", "POST"]),
        ]

    async def _json_endpoint(self, request: Request) -> Response:
        token = _CONTEXT.set(_StepContext(Dialect.JSON, request.url.path))
        try:
            return await self.guarded(request, self._json_step)
        finally:
            _CONTEXT.reset(token)

    async def _vxml_endpoint(self, request: Request) -> Response:
        token = _CONTEXT.set(_StepContext(Dialect.VXML, request.url.path))
        try:
            return await self.guarded(request, self._vxml_step)
        finally:
            _CONTEXT.reset(token)

    async def _json_step(self, request: Request) -> Response:
        await self.authenticate(request)
        step_request = parse_step(parse_json_object(await read_body(request, MAX_STEP_BYTES), allow_empty=False))
        step = await self._advance(request, step_request)
        return self._respond(step)

    async def _vxml_step(self, request: Request) -> Response:
        # Authenticated from the headers and the URL alone, before a byte of the body is parsed.
        call_id = self._authenticate_vxml(request)
        fields = await _vxml_fields(request)
        if call_id is not None and (fields.get("call_id") != call_id or fields.get("event") == Event.START.value):
            # A call token is good for its own call only, and a call is only ever started with the IVR token.
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "missing or wrong IVR token or call token")
        step_request = parse_step(fields)
        step = await self._advance(request, step_request)
        return self._respond(step)

    # --- the four methods ------------------------------------------------------------------------

    async def authenticate(self, request: Request) -> Credential:
        """The IVR platform itself: its token as Bearer (or, for a VoiceXML browser's first fetch,
        the ``token`` query parameter). Callers have no credential until a password is verified."""
        if not self._ivr_token_ok(request, allow_query=_CONTEXT.get().dialect is Dialect.VXML):
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "missing or wrong IVR token")
        return None

    async def decode(self, request: Request, credential: Credential) -> Decoded:
        """The canonical call of the current call's service, for its verified case-scoped actor."""
        context = _CONTEXT.get()
        call, step_request = context.call, context.request
        if call is None or step_request is None or call.service not in SERVICES or not isinstance(credential, Actor):
            raise GatewayError(ErrorCode.VALIDATION_FAILED, "no service chosen in this call")
        operation = self.operation(SERVICES[call.service])
        case_no = str(credential.case_scope)
        args: dict[str, Any] = {"case_no": case_no}
        if _is_legacy(case_no) and call.court:
            args["court"] = call.court  # a pre-2016 number carries no court code: the caller chose it
        key = None
        if operation.is_write:
            args["text"] = callback_text(call.caller)
            mobile = normalise_mobile(call.caller) if call.caller else None
            if mobile is not None:
                args["callback_phone"] = mobile
            key = f"{step_request.call_id}:callback"
        return Decoded(operation, args, key)

    def encode(self, outcome: Outcome, request_id: str) -> Response:
        """An operation's outcome, spoken for the current call's service, in the current dialect."""
        call = _CONTEXT.get().call
        service = SERVICES.get(call.service or "", "") if call else ""
        return self._respond(self._service_step(service, outcome, sms=False))

    def encode_error(self, error: GatewayError, request_id: str) -> Response:
        return self._respond(error_step(error))

    # --- one step of a call ----------------------------------------------------------------------

    async def _advance(self, request: Request, step_request: StepRequest) -> Step:
        context = _CONTEXT.get()
        context.request = step_request
        key = self._state_key(step_request.call_id)
        call = None if step_request.event is Event.START else await self._load(key)
        # The number a call started with is the caller's for the whole call, whatever later steps say.
        caller = call.caller if call else step_request.caller
        flow = CallFlow(self._flow_settings, _CallEffects(self, request, caller))
        call, step = await flow.advance(call, step_request.event, step_request.digits, caller)
        context.call = call
        await self._save(key, call)
        _log.info("ivr step", channel=self.context.name, request_id=request_id_for(request),
                  call=self.gateway.pseudonyms.log_safe(step_request.call_id), step_event=step_request.event.value,
                  stage=call.stage.value if call else "-", action=step.action.value,
                  error=step.error.value if step.error else None)
        return step

    def _state_key(self, call_id: str) -> str:
        digest = hashlib.sha256(call_id.encode()).hexdigest()[:32]
        return f"ivr:{self.context.name}:call:{digest}"

    async def _load(self, key: str) -> CallState | None:
        try:
            raw = await self.gateway.state.get(key)
        except StateUnavailable:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None
        if raw is None:
            return None
        try:
            return CallState.from_bytes(raw)
        except (ValueError, TypeError, KeyError):
            _log.warning("unreadable call state dropped", channel=self.context.name)
            return None

    async def _save(self, key: str, call: CallState | None) -> None:
        try:
            if call is None:
                await self.gateway.state.delete(key)
            else:
                await self.gateway.state.set(key, call.to_bytes(), self.settings.call_ttl_s)
        except StateUnavailable:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None

    # --- services --------------------------------------------------------------------------------

    async def serve(self, request: Request, call: CallState) -> Step:
        """Run the call's service as a canonical operation for the verified actor."""
        assert call.actor is not None
        _CONTEXT.get().call = call
        actor = Actor.from_record(call.actor)
        decoded = await self.decode(request, actor)
        outcome = await self.run(decoded, actor, request_id_for(request))
        sms = decoded.operation.id == "judge_messages.send" and self._confirm_by_sms(call, outcome)
        return self._service_step(decoded.operation.id, outcome, sms=sms)

    @staticmethod
    def _service_step(operation_id: str, outcome: Outcome, *, sms: bool) -> Step:
        result = outcome.result if isinstance(outcome.result, dict) else {}
        if operation_id == "cases.progress":
            prompt = progress_spoken(result)
        elif operation_id == "payments.list":
            prompt = fees_spoken(result)
        elif operation_id == "judge_messages.send":
            # A queued request has no answer from the court yet: the rule itself is spoken.
            prompt = callback_spoken(None if outcome.queued else _reply_due(result), sms=sms)
        else:
            raise GatewayError(ErrorCode.SERVICE_NOT_ENABLED, f"the hotline does not speak {operation_id}")
        return Step(Action.PLAY, prompt, data=outcome.result, outcome=outcome)

    def _confirm_by_sms(self, call: CallState, outcome: Outcome) -> bool:
        """Send the callback confirmation in the background (the caller should not wait on retries)."""
        sender = self.gateway.sms
        mobile = normalise_mobile(call.caller) if call.caller else None
        step_request = _CONTEXT.get().request
        if sender is None or mobile is None or step_request is None or not self.settings.callback_sms:
            return False
        due = None if outcome.queued else _reply_due(outcome.result if isinstance(outcome.result, dict) else {})
        params = {"due": f"{due.month}月{due.day}日前" if due else "两个工作日内"}
        out_id = "cb-" + hashlib.sha256(f"{self.context.name}\n{step_request.call_id}".encode()).hexdigest()[:32]
        task = asyncio.create_task(self._send_sms(mobile, params, out_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return True

    async def _send_sms(self, phone: str, params: dict[str, str], out_id: str) -> None:
        sender = self.gateway.sms
        assert sender is not None
        try:
            await sender.sms(phone, CALLBACK_EVENT, params, out_id)
        except Exception:  # noqa: BLE001 - a background send must not die silently, nor take anything down
            _log.exception("callback confirmation SMS failed", channel=self.context.name, out_id=out_id)

    async def shutdown(self) -> None:
        if self._background:
            _, pending = await asyncio.wait(set(self._background), timeout=SMS_DRAIN_S)
            for task in pending:
                task.cancel()

    # --- rendering -------------------------------------------------------------------------------

    def _respond(self, step: Step) -> Response:
        context = _CONTEXT.get()
        status = http_status(step.error)
        if context.dialect is Dialect.JSON:
            response = Response(orjson.dumps(json_answer(step)), status_code=status, media_type="application/json")
        else:
            body = vxml_document(step, self._next_url(context, step))
            response = Response(body, status_code=status, media_type=VOICEXML_MEDIA_TYPE)
            response.headers["Cache-Control"] = "no-store"  # every document belongs to one moment of one call
        if isinstance(step.outcome, Outcome):
            set_outcome_headers(response, step.outcome)
        return response

    def _next_url(self, context: _StepContext, step: Step) -> str | None:
        if context.request is None or step.ends_call or context.call is None:
            return None
        expires = int(time.time()) + self.settings.call_ttl_s
        token = sign_call_token(self._call_key, self.context.name, context.request.call_id, expires)
        # Relative to the document's own URL, so a path prefix added by a proxy keeps working.
        return submit_url(context.path.rsplit("/", 1)[-1], context.request, token)

    # --- authentication --------------------------------------------------------------------------

    def _ivr_token_ok(self, request: Request, *, allow_query: bool) -> bool:
        offered = bearer_token(request)
        if offered is None and allow_query:
            offered = request.query_params.get(TOKEN_PARAM)
        return offered is not None and hmac.compare_digest(offered.encode(), self._token)

    def _authenticate_vxml(self, request: Request) -> str | None:
        """The IVR token on a call's first request; afterwards the signed per-call token of the submit URL
        (a VoiceXML browser cannot add headers to a ``<submit>``), which carries the call id too. None
        for the IVR token, else the call id the call token is good for."""
        if self._ivr_token_ok(request, allow_query=True):
            return None
        call_token = request.query_params.get(CALL_TOKEN_PARAM, "")
        call_id = request.query_params.get("call_id", "")
        if call_token and check_call_token(self._call_key, self.context.name, call_id, call_token, time.time()):
            return call_id
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "missing or wrong IVR token or call token")

    # --- demo ------------------------------------------------------------------------------------

    @classmethod
    def demo_kit(cls, stand_in_url: str) -> DemoKit | None:
        from adapters.ivr12368.standins import demo_kit

        return demo_kit(stand_in_url)


class _CallEffects:
    """What the flow needs done, for one step of one call, through the gateway."""

    def __init__(self, adapter: Ivr12368Adapter, request: Request, caller: str) -> None:
        self._adapter = adapter
        self._request = request
        self._caller = caller
        gateway = adapter.gateway
        # One number in one form (+86 or not): a caller cannot dodge its lockout by the way it dials.
        self._number = caller_number(caller)
        self._pseudonym = gateway.pseudonyms.account(adapter.context.name, "tel:" + (self._number or "withheld"))

    @property
    def _names(self) -> dict[str, str]:
        return self._adapter.gateway.pipeline.courts.names

    def court_for_digits(self, digits: str) -> str | None:
        return court_for_digits(self._names, digits)

    def court_name(self, court: str) -> str:
        return self._names.get(court, "")

    def _lock_key(self) -> str:
        return f"ivr:{self._adapter.context.name}:lock:{self._pseudonym}"

    def caller_withheld(self) -> bool:
        return self._number is None

    def _guard(self) -> PasswordGuard:
        guard = self._adapter.gateway.passwords
        assert guard is not None
        return guard

    async def court_paused(self, court: str) -> bool:
        return await self._guard().paused(court)

    async def court_password_failed(self, court: str) -> bool:
        return await self._guard().failed(court)

    async def caller_locked(self) -> bool:
        try:
            return await self._adapter.gateway.state.get(self._lock_key()) is not None
        except StateUnavailable:
            # Without the shared lockout, password guessing could not be cut off: refuse case services.
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None

    async def verify_password(self, court: str, serial: str, password: str) -> dict[str, Any] | None:
        adapter = self._adapter
        assert self._number is not None  # withheld callers never reach a password
        mobile = normalise_mobile(self._number)
        caller = account_actor(adapter.gateway.pseudonyms, channel=adapter.context.name,
                               account="tel:" + self._number, phone=mobile)
        actor = await verify_case_password(adapter.gateway, court=court, serial=serial, password=password,
                                           caller=caller, caller_number=self._number,
                                           request_id=request_id_for(self._request))
        return actor.to_record() if actor is not None else None

    async def password_failed(self) -> bool:
        settings = self._adapter.settings
        check = RateCheck(f"ivr:{self._adapter.context.name}:pw:{self._pseudonym}", settings.max_password_attempts,
                          float(settings.lockout_s))
        try:
            hot = await self._adapter.gateway.state.hot_path([check], [])
        except StateUnavailable:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None
        return hot.rate is None or not hot.rate.allowed or hot.rate.remaining == 0

    async def lock_caller(self) -> None:
        try:
            await self._adapter.gateway.state.set(self._lock_key(), b"1", self._adapter.settings.lockout_s)
        except StateUnavailable:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None

    async def serve(self, call: CallState) -> Step:
        return await self._adapter.serve(self._request, call)


async def _vxml_fields(request: Request) -> dict[str, str]:
    """Form fields of a VoiceXML step: the query string, then the (url-encoded) body over it."""
    fields = {k: v for k, v in request.query_params.items() if k in FORM_FIELDS}
    if request.method != "POST":
        return fields
    body = await read_body(request, MAX_STEP_BYTES)
    content_type = request.headers.get("content-type", "application/x-www-form-urlencoded")
    if body and not content_type.startswith("application/x-www-form-urlencoded"):
        raise GatewayError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "VoiceXML steps are application/x-www-form-urlencoded")
    try:
        parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=32)
    except ValueError:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "too many form fields") from None
    fields.update({k: values[0] for k, values in parsed.items() if k in FORM_FIELDS and values})
    return fields


def _is_legacy(case_no: str) -> bool:
    try:
        return parse_case_number(case_no).is_legacy
    except CaseNumberError:
        return False


def _reply_due(result: dict[str, Any]) -> date | None:
    try:
        return datetime.fromisoformat(str(result.get("reply_due"))).date()
    except ValueError:
        return None
