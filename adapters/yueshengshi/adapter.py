"""粤省事 glue: signed requests in, the gateway's pipeline, the platform's envelope out.

Routes below ``/channels/{channel}``::

    POST /login                    {"code"} -> a session (user_token) for the person the IdP vouched for
    POST /logout                   X-Dgi-User-Token -> the session ends
    POST /gateway/{operation_id}   X-Dgi-User-Token, body = arguments (+ "reqSeq" for writes);
                                   uploads.create takes multipart/form-data (file, court, reqSeq?)

Every request passes the signature checks first, in the contract's order:
app id known -> signature (constant time) -> timestamp ±300 s -> nonce unseen
for 600 s in (channel, app), the nonce remembered only once its signature
checked. The platform has no push service; citizens hear back by SMS to the
``phone_number`` their identity carried, which the session keeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, cast

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from adapters.yueshengshi import protocol
from adapters.yueshengshi.idp import IdentityPlatform, IdpSettings
from gateway import (
    Actor,
    Adapter,
    ChannelContext,
    ChannelSettings,
    Credential,
    Decoded,
    DemoKit,
    EnvSecret,
    ErrorCode,
    GatewayError,
    HttpUrl,
    Outcome,
    SessionRef,
    SpooledUpload,
    account_actor,
    check_timestamp,
    get_logger,
    json_bytes,
    min_bytes,
    parse_json_object,
    parse_timestamp,
    parse_upload,
    person_actor,
    read_body,
    request_id_for,
    require_signature,
    set_outcome_headers,
    spool_body,
)

_log = get_logger("court_gateway.channel.yueshengshi")
UPLOAD_OPERATION = "uploads.create"
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class YueshengshiSettings(ChannelSettings):
    """Keys of a 粤省事 channel (adapters/yueshengshi/README.md)."""

    app_id: str = Field(min_length=1, max_length=64, description="app id the platform registered (X-Dgi-Req-App)")
    app_secret_env: Annotated[EnvSecret, min_bytes(16)] = Field(description="HMAC key of request signatures")
    sign_algorithm: protocol.SignAlgorithm = Field(default="hmac-sm3", description="hmac-sm3 or hmac-sha256")
    idp_base: HttpUrl = Field(description="the provincial identity platform (token and JWKS endpoints below it)")
    client_id: str = Field(min_length=1, max_length=128, description="the gateway's OAuth client id at the IdP")
    client_secret_env: EnvSecret = Field(description="the gateway's OAuth client secret at the IdP")
    session_ttl_s: int = Field(default=7200, ge=300, le=86400, description="lifetime of a user_token")
    jwks_cache_s: int = Field(default=3600, ge=60, le=86400, description="how long the IdP's keys are cached")
    idp_timeout_s: float = Field(default=5.0, gt=0, le=30, description="timeout of each call to the IdP")


class YueshengshiAdapter(Adapter):
    name = "yueshengshi"
    settings_model = YueshengshiSettings
    idempotency_field = protocol.IDEMPOTENCY_FIELD

    def __init__(self, context: ChannelContext) -> None:
        super().__init__(context)
        s = self.settings
        self._secret = s.app_secret_env.value_bytes
        # Test hooks: a wall clock for timestamps and id_token expiry, a monotonic one for key caching.
        self._clock: Callable[[], float] = context.extras.get("clock", time.time)
        idp = IdpSettings(s.idp_base, s.client_id, s.client_secret_env.value, s.jwks_cache_s, s.idp_timeout_s)
        self.idp = IdentityPlatform(idp, context.gateway.http,
                                    monotonic=context.extras.get("monotonic", time.monotonic), clock=self._clock)

    @property
    def settings(self) -> YueshengshiSettings:
        return cast(YueshengshiSettings, self.context.settings)

    def routes(self) -> list[BaseRoute]:
        return [
            self.route("/login", self._login, ["POST"]),
            self.route("/logout", self._logout, ["POST"]),
            self.route("/gateway/{operation_id}", self._gateway, ["POST"]),
            # Anything else still answers in the platform's envelope, never a bare 404/405 page.
            self.route("/{rest:path}", _no_such_route, _ALL_METHODS),
        ]

    # --- the four methods ---------------------------------------------------------------------

    async def authenticate(self, request: Request) -> Credential:
        # The body is parsed (in decode) only once it is known to come from the platform.
        request.state.body = await self._signed_body(request)
        return self._credential(request)

    async def decode(self, request: Request, credential: Credential) -> Decoded:
        operation = self.operation(request.path_params["operation_id"])
        args, key = protocol.split_arguments(parse_json_object(request.state.body))
        return Decoded(operation, args, key)

    def encode(self, outcome: Outcome, request_id: str) -> Response:
        return set_outcome_headers(_json(protocol.success_body(outcome.result)), outcome)

    def encode_error(self, error: GatewayError, request_id: str) -> Response:
        return _json(protocol.error_body(error, request_id), protocol.http_status(error.code))

    # --- signatures ---------------------------------------------------------------------------

    async def _signed_body(self, request: Request) -> bytes:
        """The body, read once and bounded, after every signature check passed."""
        headers = self._known_app(request)
        body = await read_body(request)
        await self._verify(request, headers, protocol.body_digest(self.settings.sign_algorithm, body))
        return body

    def _known_app(self, request: Request) -> protocol.SignedHeaders:
        return protocol.signed_headers(request.headers, self.settings.app_id)

    async def _verify(self, request: Request, headers: protocol.SignedHeaders, body_digest_hex: str) -> None:
        path = protocol.request_path(request.scope.get("raw_path") or request.url.path.encode("utf-8"),
                                     request.scope.get("query_string", b""))
        expected = protocol.signature(self.settings.sign_algorithm, self._secret, request.method, path,
                                      headers.timestamp, headers.nonce, body_digest_hex)
        require_signature(expected, headers.signature)
        check_timestamp(parse_timestamp(headers.timestamp, milliseconds=True), now=self._clock())
        await self.gateway.nonces.claim(self.context.name, headers.app, headers.nonce)

    def _credential(self, request: Request) -> SessionRef | None:
        token = request.headers.get(protocol.HEADER_USER_TOKEN)
        if not token:
            return None  # public operations need nobody; the pipeline refuses the rest
        return self.gateway.sessions.credential(token, self.context.name)

    # --- routes -------------------------------------------------------------------------------

    async def _login(self, request: Request) -> Response:
        body = await self._signed_body(request)
        identity = await self.idp.identity(protocol.login_code(parse_json_object(body)))
        actor = self._actor(identity)
        issued = await self.gateway.sessions.open(actor, ttl_s=self.settings.session_ttl_s)
        _log.info("signed in", channel=self.context.name, sub=actor.sub, assurance=actor.assurance,
                  request_id=request_id_for(request))
        return _json(protocol.login_answer(issued.token, issued.expires_in, actor.assurance))

    def _actor(self, identity: protocol.Identity) -> Actor:
        pseudonyms = self.gateway.pseudonyms
        if identity.assurance == "L1" or identity.name is None or identity.id_number is None:
            return account_actor(pseudonyms, channel=self.context.name, account=identity.account,
                                 phone=identity.phone)
        return person_actor(pseudonyms, channel=self.context.name, assurance=identity.assurance,
                            name=identity.name, id_type=identity.id_type, id_number=identity.id_number,
                            phone=identity.phone, account=identity.account)

    async def _logout(self, request: Request) -> Response:
        await self._signed_body(request)
        credential = self._credential(request)
        if credential is None:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "X-Dgi-User-Token is missing")
        await self.gateway.sessions.end(credential)
        return _json(protocol.success_body(None))

    async def _gateway(self, request: Request) -> Response:
        if request.path_params["operation_id"] == UPLOAD_OPERATION:
            return await self._upload(request)
        return await self._run_operation(request)

    async def _upload(self, request: Request) -> Response:
        """uploads.create: the multipart body is spooled to disk while DIGEST(body) is computed over
        the very bytes received, then the signature is checked before anything reaches a court."""
        request_id = request_id_for(request)
        headers = self._known_app(request)
        async with self.gateway.upload_slots.hold(request):
            digest = protocol.BodyDigest(self.settings.sign_algorithm)
            raw = await spool_body(request, digest.update)
            try:
                # The signature covers the raw body: checked before a byte of it is parsed.
                await self._verify(request, headers, digest.hexdigest())
            except BaseException:
                raw.close()
                raise
            upload = await parse_upload(request, raw)
            return await self._upload_spooled(request, request_id, upload)

    async def _upload_spooled(self, request: Request, request_id: str, upload: SpooledUpload) -> Response:
        try:
            credential = self._credential(request)
            args, key = protocol.split_arguments(dict(upload.fields))
            decoded = Decoded(self.operation(UPLOAD_OPERATION), args, key)
            outcome = await self.run(decoded, credential, request_id, attachment=upload)
        finally:
            upload.file.close()
        return self.encode(outcome, request_id)

    # --- demo ---------------------------------------------------------------------------------

    @classmethod
    def demo_kit(cls, stand_in_url: str) -> DemoKit:
        from adapters.yueshengshi.standins import demo_kit

        return demo_kit(stand_in_url)


async def _no_such_route(request: Request) -> Response:
    raise GatewayError(ErrorCode.NOT_FOUND, "no such route on this channel")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json_bytes(body), status_code=status, media_type="application/json")
