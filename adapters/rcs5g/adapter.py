"""The rcs5g adapter: a carrier's 5G message platform (MaaP) calls back, the gateway answers through its API.

    GET  /notify?echoStr=X     signed over an empty body -> X (the platform's check of the callback URL)
    POST /notify/messages      an inbound message -> {"code": 0} at once; the reply goes out as an outbound message
    POST /notify/delivery      a delivery report -> {"code": 0}; a notification the platform could not deliver
                               and did not send as SMS itself goes out by SMS, once

Every callback is checked in the signed-channel order (CONTRACTS.md section 4)
before a byte of it is parsed: signature (HMAC-SHA256 under the callback
token), timestamp (milliseconds, within ±300 s), nonce (unseen for 600 s, in
the shared state store); a failure is HTTP 401 ``{"code": "<name>"}``. An
inbound ``messageId`` is claimed in the state store, so a message the platform
delivers twice is acknowledged and not processed again.

The conversation (dialogue.py) runs after the answer, in a background task of
this process: the person's messages are handled one at a time, and each reply
is sent with retries (the platform being briefly down costs a delay, not the
reply); a reply that still cannot be sent is logged as an error with its
message id, never dropped silently, and shutdown waits for replies in flight.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import secrets
from collections.abc import Awaitable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from adapters.rcs5g import files, protocol
from adapters.rcs5g.cards import menu_chips
from adapters.rcs5g.conversation import Conversations
from adapters.rcs5g.dialogue import Dialogue, Ran, Said
from adapters.rcs5g.maap import MaapClient, Platform, SendRefused
from adapters.rcs5g.notices import Notices
from adapters.rcs5g.protocol import FileInfo, Inbound, Reply
from adapters.rcs5g.settings import Rcs5gSettings
from gateway import (
    Actor,
    Adapter,
    ChannelContext,
    Credential,
    Decoded,
    DemoKit,
    ErrorCode,
    GatewayError,
    Outcome,
    RateCheck,
    StateUnavailable,
    account_actor,
    caller_number,
    check_timestamp,
    get_logger,
    json_bytes,
    normalise_mobile,
    parse_json_object,
    parse_timestamp,
    read_body,
    request_id_for,
    require_signature,
    verify_case_password,
)

_log = get_logger("court_gateway.rcs5g")
MAX_CALLBACK_BYTES = 64 * 1024
#: how long an inbound messageId is remembered (platforms redeliver within minutes, not days)
SEEN_TTL_S = 2 * 24 * 3600
#: pauses before each further try of an outbound message
RETRY_PAUSES_S = (0.5, 2.0, 5.0, 15.0, 30.0, 60.0, 60.0, 60.0, 60.0)
DRAIN_S = 10.0
REPLAY_CODES = (ErrorCode.SIGNATURE_INVALID, ErrorCode.REPLAYED_REQUEST)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json_bytes(body), status_code=status, media_type="application/json")


def _acknowledged(*, replayed: bool = False) -> Response:
    """``{"code": 0}``; a message id seen before is flagged ``Idempotent-Replayed: true`` as a canonical
    replay is (section 3): the platform's redelivery was recognised and not processed again."""
    answer = _json({"code": 0})
    if replayed:
        answer.headers["Idempotent-Replayed"] = "true"
    return answer


def write_key(message_id: str) -> str:
    """A write's idempotency key, from the inbound message that asked for it (printable ASCII, any id)."""
    return "rcs5g-" + hashlib.sha256(message_id.encode()).hexdigest()[:40]


class Rcs5gAdapter(Adapter):
    name = "rcs5g"
    settings_model = Rcs5gSettings
    idempotency_field = "messageId"  # writes are keyed by the inbound message that asked for them

    def __init__(self, context: ChannelContext) -> None:
        super().__init__(context)
        settings: Rcs5gSettings = context.settings
        self.settings = settings
        self._token = settings.callback_token_env.value_bytes
        platform = Platform(settings.maap_base, settings.chatbot_id, settings.app_id, settings.app_key_env.value,
                            settings.timeout_s)
        self.maap = MaapClient(self.gateway.http, self.gateway.state, platform)
        self._conversations = Conversations(self.gateway.state, context.name, settings.idle_timeout_s)
        self._notices = Notices(self)
        self._background: set[asyncio.Task[None]] = set()
        self._people: dict[str, tuple[asyncio.Lock, int]] = {}  # one message at a time per person, here
        self._fetches = asyncio.Semaphore(4)
        self._pauses = context.extras.get("retry_pauses_s", RETRY_PAUSES_S)

    # --- routes ------------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            self.route("/notify", self._echo, methods=["GET"]),
            self.route("/notify/messages", self._messages, methods=["POST"]),
            self.route("/notify/delivery", self._delivery, methods=["POST"]),
        ]

    async def _echo(self, request: Request) -> Response:
        await self._verified_body(request)
        echo = protocol.echo_value(request.query_params.get("echoStr"))
        return Response(echo, media_type="text/plain")

    async def _messages(self, request: Request) -> Response:
        body = await self._verified_body(request)
        document = parse_json_object(body, allow_empty=False)
        try:
            inbound = protocol.parse_inbound(document)
        except GatewayError as exc:
            await self._refuse_in_words(document, exc, request_id_for(request))
            raise
        number = caller_number(inbound.sender)
        if number is None:
            # The carrier asserts the number; without one there is nobody to answer or to lock out.
            _log.warning("inbound message without a usable sender number", channel=self.context.name)
            return _acknowledged()
        if not await self._first_time(inbound.message_id):
            _log.info("inbound message seen before: acknowledged, not processed", channel=self.context.name,
                      message=self.gateway.pseudonyms.log_safe(inbound.message_id))
            return _acknowledged(replayed=True)
        self.spawn(self._converse(inbound, number, request_id_for(request)))
        return _acknowledged()

    async def _refuse_in_words(self, document: dict[str, Any], error: GatewayError, request_id: str) -> None:
        """A message the chatbot cannot read (a voice note, a malformed chip response) still gets an answer:
        the code's message and the menu's chips, once per messageId, as every reply."""
        address = protocol.reply_address(document)
        number = caller_number(address[1]) if address is not None else None
        if address is None or number is None or not await self._first_time(address[0]):
            return
        _log.info("inbound message not readable: answered in words", channel=self.context.name,
                  request_id=request_id, code=error.code.value)
        reply = protocol.error_reply(error, menu_chips(self.settings.hotline))
        self.spawn(self._send_reply(reply, number, address[0]))

    async def _send_reply(self, reply: Reply, number: str, correlator: str) -> None:
        await self.deliver(reply, protocol.tel_uri(number), correlator=correlator)

    async def _delivery(self, request: Request) -> Response:
        body = await self._verified_body(request)
        report = protocol.parse_delivery(parse_json_object(body, allow_empty=False))
        await self._notices.reported(report)
        return _acknowledged()

    # --- the four methods --------------------------------------------------------------------------

    async def authenticate(self, request: Request) -> Credential:
        """The platform itself, by its callback signature; the person is the carrier-asserted sender."""
        await self._verified_body(request)
        return None

    async def decode(self, request: Request, credential: Credential) -> Decoded:
        raise GatewayError(ErrorCode.NOT_FOUND, "5G messages reach operations through the conversation only")

    def encode(self, outcome: Outcome, request_id: str) -> Response:
        return _acknowledged()

    def encode_error(self, error: GatewayError, request_id: str) -> Response:
        return _json({"code": error.code.value}, 401 if error.code in REPLAY_CODES else 200)

    # --- callbacks ---------------------------------------------------------------------------------

    async def _verified_body(self, request: Request) -> bytes:
        """The raw body, once its signature, timestamp and nonce checked (in that order)."""
        cached = request.scope.get("rcs5g.body")
        if isinstance(cached, bytes):
            return cached
        body = await read_body(request, MAX_CALLBACK_BYTES)
        headers = request.headers
        timestamp = headers.get(protocol.TIMESTAMP_HEADER, "")
        nonce = headers.get(protocol.NONCE_HEADER, "")
        seconds = parse_timestamp(timestamp, milliseconds=True)
        require_signature(protocol.callback_signature(self._token, timestamp, nonce, body),
                          headers.get(protocol.SIGNATURE_HEADER))
        check_timestamp(seconds)
        await self.gateway.nonces.claim(self.context.name, self.settings.chatbot_id, nonce)
        request.scope["rcs5g.body"] = body
        return body

    async def _first_time(self, message_id: str) -> bool:
        key = f"rcs5g:{self.context.name}:seen:" + hashlib.sha256(message_id.encode()).hexdigest()[:40]
        try:
            return await self.gateway.state.set(key, b"1", SEEN_TTL_S, only_if_absent=True)
        except StateUnavailable:
            # Without the shared record a redelivery could be processed twice: let the platform retry.
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None

    # --- the conversation --------------------------------------------------------------------------

    def spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @property
    def busy(self) -> int:
        """Conversations and SMS fallbacks still running in the background (drained by shutdown)."""
        return len(self._background)

    def pseudonym(self, number: str) -> str:
        return self.gateway.pseudonyms.account(self.context.name, "tel:" + number)

    async def _converse(self, inbound: Inbound, number: str, request_id: str) -> None:
        pseudonym = self.pseudonym(number)
        lock, users = self._people.get(pseudonym, (asyncio.Lock(), 0))
        self._people[pseudonym] = (lock, users + 1)
        try:
            async with lock:  # this process's messages of the person wait here, not polling the store
                replies = await self._answer(inbound, number, pseudonym, request_id)
                for reply in replies:
                    await self.deliver(reply, protocol.tel_uri(number), correlator=inbound.message_id)
        except Exception:  # noqa: BLE001 - a background task must not die silently
            _log.exception("inbound message not answered", channel=self.context.name, request_id=request_id,
                           message=self.gateway.pseudonyms.log_safe(inbound.message_id))
        finally:
            lock, users = self._people[pseudonym]
            if users <= 1:
                del self._people[pseudonym]  # nobody else waits: forget the person
            else:
                self._people[pseudonym] = (lock, users - 1)

    async def _answer(self, inbound: Inbound, number: str, pseudonym: str, request_id: str) -> list[Reply]:
        effects = _Effects(self, number, pseudonym, request_id)
        try:
            said = _said(inbound)
            async with self._conversations.turn(pseudonym):  # and other instances' messages of the person
                conversation = await self._conversations.load(pseudonym)
                conversation, replies = await Dialogue(effects).answer(conversation, said)
                await self._conversations.save(pseudonym, conversation)
        except GatewayError as exc:
            return [protocol.error_reply(exc, menu_chips(self.settings.hotline))]
        except Exception:  # noqa: BLE001 - a bug must still leave the person an answer, and a log line
            _log.exception("inbound message failed", channel=self.context.name, request_id=request_id)
            internal = GatewayError(ErrorCode.INTERNAL, "internal error")
            return [protocol.error_reply(internal, menu_chips(self.settings.hotline))]
        _log.info("rcs5g message answered", channel=self.context.name, request_id=request_id,
                  person=self.gateway.pseudonyms.log_safe(pseudonym), content=inbound.content_type,
                  stage=conversation.stage.value, replies=len(replies))
        return replies

    async def deliver(self, reply: Reply, to: str, *, correlator: str | None = None,
                      message_id: str | None = None) -> bool:
        """Send one outbound message, trying again while the platform is down; False once given up."""
        message_id = message_id or "cg-" + secrets.token_hex(12)
        message = self.maap_message(reply, message_id, to, correlator)
        try:
            return await self._send_with_retries(message, message_id)
        except asyncio.CancelledError:
            _log.error("outbound message not sent: the gateway is shutting down", channel=self.context.name,
                       message_id=message_id)
            raise

    async def _send_with_retries(self, message: dict[str, Any], message_id: str) -> bool:
        for attempt in range(self.settings.reply_attempts):
            try:
                await self.maap.send(message)
                return True
            except SendRefused as exc:
                _log.error("outbound message refused by the platform", channel=self.context.name,
                           message_id=message_id, status=exc.status)
                return False
            except GatewayError as exc:
                if attempt + 1 < self.settings.reply_attempts:
                    _log.warning("outbound message not sent yet; trying again", channel=self.context.name,
                                 message_id=message_id, detail=exc.detail, attempt=attempt + 1)
                    await asyncio.sleep(self._pauses[min(attempt, len(self._pauses) - 1)])
        _log.error("outbound message given up after every try", channel=self.context.name, message_id=message_id,
                   attempts=self.settings.reply_attempts)
        return False

    def maap_message(self, reply: Reply, message_id: str, to: str, correlator: str | None = None) -> dict[str, Any]:
        return protocol.outbound_message(reply, message_id=message_id, to=to, chatbot_id=self.settings.chatbot_id,
                                         correlator=correlator)

    # --- notifications -----------------------------------------------------------------------------

    async def notify(self, actor: Actor, event: str, data: dict[str, Any]) -> bool:
        """A card with ``smsSupported: true`` and its SMS version; see notices.py."""
        return await self._notices.send(actor, event, data)

    async def shutdown(self) -> None:
        if self._background:
            _, pending = await asyncio.wait(set(self._background), timeout=DRAIN_S)
            for task in pending:
                task.cancel()

    # --- operations for the dialogue ---------------------------------------------------------------

    async def run_operation(self, operation: str, args: dict[str, Any], actor: Actor, message_id: str,
                            request_id: str, **extra: Any) -> Outcome:
        op = self.operation(operation)
        decoded = Decoded(op, args, write_key(message_id) if op.is_write and "attachment" not in extra else None)
        return await self.run(decoded, actor, request_id, **extra)

    async def fetch(self, file: FileInfo) -> Any:
        async with self._fetches:
            return await files.fetch(self.gateway.http, file, hosts=self.settings.file_hosts,
                                     limit=self.settings.max_file_bytes, timeout_s=max(self.settings.timeout_s, 30.0))

    @classmethod
    def demo_kit(cls, stand_in_url: str) -> DemoKit | None:
        from adapters.rcs5g.standins import demo_kit

        return demo_kit(stand_in_url)


def _said(inbound: Inbound) -> Said:
    if inbound.content_type == protocol.CHIP_RESPONSE:
        _, data = protocol.chip_postback(inbound.body_text)
        return Said(inbound.message_id, postback=data)
    if inbound.content_type == protocol.FILE_TRANSFER:
        return Said(inbound.message_id, files=protocol.file_infos(inbound.body_text))
    return Said(inbound.message_id, text=inbound.body_text)


class _Effects:
    """What the dialogue needs done for one message of one person, through the gateway."""

    def __init__(self, adapter: Rcs5gAdapter, number: str, pseudonym: str, request_id: str) -> None:
        self._adapter = adapter
        self._number = number
        self._pseudonym = pseudonym
        self._request_id = request_id
        settings = adapter.settings
        self.hotline = settings.hotline
        self.max_password_attempts = settings.max_password_attempts
        self.lockout_minutes = max(1, settings.lockout_s // 60)
        guard = adapter.gateway.passwords
        assert guard is not None
        self._guard = guard
        self._channel = adapter.context.name

    def _caller(self) -> Actor:
        """The sender as the carrier asserts it: an L1 actor known by the number."""
        gateway = self._adapter.gateway
        return account_actor(gateway.pseudonyms, channel=self._channel, account=protocol.tel_uri(self._number),
                             phone=normalise_mobile(self._number))

    def court_name(self, court: str) -> str | None:
        return self._guard.court_names.get(court)

    def _lock_key(self) -> str:
        return f"rcs5g:{self._channel}:lock:{self._pseudonym}"

    async def number_locked(self) -> bool:
        return await _guarded(self._adapter.gateway.state.get(self._lock_key())) is not None

    async def court_paused(self, court: str) -> bool:
        return await self._guard.paused(court)

    async def verify(self, court: str, serial: str, password: str) -> dict[str, Any] | None:
        actor = await verify_case_password(self._adapter.gateway, court=court, serial=serial, password=password,
                                           caller=self._caller(), caller_number=self._number,
                                           request_id=self._request_id)
        if actor is None:
            return None
        # The number is the person's address on this channel: notifications come back here.
        return dataclasses.replace(actor, account=protocol.tel_uri(self._number)).to_record()

    async def password_failed(self) -> bool:
        settings = self._adapter.settings
        check = RateCheck(f"rcs5g:{self._channel}:pw:{self._pseudonym}", settings.max_password_attempts,
                          float(settings.lockout_s))
        hot = await _guarded(self._adapter.gateway.state.hot_path([check], []))
        return hot.rate is None or not hot.rate.allowed or hot.rate.remaining == 0

    async def court_password_failed(self, court: str) -> bool:
        return await self._guard.failed(court)

    async def lock_number(self) -> None:
        await _guarded(self._adapter.gateway.state.set(self._lock_key(), b"1", self._adapter.settings.lockout_s))

    async def run(self, operation: str, args: dict[str, Any], actor: dict[str, Any] | None,
                  message_id: str) -> Ran:
        who = Actor.from_record(actor) if actor is not None else self._caller()
        outcome = await self._adapter.run_operation(operation, args, who, message_id, self._request_id)
        return Ran(outcome.result, outcome.queued)

    async def upload(self, file: FileInfo, court: str, actor: dict[str, Any], message_id: str) -> dict[str, Any]:
        upload = await self._adapter.fetch(file)
        # A file is stored at the court for the person the password identified (uploads are the person's
        # own, not the case's); only a case-scoped submission of that case can use it afterwards.
        person = dataclasses.replace(Actor.from_record(actor), case_scope=None)
        try:
            outcome = await self._adapter.run_operation("uploads.create", {"court": court}, person, message_id,
                                                        self._request_id, attachment=upload)
        finally:
            upload.file.close()
        result = outcome.result
        if not isinstance(result, dict) or "upload_id" not in result:
            raise GatewayError(ErrorCode.BACKEND_UNAVAILABLE, "upload answered without an upload_id")
        return result


async def _guarded(awaitable: Awaitable[Any]) -> Any:
    try:
        return await awaitable
    except StateUnavailable:
        # Without the shared lockout, password guessing could not be cut off: refuse case services.
        raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None


__all__ = ["Rcs5gAdapter", "write_key"]
