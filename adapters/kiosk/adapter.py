"""Kiosk glue: device-signed routes -> ID-card sessions -> the gateway pipeline -> screens and receipts.

Routes below ``/channels/{channel}`` (CONTRACTS.md section 4.4):

    POST   /sessions                                      ID-card read + face check -> an L3 session
    DELETE /sessions/{session_id}                         the card was taken out
    POST   /sessions/{session_id}/ops/{operation_id}      any canonical operation, body = arguments
    POST   /sessions/{session_id}/upload                  a scanned document (multipart: file, court)
    POST   /ops/{operation_id}                            public operations before a card is inserted

Every route first authenticates the device (known here, signature, timestamp,
nonce, in the contract's order). The session id the kiosk receives is the
gateway's session token, bound to this channel and to the device that opened
it; the person's data stays in the state store under the token's session id,
which idles out after ``idle_timeout_s`` (extended by every call in the
pipeline's round trip) and is deleted when the card is taken out.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from adapters.kiosk import identity, protocol
from adapters.kiosk.devices import DeviceKeys, DeviceRegistry
from adapters.kiosk.protocol import DeviceHeaders, Profile
from adapters.kiosk.receipts import Receipt, Stamp, receipt_of
from adapters.kiosk.screens import (
    CARD_REMOVED,
    Holder,
    Screen,
    Summary,
    advice_for,
    error_screen,
    goodbye_screen,
    screen_of,
    summarise,
    welcome_screen,
)
from adapters.kiosk.settings import KioskSettings
from adapters.kiosk.standins import demo_kit
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
    Operation,
    Outcome,
    SessionRef,
    SpooledUpload,
    attempt_key,
    check_timestamp,
    get_logger,
    json_bytes,
    json_result,
    limit_attempts,
    normalise_id_number,
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

_log = get_logger("court_gateway.kiosk")
_BODY = "kiosk_body"
_DEVICE = "kiosk_device"


class KioskAdapter(Adapter):
    name = "kiosk"
    settings_model = KioskSettings
    idempotency_field = protocol.IDEMPOTENCY_FIELD

    def __init__(self, context: ChannelContext) -> None:
        super().__init__(context)
        self.settings: KioskSettings = context.settings
        self.profile: Profile = self.settings.profile
        self.devices = DeviceRegistry(context.name, self.settings, self.gateway.pseudonyms.log_safe)

    async def startup(self) -> None:
        await self.devices.load_overlaps(self.gateway.state)

    def routes(self) -> list[BaseRoute]:
        return [
            self.route("/sessions", self.open_session, ["POST"]),
            self.route("/sessions/{session_id}", self.end_session, ["DELETE"]),
            self.route("/sessions/{session_id}/ops/{operation_id}", self.handle, ["POST"]),
            self.route("/sessions/{session_id}/upload", self.upload, ["POST"]),
            self.route("/ops/{operation_id}", self.handle, ["POST"]),
        ]

    @classmethod
    def demo_kit(cls, stand_in_url: str) -> DemoKit | None:
        return demo_kit(stand_in_url)

    # --- device authentication -----------------------------------------------------------------

    async def authenticate(self, request: Request) -> Credential:
        """The device (signed request), then the session named in the path, if any."""
        body = await read_body(request)
        setattr(request.state, _BODY, body)
        device = await self.signed_device(request, protocol.body_digest(body))
        return self.session_of(request, device) if "session_id" in request.path_params else None

    async def signed_device(self, request: Request, digest_hex: str,
                            headers: DeviceHeaders | None = None) -> DeviceKeys:
        """Known device -> signature -> timestamp within ±300 s -> nonce unseen (the contract's order)."""
        headers = headers or DeviceHeaders.of(request.headers)
        device = self.devices.lookup(headers.device_id)
        message = protocol.string_to_sign(request.method, signed_target(request), headers.timestamp, headers.nonce,
                                          digest_hex)
        if not protocol.signature_matches(device.keys_at(time.time()), headers.signature, message):
            raise GatewayError(ErrorCode.SIGNATURE_INVALID, "device signature does not match")
        check_timestamp(parse_timestamp(headers.timestamp))
        await self.gateway.nonces.claim(self.context.name, device.device_id, headers.nonce)
        setattr(request.state, _DEVICE, device)
        return device

    def session_of(self, request: Request, device: DeviceKeys) -> SessionRef:
        """The session token in the path, valid only on this channel and from the device that opened it."""
        return self.gateway.sessions.credential(request.path_params["session_id"], self.context.name,
                                                self.settings.idle_timeout_s, binding=device.device_id)

    # --- sessions ------------------------------------------------------------------------------

    async def open_session(self, request: Request) -> Response:
        body = await read_body(request)
        device = await self.signed_device(request, protocol.body_digest(body))
        read = identity.parse_request(parse_json_object(body, allow_empty=False))
        await self._limit_face_checks(device, read)
        try:
            person = identity.verify(read, face_threshold=self.settings.face_threshold,
                                     today=identity.beijing_today())
        except GatewayError as refused:
            # The outcome of the check (which one failed, the score), never whose card it was.
            _log.info("kiosk identity refused", channel=self.context.name, device=device.device_id,
                      reason=refused.extra.get("reason"), face_score=read.face.similarity)
            raise
        actor = person_actor(self.gateway.pseudonyms, channel=self.context.name, assurance="L3", name=person.name,
                             id_type="ID_CARD", id_number=person.id_number, phone=person.phone)
        issued = await self.gateway.sessions.open(actor, ttl_s=self.settings.session_max_s,
                                                  idle_timeout_s=self.settings.idle_timeout_s,
                                                  binding=device.device_id)
        _log.info("kiosk session opened", channel=self.context.name, device=device.device_id, actor=actor.sub,
                  face_passed=True, face_score=person.face_score)
        data = {"session_id": issued.token, "idle_timeout_s": self.settings.idle_timeout_s, "assurance": "L3",
                "expires_in": issued.expires_in}
        screen = welcome_screen(holder_of(actor), self.settings.idle_timeout_s)
        return self.respond(protocol.success(self.profile, data, screen, None))

    async def _limit_face_checks(self, device: DeviceKeys, read: identity.SessionRequest) -> None:
        """Each session is an ID card and face check: bounded per terminal and per card, so neither a
        stolen terminal key nor a found card can try faces without end."""
        state, name = self.gateway.state, self.context.name
        await limit_attempts(state, attempt_key("face-device", name, device.device_id),
                             self.settings.face_checks_per_device, "face checks at this terminal")
        card = self.gateway.pseudonyms.person("ID_CARD", normalise_id_number(read.id_card.id_number))
        await limit_attempts(state, attempt_key("face-card", name, card), self.settings.face_checks_per_card,
                             "face checks for this ID card")

    async def end_session(self, request: Request) -> Response:
        """The card was taken out: the session and the person's data in the state store are gone."""
        body = await read_body(request)
        device = await self.signed_device(request, protocol.body_digest(body))
        try:
            ref = self.session_of(request, device)
        except GatewayError as exc:
            if exc.code is not ErrorCode.SESSION_EXPIRED:
                raise
            ref = None  # past its maximum life: its record has expired with it
        if ref is not None:
            await self.gateway.sessions.end(ref)
            # Remembered (by a digest, never the token) so the next call says the card was taken out.
            await self.gateway.state.set(_removed_key(request.path_params["session_id"]), b"1",
                                         ttl_s=self.settings.session_max_s)
            _log.info("kiosk session ended", channel=self.context.name, device=device.device_id, actor=ref.sub)
        return self.respond(protocol.success(self.profile, {"ended": True}, goodbye_screen(), None))

    # --- operations ----------------------------------------------------------------------------

    async def decode(self, request: Request, credential: Credential) -> Decoded:
        op = self.operation(request.path_params["operation_id"])
        args = parse_json_object(getattr(request.state, _BODY, b""))
        return Decoded(op, args, take_txn_id(args))

    async def handle(self, request: Request) -> Response:
        request_id = request_id_for(request)
        try:
            credential = await self.authenticate(request)
            decoded = await self.decode(request, credential)
            outcome = await self.run(decoded, credential, request_id)
        except GatewayError as exc:
            raise await self._why_expired(request, exc) from None
        return self.render(decoded.operation, decoded.args, outcome, getattr(request.state, _DEVICE))

    async def _why_expired(self, request: Request, error: GatewayError) -> GatewayError:
        """A session that ended because its card was taken out says so, rather than "timed out"."""
        session_id = request.path_params.get("session_id")
        if error.code is not ErrorCode.SESSION_EXPIRED or not session_id:
            return error
        if await self.gateway.state.get(_removed_key(session_id)) is None:
            return error
        return GatewayError(ErrorCode.SESSION_EXPIRED, "card taken out", extra={**error.extra, "reason": CARD_REMOVED})

    async def upload(self, request: Request) -> Response:
        """A document scanned at the kiosk, streamed to the court like any upload (never held whole)."""
        headers = DeviceHeaders.of(request.headers)
        self.devices.lookup(headers.device_id)  # an unknown device gets no chance to send 20 MiB
        async with self.gateway.upload_slots.hold(request):
            digest = hashlib.sha256()
            raw = await spool_body(request, digest.update)
            try:
                # The signature covers the raw body: checked before a byte of it is parsed.
                device = await self.signed_device(request, digest.hexdigest(), headers)
                credential = self.session_of(request, device)
            except BaseException:
                raw.close()
                raise
            spooled = await parse_upload(request, raw)
            return await self._upload_spooled(request, spooled, device, credential)

    async def _upload_spooled(self, request: Request, spooled: SpooledUpload, device: DeviceKeys,
                              credential: Credential) -> Response:
        try:
            args = {"court": spooled.fields.get("court", "")}
            decoded = Decoded(self.operation("uploads.create"), args, spooled.fields.get(protocol.IDEMPOTENCY_FIELD))
            outcome = await self.run(decoded, credential, request_id_for(request), attachment=spooled)
        finally:
            close(spooled)
        return self.render(decoded.operation, args, outcome, device)

    # --- answers -------------------------------------------------------------------------------

    def render(self, op: Operation | None, args: dict[str, Any], outcome: Outcome,
               device: DeviceKeys | None) -> Response:
        data = json_result(outcome.result)
        summary = summarise(op.id if op else "", args, data, is_queued=outcome.queued)
        receipt = self.receipt(summary, outcome.actor, device) if summary.keep else None
        screen = screen_of(summary, can_print=receipt is not None)
        return set_outcome_headers(self.respond(protocol.success(self.profile, data, screen, receipt)), outcome)

    def receipt(self, summary: Summary, actor: Actor | None, device: DeviceKeys | None) -> Receipt | None:
        stamp = Stamp(holder_of(actor), datetime.now(identity.BEIJING), device.device_id if device else "",
                      device.location if device else "")
        return receipt_of(summary, stamp)

    def encode(self, outcome: Outcome, request_id: str) -> Response:
        """An outcome without its operation at hand: the generic summary of the result."""
        return self.render(None, {}, outcome, None)

    def encode_error(self, error: GatewayError, request_id: str) -> Response:
        screen: Screen = error_screen(error)
        message = advice_for(error).message
        body = protocol.failure(self.profile, error, message, screen, request_id)
        return self.respond(body, protocol.http_status(error))

    @staticmethod
    def respond(body: dict[str, Any], status: int = 200) -> Response:
        return Response(json_bytes(body), status_code=status, media_type="application/json")


# --- helpers -----------------------------------------------------------------------------------------


def take_txn_id(args: dict[str, Any]) -> str | None:
    """The idempotency field leaves the arguments before they are forwarded (a transport field)."""
    value = args.pop(protocol.IDEMPOTENCY_FIELD, None)
    if value is None or isinstance(value, str):
        return value
    raise GatewayError(ErrorCode.VALIDATION_FAILED, "txn_id must be a string",
                       [FieldError(protocol.IDEMPOTENCY_FIELD, "交易流水号须为字符串。")])


def holder_of(actor: Actor | None) -> Holder:
    if actor is None:
        return Holder()
    return Holder.masked(actor.name, actor.id_number, actor.phone)


def close(spooled: SpooledUpload) -> None:
    spooled.file.close()


def _removed_key(session_id: str) -> str:
    return "kiosk:removed:" + hashlib.sha256(session_id.encode()).hexdigest()
