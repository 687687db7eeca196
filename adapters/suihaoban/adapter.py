"""穗好办 glue: one signed endpoint in, the gateway's pipeline, the city app's envelope out.

``POST /channels/{channel}/invoke`` takes the signed JSON envelope of
CONTRACTS.md section 4.3 (``method`` = the operation id, ``bizContent`` = the
arguments, ``outBizNo`` inside it for writes), or the same fields as
multipart/form-data with one ``file`` part for ``uploads.create``. Checks run
in the contract's order: appId known -> sign (constant time) -> timestamp
±300 s -> nonce unseen for 600 s in (channel, appId), remembered only once its
signature checked. Then the ``userTicket``, if any, names the citizen; without
one only public operations pass the pipeline. Answers are always HTTP 200.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, cast

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from adapters.suihaoban import protocol
from adapters.suihaoban.usercenter import UserCenter, UserCenterSettings
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
    FieldError,
    GatewayError,
    HttpUrl,
    Outcome,
    SpooledUpload,
    check_timestamp,
    json_bytes,
    min_bytes,
    parse_json_object,
    parse_timestamp,
    read_body,
    read_upload,
    request_id_for,
    require_signature,
    same,
    set_outcome_headers,
)

UPLOAD_OPERATION = "uploads.create"
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class SuihaobanSettings(ChannelSettings):
    """Keys of a 穗好办 channel (adapters/suihaoban/README.md)."""

    app_id: str = Field(min_length=1, max_length=64, description="appId the city app registered for the court")
    app_secret_env: Annotated[EnvSecret, min_bytes(16)] = Field(description="HMAC key of the sign field")
    usercenter_base: HttpUrl = Field(description="the city user center (ticket verification below it)")
    ticket_cache_max_s: int = Field(default=1800, ge=1, le=1800,
                                    description="longest a verified ticket is trusted without asking again")
    usercenter_timeout_s: float = Field(default=5.0, gt=0, le=30, description="timeout of each ticket check")


class SuihaobanAdapter(Adapter):
    name = "suihaoban"
    settings_model = SuihaobanSettings
    idempotency_field = protocol.IDEMPOTENCY_FIELD

    def __init__(self, context: ChannelContext) -> None:
        super().__init__(context)
        s = self.settings
        self._secret = s.app_secret_env.value_bytes
        self._clock: Callable[[], float] = context.extras.get("clock", time.time)  # a test hook
        gateway = context.gateway
        self.user_center = UserCenter(
            UserCenterSettings(context.name, s.usercenter_base, s.ticket_cache_max_s, s.usercenter_timeout_s),
            gateway.http, gateway.state, gateway.pseudonyms, clock=self._clock,
        )

    @property
    def settings(self) -> SuihaobanSettings:
        return cast(SuihaobanSettings, self.context.settings)

    def routes(self) -> list[BaseRoute]:
        return [
            self.route("/invoke", self._invoke, ["POST"]),
            # Anything else still answers in the app's envelope, never a bare 404/405 page.
            self.route("/{rest:path}", _no_such_route, _ALL_METHODS),
        ]

    # --- the four methods ---------------------------------------------------------------------

    async def authenticate(self, request: Request) -> Credential:
        envelope = protocol.envelope_of(parse_json_object(await read_body(request), allow_empty=False))
        self._check_signature(envelope)
        await self._check_fresh(envelope)
        request.state.envelope = envelope
        return await self._ticket_holder(envelope)

    async def decode(self, request: Request, credential: Credential) -> Decoded:
        envelope: protocol.Envelope = request.state.envelope
        operation = self.operation(envelope.method)
        if operation.id == UPLOAD_OPERATION:
            raise GatewayError(ErrorCode.VALIDATION_FAILED, "uploads are sent as multipart/form-data",
                               [FieldError("file", "上传文件须以 multipart/form-data 方式提交。")])
        args, key = protocol.arguments_of(envelope)
        return Decoded(operation, args, key)

    def encode(self, outcome: Outcome, request_id: str) -> Response:
        return set_outcome_headers(_json(protocol.success_body(outcome.result)), outcome)

    def encode_error(self, error: GatewayError, request_id: str) -> Response:
        return _json(protocol.error_body(error, request_id))  # always HTTP 200 (section 4)

    # --- checks -------------------------------------------------------------------------------

    def _check_signature(self, envelope: protocol.Envelope) -> None:
        protocol.known_app(envelope, self.settings.app_id)
        protocol.signature_fields_present(envelope)
        require_signature(protocol.sign(envelope.sign_type, self._secret, envelope.fields), envelope.sign)

    async def _check_fresh(self, envelope: protocol.Envelope) -> None:
        check_timestamp(parse_timestamp(envelope.timestamp), now=self._clock())
        await self.gateway.nonces.claim(self.context.name, envelope.app_id, envelope.nonce)

    async def _ticket_holder(self, envelope: protocol.Envelope) -> Actor | None:
        ticket = envelope.user_ticket
        return None if ticket is None else await self.user_center.actor(ticket)

    # --- routes -------------------------------------------------------------------------------

    async def _invoke(self, request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            return await self._upload(request)
        return await self._run_operation(request)

    async def _upload(self, request: Request) -> Response:
        """uploads.create: the fields are signed as usual and ``fileSha256`` in bizContent binds the
        spooled file to the signature; a file that does not match is SIGNATURE_INVALID."""
        request_id = request_id_for(request)
        async with self.gateway.upload_slots.hold(request):
            # The signature travels in the form fields, so the multipart framing is read (with its
            # caps) to reach it; the file itself is looked into only after every check passed.
            upload = await read_upload(request)
            return await self._upload_spooled(request_id, upload)

    async def _upload_spooled(self, request_id: str, upload: SpooledUpload) -> Response:
        try:
            envelope = protocol.envelope_of(upload.fields)
            self._check_signature(envelope)
            if envelope.method != UPLOAD_OPERATION:
                raise GatewayError(ErrorCode.VALIDATION_FAILED, "multipart/form-data is for uploads.create only",
                                   [FieldError("method", "仅上传文件（uploads.create）使用 multipart/form-data。")])
            args, key = protocol.arguments_of(envelope)
            if not same(protocol.file_digest_of(args), upload.sha256):
                raise GatewayError(ErrorCode.SIGNATURE_INVALID, "the file is not the one signed for")
            await self._check_fresh(envelope)
            credential = await self._ticket_holder(envelope)
            decoded = Decoded(self.operation(UPLOAD_OPERATION), args, key)
            outcome = await self.run(decoded, credential, request_id, attachment=upload)
        finally:
            upload.file.close()
        return self.encode(outcome, request_id)

    # --- demo ---------------------------------------------------------------------------------

    @classmethod
    def demo_kit(cls, stand_in_url: str) -> DemoKit:
        from adapters.suihaoban.standins import demo_kit

        return demo_kit(stand_in_url)


async def _no_such_route(request: Request) -> Response:
    raise GatewayError(ErrorCode.NOT_FOUND, "no such route on this channel")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json_bytes(body), status_code=status, media_type="application/json")
