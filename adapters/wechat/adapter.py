"""The wechat adapter: 广州微法院 mini program routes -> the gateway's pipeline -> WeChat envelopes.

    POST /login                {"code"}            wx.login code -> session (L1, or L2 for a bound openid)
    POST /realname   (Bearer)  {"verify_token"}    real-name check -> new session, L2 or L3
    POST /logout     (Bearer)                      ends the session
    POST /upload     (Bearer)  multipart file, court
    POST /api/{operation_id}   (Bearer)            body = arguments, writes carry client_request_id

Every answer is HTTP 200 with an ``errcode`` (CONTRACTS.md section 4.1). The
openid is the platform account: it is kept in the session record (for
subscribe messages) and never logged; logs carry pseudonyms only.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.wechat import protocol
from adapters.wechat.bindings import RealnameBindings
from adapters.wechat.messaging import AccessTokens, SubscribeSender
from adapters.wechat.protocol import Reason, refusal
from adapters.wechat.settings import WechatSettings
from adapters.wechat.upstream import RealnameProvider, UpstreamSettings, WeChatLogin
from gateway import (
    Actor,
    Adapter,
    ChannelContext,
    Credential,
    Decoded,
    DemoKit,
    ErrorCode,
    FieldError,
    GatewayError,
    IssuedSession,
    Outcome,
    SessionRef,
    SpooledUpload,
    account_actor,
    attempt_key,
    bearer_token,
    get_logger,
    is_valid_resident_id,
    json_bytes,
    limit_attempts,
    person_actor,
    read_json_object,
    read_upload,
    request_id_for,
    set_outcome_headers,
)

_log = get_logger("court_gateway.wechat")
_ID_CARD = "ID_CARD"  # the real-name provider verifies resident ID cards (GB 11643)


def _json(body: Any) -> Response:
    return Response(json_bytes(body), status_code=protocol.HTTP_STATUS, media_type="application/json")


class WechatAdapter(Adapter):
    name = "wechat"
    settings_model = WechatSettings
    idempotency_field = protocol.IDEMPOTENCY_FIELD

    def __init__(self, context: ChannelContext) -> None:
        super().__init__(context)
        settings: WechatSettings = context.settings
        self.settings = settings
        upstream = UpstreamSettings(settings.app_id, settings.app_secret_env.value, settings.api_base,
                                    settings.realname_base, settings.timeout_s)
        http = self.gateway.http
        self._login = WeChatLogin(http, upstream)
        self._realname = RealnameProvider(http, upstream)
        self._bindings = RealnameBindings(self.gateway.state, self.gateway.pseudonyms, context.name,
                                          settings.realname_binding_days * 86400)
        self._sender = SubscribeSender(http, AccessTokens(self.gateway.state, http, upstream), upstream,
                                       settings.miniprogram_state)

    # --- the four methods ---------------------------------------------------------------------

    async def authenticate(self, request: Request) -> Credential:
        token = bearer_token(request)
        if token is None:
            # Public operations (courts, templates, the fee calculator) need no sign-in.
            if not self.operation(request.path_params["operation_id"]).needs_actor:
                return None
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "sign in first: Authorization: Bearer <session_token>")
        return self._session(token)

    async def decode(self, request: Request, credential: Credential) -> Decoded:
        op = self.operation(request.path_params["operation_id"])
        if op.id == "uploads.create":
            raise GatewayError(ErrorCode.VALIDATION_FAILED, "uploads go to /upload as multipart/form-data",
                               [FieldError("file", "请通过上传接口提交文件。")])
        args = await read_json_object(request)
        key = protocol.pop_client_request_id(args)
        return Decoded(op, args, key)

    def encode(self, outcome: Outcome, request_id: str) -> Response:
        return set_outcome_headers(_json(protocol.success_body(outcome.result)), outcome)

    def encode_error(self, error: GatewayError, request_id: str) -> Response:
        return _json(protocol.error_body(error, request_id))

    # --- routes -------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            self.route("/login", self._handle_login, ["POST"]),
            self.route("/realname", self._handle_realname, ["POST"]),
            self.route("/logout", self._handle_logout, ["POST"]),
            self.route("/upload", self._handle_upload, ["POST"]),
            Route("/api/{operation_id}", self.handle, methods=["POST"]),
            # Anything else (an unknown path, GET on an operation) answers in the channel's format too.
            self.route("/{rest:path}", self._no_route, ["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]

    async def _no_route(self, request: Request) -> Response:
        raise GatewayError(ErrorCode.NOT_FOUND, "no such route on the wechat channel: use POST")

    # --- sign-in ------------------------------------------------------------------------------

    async def _handle_login(self, request: Request) -> Response:
        await self._limit_login(request)
        code = protocol.login_code(await read_json_object(request))
        account = await self._login.account(code)
        actor, bound = await self._login_actor(account.openid)
        issued = await self._open(actor)
        _log.info("wechat login", request_id=request_id_for(request), channel=self.context.name,
                  account=self._log_id(account.openid), realname_bound=bound)
        return _json(protocol.success_body({
            "session_token": issued.token, "expires_in": issued.expires_in,
            "realname_bound": bound, "assurance": actor.assurance,
        }))

    async def _login_actor(self, openid: str) -> tuple[Actor, bool]:
        """L2 as the bound person when this openid was real-name verified before, else an L1 account."""
        bound = await self._bindings.person(openid)
        if bound is None:
            return account_actor(self.gateway.pseudonyms, channel=self.context.name, account=openid), False
        actor = person_actor(self.gateway.pseudonyms, channel=self.context.name, assurance="L2", name=bound.name,
                             id_type=bound.id_type, id_number=bound.id_number, account=openid)
        return actor, True

    async def _handle_realname(self, request: Request) -> Response:
        ref = self._session(bearer_token(request))
        current = await self.gateway.sessions.actor(ref)
        verify_token = protocol.verify_token(await read_json_object(request))
        if not current.account:
            raise refusal(ErrorCode.UNAUTHENTICATED, Reason.REALNAME_NOT_BOUND, "the session has no WeChat account")
        await self._limit_realname(current.sub)
        person = await self._verified_person(current.account, verify_token)
        issued = await self._open(person)
        await self.gateway.sessions.end(ref)
        _log.info("wechat realname", request_id=request_id_for(request), channel=self.context.name,
                  account=self._log_id(current.account), actor=person.sub, assurance=person.assurance)
        return _json(protocol.success_body({"session_token": issued.token, "expires_in": issued.expires_in,
                                            "assurance": person.assurance}))

    async def _limit_realname(self, sub: str) -> None:
        """Each real-name check is a paid call to the provider: a bounded number per WeChat account."""
        await limit_attempts(self.gateway.state, f"rl:realname:{self.context.name}:{sub}",
                             self.settings.realname_attempts, "real-name checks for this account")

    async def _limit_login(self, request: Request) -> None:
        """Each sign-in costs a call to WeChat's jscode2session: a bounded number per client address
        (the peer as the server saw it, after the configured trusted proxies)."""
        client = request.client.host if request.client else "-"
        await limit_attempts(self.gateway.state, attempt_key("login", self.context.name, client),
                             self.settings.login_attempts_per_client, "sign-ins from this client")

    async def _verified_person(self, openid: str, verify_token: str) -> Actor:
        """The person the provider verified, bound to this openid; L3 when the face matched well enough."""
        verified = await self._realname.result(verify_token)
        if not is_valid_resident_id(verified.id_number):
            raise GatewayError(ErrorCode.INVALID_ID_NUMBER, "the verified ID number fails the GB 11643 check")
        assurance = protocol.assurance_for(verified.similarity, self.settings.face_threshold)
        # The binding keeps who this is (L2 on later logins); the face match counts for this session only.
        await self._bindings.bind(openid, verified.name, _ID_CARD, verified.id_number)
        return person_actor(self.gateway.pseudonyms, channel=self.context.name, assurance=assurance,
                            name=verified.name, id_type=_ID_CARD, id_number=verified.id_number, account=openid)

    async def _handle_logout(self, request: Request) -> Response:
        await self.gateway.sessions.end(self._session(bearer_token(request)))
        return _json(protocol.success_body({}))

    async def _handle_upload(self, request: Request) -> Response:
        request_id = request_id_for(request)
        # The token is checked before the body is read: nobody unsigned spools 20 MiB.
        ref = self._session(bearer_token(request))
        async with self.gateway.upload_slots.hold(request):
            upload = await read_upload(request)
            return await self._upload_spooled(request_id, ref, upload)

    async def _upload_spooled(self, request_id: str, ref: SessionRef, upload: SpooledUpload) -> Response:
        try:
            args = {"court": upload.fields["court"]} if "court" in upload.fields else {}
            key = upload.fields.get(protocol.IDEMPOTENCY_FIELD) or None
            decoded = Decoded(self.operation("uploads.create"), args, key)
            outcome = await self.run(decoded, ref, request_id, attachment=upload)
        finally:
            upload.file.close()
        return self.encode(outcome, request_id)

    # --- subscribe messages -------------------------------------------------------------------

    async def notify(self, actor: Actor, event: str, data: dict[str, Any]) -> bool:
        """Send the event's subscribe message to the person's openid.

        False when the channel cannot reach this person (no openid, no template for the event, or
        43101: no subscription accepted); the gateway then falls back to SMS. A WeChat failure is a
        GatewayError (SERVICE_UNAVAILABLE), so the caller can retry later or fall back.
        """
        template = self.settings.subscribe_templates.get(event)
        if template is None or not actor.account:
            return False
        fields = self.settings.template_fields(event)
        values = protocol.template_data(fields, protocol.event_values(event, data))
        sent = await self._sender.send(actor.account, template.template_id, template.page, values)
        _log.info("wechat subscribe message", channel=self.context.name, notification=event,
                  account=self._log_id(actor.account), sent=sent)
        return sent

    # --- helpers ------------------------------------------------------------------------------

    def _session(self, token: str | None) -> SessionRef:
        return self.gateway.sessions.credential(token, self.context.name)

    async def _open(self, actor: Actor) -> IssuedSession:
        return await self.gateway.sessions.open(actor, ttl_s=self.settings.session_ttl_s)

    def _log_id(self, openid: str) -> str:
        return self.gateway.pseudonyms.log_safe(openid)

    @classmethod
    def demo_kit(cls, stand_in_url: str) -> DemoKit:
        from adapters.wechat.demo import demo_kit

        return demo_kit(stand_in_url)
