"""The example terminal's adapter: signed requests -> a signed-in person -> the gateway's pipeline.

Routes below ``/channels/{channel}``::

    POST /sign-in              {"name", "id_number", "phone"?} -> an L2 session (staff checked the ID card)
    POST /sign-out             ends the session in X-Terminal-Session
    POST /ops/{operation_id}   {"args": {...}, "request_key"?} -> the canonical result
    POST /upload               multipart: ``file`` and the fields ``court``, ``request_key``

Every route checks the terminal first (known here, signature, time within ±300 s, nonce unseen,
in that order) and parses nothing of the body before its signature has checked. Everything
after ``decode`` (routing, assurance, participant checks, idempotency, limits, retries, audit)
is the gateway's, the same for every channel.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from example_terminal import protocol
from example_terminal.settings import TerminalSettings
from example_terminal.standins import demo_kit
from gateway import (
    Adapter,
    ChannelContext,
    Credential,
    Decoded,
    DemoKit,
    ErrorCode,
    FieldError,
    GatewayError,
    Outcome,
    SessionRef,
    check_timestamp,
    get_logger,
    is_valid_resident_id,
    json_bytes,
    json_result,
    normalise_id_number,
    normalise_mobile,
    parse_json_object,
    parse_timestamp,
    parse_upload,
    person_actor,
    read_body,
    request_id_for,
    set_outcome_headers,
    signed_target,
    spool_body,
)

_log = get_logger("example_terminal")
_BODY = "example_terminal_body"


class ExampleTerminalAdapter(Adapter):
    name = "example_terminal"
    settings_model = TerminalSettings
    idempotency_field = protocol.IDEMPOTENCY_FIELD

    def __init__(self, context: ChannelContext) -> None:
        super().__init__(context)
        self.settings: TerminalSettings = context.settings
        self.keys = {tid: t.key_env.value_bytes for tid, t in self.settings.terminals.items()}

    def routes(self) -> list[BaseRoute]:
        return [
            self.route("/sign-in", self.sign_in, ["POST"]),
            self.route("/sign-out", self.sign_out, ["POST"]),
            self.route("/ops/{operation_id}", self.handle, ["POST"]),
            self.route("/upload", self.upload, ["POST"]),
        ]

    @classmethod
    def demo_kit(cls, stand_in_url: str) -> DemoKit | None:
        return demo_kit()

    # --- the terminal ------------------------------------------------------------------------------

    async def signed_terminal(self, request: Request, body_sha256_hex: str) -> str:
        """The terminal's id once known, signature, time and nonce have checked, in that order."""
        headers = protocol.SignedHeaders.of(request.headers)
        key = self.keys.get(headers.terminal_id)
        if key is None:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "unknown terminal")
        protocol.require_valid(key, headers, request.method, signed_target(request), body_sha256_hex)
        check_timestamp(parse_timestamp(headers.time))
        await self.gateway.nonces.claim(self.context.name, headers.terminal_id, headers.nonce)
        return headers.terminal_id

    def session_of(self, request: Request, terminal_id: str) -> SessionRef:
        """The session in X-Terminal-Session: this channel's, opened at this terminal, not expired."""
        return self.gateway.sessions.credential(request.headers.get(protocol.SESSION), self.context.name,
                                                binding=terminal_id)

    # --- the four methods ----------------------------------------------------------------------------

    async def authenticate(self, request: Request) -> Credential:
        body = await read_body(request)
        setattr(request.state, _BODY, body)
        terminal_id = await self.signed_terminal(request, hashlib.sha256(body).hexdigest())
        # Public operations (courts, fees) need no one signed in.
        return self.session_of(request, terminal_id) if protocol.SESSION in request.headers else None

    async def decode(self, request: Request, credential: Credential) -> Decoded:
        operation = self.operation(request.path_params["operation_id"])
        args, key = protocol.open_envelope(parse_json_object(getattr(request.state, _BODY)))
        return Decoded(operation, args, key)

    def encode(self, outcome: Outcome, request_id: str) -> Response:
        return set_outcome_headers(_json(protocol.success(json_result(outcome.result))), outcome)

    def encode_error(self, error: GatewayError, request_id: str) -> Response:
        return _json(protocol.failure(error, request_id), error.status)

    # --- sessions ----------------------------------------------------------------------------------

    async def sign_in(self, request: Request) -> Response:
        """Counter staff have checked the person's ID card: the terminal vouches for it (L2)."""
        body = await read_body(request)
        terminal_id = await self.signed_terminal(request, hashlib.sha256(body).hexdigest())
        name, id_number, phone = _identity(parse_json_object(body, allow_empty=False))
        actor = person_actor(self.gateway.pseudonyms, channel=self.context.name, assurance="L2", name=name,
                             id_type="ID_CARD", id_number=id_number, phone=phone)
        issued = await self.gateway.sessions.open(actor, ttl_s=self.settings.session_ttl_s, binding=terminal_id)
        _log.info("terminal sign-in", channel=self.context.name, terminal=terminal_id, actor=actor.sub)
        return _json(protocol.success({"session": issued.token, "assurance": "L2", "expires_in": issued.expires_in}))

    async def sign_out(self, request: Request) -> Response:
        body = await read_body(request)
        terminal_id = await self.signed_terminal(request, hashlib.sha256(body).hexdigest())
        await self.gateway.sessions.end(self.session_of(request, terminal_id))
        return _json(protocol.success({"ended": True}))

    # --- uploads -----------------------------------------------------------------------------------

    async def upload(self, request: Request) -> Response:
        """A scanned document: spooled to disk while hashed, parsed only once the signature checked."""
        async with self.gateway.upload_slots.hold(request):
            digest = hashlib.sha256()
            raw = await spool_body(request, digest.update)
            try:
                terminal_id = await self.signed_terminal(request, digest.hexdigest())
                credential = self.session_of(request, terminal_id)
            except BaseException:
                raw.close()
                raise
            spooled = await parse_upload(request, raw)
            try:
                decoded = Decoded(self.operation("uploads.create"), {"court": spooled.fields.get("court", "")},
                                  spooled.fields.get(protocol.IDEMPOTENCY_FIELD))
                outcome = await self.run(decoded, credential, request_id_for(request), attachment=spooled)
            finally:
                spooled.file.close()
        return self.encode(outcome, request_id_for(request))


def _identity(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """(name, ID number, mobile) of a sign-in; each malformed one is refused with its own code."""
    name, id_number, phone = body.get("name"), body.get("id_number"), body.get("phone")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 60:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "name", [FieldError("name", "请填写姓名。")])
    if not isinstance(id_number, str) or not is_valid_resident_id(id_number):
        raise GatewayError(ErrorCode.INVALID_ID_NUMBER, "id_number", [FieldError("id_number", "身份证号码有误。")])
    mobile = normalise_mobile(phone) if isinstance(phone, str) else None
    if phone is not None and mobile is None:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "phone", [FieldError("phone", "手机号码有误。")])
    return name.strip(), normalise_id_number(id_number), mobile


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json_bytes(body), status_code=status, media_type="application/json")
