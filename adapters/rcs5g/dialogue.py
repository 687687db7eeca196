"""The chatbot's conversation (CONTRACTS.md section 4.7) as decisions, free of I/O.

    any first message, 菜单 ──► menu card: 案件进展 开庭信息 缴费信息 诉讼费计算 文书模板 给法官留言 提交材料 人工服务(dial)
    case services ──► case number (typed, full- or half-width) ──► case query password ──► the service
                      (L2 for that case for the rest of the conversation: no password again)
    给法官留言 ──► the text ──► judge_messages.send (idempotency key from the inbound messageId)
    提交材料 ──► files ──► 作为证据/补充材料 ──► a note (or none) ──► materials.submit
    诉讼费计算 ──► case type ──► amount ──► fees.calculate;   文书模板 ──► a name ──► templates.list

The password rules are the 12368 ones: the court verifies it for the case with
that serial number; ``max_password_attempts`` wrong ones lock the number out
for ``lockout_s``; every wrong one counts against the court's budget across
all callers and channels. What needs doing (a court call, the lockouts, an
upload) goes through :class:`Effects`, which the adapter implements.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import Any, Protocol

from adapters.rcs5g import cards
from adapters.rcs5g.conversation import Conversation, Stage
from adapters.rcs5g.protocol import FileInfo, Reply, error_reply, typed
from gateway import CaseNumberError, ErrorCode, GatewayError, parse_case_number

PASSWORD_DIGITS = (4, 12)
MAX_NOTE = 2000


@dataclass(frozen=True)
class Said:
    """One inbound message: typed text, a tapped chip's postback, or files."""

    message_id: str
    text: str | None = None
    postback: str | None = None
    files: list[FileInfo] = field(default_factory=list)


@dataclass(frozen=True)
class Ran:
    """What one canonical operation answered."""

    result: Any
    queued: bool


class Effects(Protocol):
    hotline: str
    max_password_attempts: int
    lockout_minutes: int

    def court_name(self, court: str) -> str | None:
        """The configured court's name; None when the gateway serves no such court."""

    async def number_locked(self) -> bool: ...

    async def court_paused(self, court: str) -> bool: ...

    async def verify(self, court: str, serial: str, password: str) -> dict[str, Any] | None:
        """The case-scoped actor (as a record) the password opens, or None for a wrong password."""

    async def password_failed(self) -> bool:
        """Count a wrong password against the number; True when that locks it."""

    async def court_password_failed(self, court: str) -> bool:
        """Count a wrong password against the court's budget; True when that pauses the court."""

    async def lock_number(self) -> None: ...

    async def run(self, operation: str, args: dict[str, Any], actor: dict[str, Any] | None,
                  message_id: str) -> Ran:
        """Run a canonical operation (writes keyed by the inbound message id); GatewayError on failure."""

    async def upload(self, file: FileInfo, court: str, actor: dict[str, Any], message_id: str) -> dict[str, Any]:
        """Fetch a file message from the platform and create an upload; GatewayError on failure."""


Answer = tuple[Conversation, list[Reply]]


class Dialogue:
    def __init__(self, effects: Effects) -> None:
        self.effects = effects

    async def answer(self, conversation: Conversation | None, said: Said) -> Answer:
        first = conversation is None
        conv = conversation or Conversation()
        postback = said.postback or ""
        text = typed(said.text or "")
        if postback == cards.MENU or text in cards.MENU_WORDS or (conv.stage is Stage.MENU and
                                                                 text.lower() in cards.GREETINGS):
            return self._menu(conv)
        if postback == cards.SWITCH:
            conv = replace(conv, actor=None, stage=Stage.CASE_NO, service="progress", uploads=[], kind=None)
            return conv, [cards.ask(cards.ASK_CASE_NO)]
        service = postback.removeprefix("svc:") if postback.startswith("svc:") else _service_named(text)
        if service in cards.SERVICES:
            return await self._start(conv, service, said)
        if said.files:
            return await self._files(conv, said)
        if first:
            return self._menu(conv)
        try:
            return await self._at_stage(conv, said, text, postback)
        except GatewayError as exc:
            return self._failed(conv, exc)

    # --- entry points --------------------------------------------------------------------------

    def _menu(self, conv: Conversation, before: str = "") -> Answer:
        conv = replace(conv, stage=Stage.MENU, service=None, uploads=[], kind=None)
        return conv, [cards.menu(self.effects.hotline, before)]

    def _failed(self, conv: Conversation, error: GatewayError, *chip_services: str) -> Answer:
        chips = cards.back_chips(*chip_services) if chip_services else cards.menu_chips(self.effects.hotline)
        return replace(conv, stage=Stage.MENU), [error_reply(error, chips)]

    async def _start(self, conv: Conversation, service: str, said: Said) -> Answer:
        conv = replace(conv, service=None, uploads=[], kind=None)
        if service == "fees":
            return replace(conv, stage=Stage.FEE_TYPE), [cards.fee_type_question()]
        if service == "templates":
            return replace(conv, stage=Stage.TEMPLATE), [cards.ask(cards.ASK_TEMPLATE)]
        if conv.verified_case is not None:
            return await self._case_service(conv, service, said)
        if await self.effects.number_locked():
            return replace(conv, stage=Stage.MENU), [cards.locked(self.effects.lockout_minutes, self.effects.hotline)]
        return replace(conv, stage=Stage.CASE_NO, service=service), [cards.ask(cards.ASK_CASE_NO)]

    async def _case_service(self, conv: Conversation, service: str, said: Said) -> Answer:
        case_no = conv.verified_case
        assert case_no is not None
        if service == "message":
            return replace(conv, stage=Stage.MESSAGE, service=service), [cards.ask(cards.ASK_MESSAGE)]
        if service == "materials":
            return replace(conv, stage=Stage.FILES, service=service), [cards.ask(cards.ASK_FILES)]
        operation = cards.SERVICES[service][1]
        try:
            ran = await self.effects.run(operation, {"case_no": case_no}, conv.actor, said.message_id)
        except GatewayError as exc:
            return self._failed(conv, exc, service)
        card = {"progress": lambda: cards.progress_card(ran.result if isinstance(ran.result, dict) else {}),
                "hearings": lambda: cards.hearings_card(case_no, ran.result),
                "payments": lambda: cards.payments_card(case_no, ran.result)}[service]()
        return replace(conv, stage=Stage.MENU, service=None), [card]

    # --- stages --------------------------------------------------------------------------------

    async def _at_stage(self, conv: Conversation, said: Said, text: str, postback: str) -> Answer:
        if conv.stage is Stage.CASE_NO and text:
            return await self._on_case_no(conv, text)
        if conv.stage is Stage.MENU and _is_case_number(text):
            # A case number typed at the menu: its progress (its password first, unless it is the verified case).
            if parse_case_number(text).text == conv.verified_case:
                return await self._case_service(conv, "progress", said)
            return await self._on_case_no(replace(conv, actor=None, service="progress"), text)
        if conv.stage is Stage.PASSWORD and text:
            return await self._on_password(conv, text, said)
        if conv.stage is Stage.MESSAGE:
            return await self._on_message(conv, said)  # an empty message too: the gateway says what is wrong
        if conv.stage is Stage.FILES:
            return await self._on_files_stage(conv, postback)
        if conv.stage is Stage.NOTE and (text or postback == "note:none"):
            note = (said.text or "").strip()[:MAX_NOTE] if text else None
            return await self._submit_materials(conv, said, note)
        if conv.stage is Stage.FEE_TYPE and (text or postback.startswith("fee:")):
            case_type = postback.removeprefix("fee:") if postback.startswith("fee:") else text[:8]
            return replace(conv, stage=Stage.FEE_AMOUNT, fee_case_type=case_type), [cards.ask(cards.ASK_FEE_AMOUNT)]
        if conv.stage is Stage.FEE_AMOUNT and text:
            return await self._on_amount(conv, said, text)
        if conv.stage is Stage.TEMPLATE and text:
            ran = await self.effects.run("templates.list", {"q": text[:100]}, None, said.message_id)
            return replace(conv, stage=Stage.MENU), [cards.templates_card(ran.result)]
        return conv, [cards.ask(cards.NOT_UNDERSTOOD, cards.menu_chips(self.effects.hotline))]

    async def _on_case_no(self, conv: Conversation, text: str) -> Answer:
        try:
            case = parse_case_number(text)
        except CaseNumberError:
            return conv, [cards.refused(ErrorCode.INVALID_CASE_NUMBER, cards.NOT_A_CASE_NO)]
        if case.court is None:
            return conv, [cards.ask(cards.LEGACY_CASE_NO)]
        name = self.effects.court_name(case.court)
        if name is None:
            return conv, [cards.refused(ErrorCode.NOT_FOUND, cards.UNKNOWN_COURT)]
        if await self.effects.court_paused(case.court):
            return replace(conv, stage=Stage.MENU), [cards.court_paused(name, self.effects.hotline)]
        conv = replace(conv, stage=Stage.PASSWORD, court=case.court, case_no=case.text, serial=str(case.sequence))
        return conv, [cards.ask(f"{name}，案号{case.text}。" + cards.ASK_PASSWORD)]

    async def _on_password(self, conv: Conversation, password: str, said: Said) -> Answer:
        court, serial = conv.court, conv.serial
        assert court is not None and serial is not None
        effects = self.effects
        if await effects.number_locked():
            return replace(conv, stage=Stage.MENU), [cards.locked(effects.lockout_minutes, effects.hotline)]
        if await effects.court_paused(court):
            return replace(conv, stage=Stage.MENU), [cards.court_paused(effects.court_name(court) or "",
                                                                        effects.hotline)]
        low, high = PASSWORD_DIGITS
        if not (password.isascii() and password.isdigit() and low <= len(password) <= high):
            return conv, [cards.refused(ErrorCode.VALIDATION_FAILED, cards.NOT_A_PASSWORD)]
        try:
            actor = await effects.verify(court, serial, password)
        except GatewayError as exc:
            return self._failed(conv, exc)  # the court could not check it: not a wrong password
        if actor is None:
            return await self._wrong_password(conv, court)
        conv = replace(conv, actor=actor, tries=0, court=None, serial=None, case_no=None)
        return await self._case_service(conv, conv.service or "progress", said)

    async def _wrong_password(self, conv: Conversation, court: str) -> Answer:
        effects = self.effects
        conv = replace(conv, tries=conv.tries + 1)
        locked = await effects.password_failed()
        paused = await effects.court_password_failed(court)
        if locked or conv.tries >= effects.max_password_attempts:
            await effects.lock_number()
            conv = replace(conv, stage=Stage.MENU, tries=0)
            return conv, [cards.locked(effects.lockout_minutes, effects.hotline)]
        if paused:
            return replace(conv, stage=Stage.MENU), [cards.court_paused(effects.court_name(court) or "",
                                                                        effects.hotline)]
        return conv, [cards.password_retry(effects.max_password_attempts - conv.tries)]

    async def _on_message(self, conv: Conversation, said: Said) -> Answer:
        case_no = conv.verified_case
        assert case_no is not None
        args = {"case_no": case_no, "text": (said.text or "").strip()}
        try:
            ran = await self.effects.run("judge_messages.send", args, conv.actor, said.message_id)
        except GatewayError as exc:
            return self._failed(conv, exc, "message")
        return replace(conv, stage=Stage.MENU, service=None), [cards.message_sent_card(case_no, ran.result,
                                                                                        ran.queued)]

    async def _files(self, conv: Conversation, said: Said) -> Answer:
        case_no, actor = conv.verified_case, conv.actor
        if case_no is None or actor is None:
            return conv, [cards.ask(cards.FILE_NEEDS_CASE, cards.back_chips("materials"))]
        court = parse_case_number(case_no).court
        assert court is not None
        uploads = list(conv.uploads if conv.stage is Stage.FILES else [])
        for file in said.files:
            try:
                result = await self.effects.upload(file, court, actor, said.message_id)
            except GatewayError as exc:
                # Files already received stay; the person may send another one or submit those.
                conv = replace(conv, stage=Stage.FILES, service="materials", uploads=uploads)
                return conv, [error_reply(exc, cards.back_chips("materials"))]
            uploads.append({"upload_id": str(result["upload_id"]), "name": _document_name(file.name)})
        conv = replace(conv, stage=Stage.FILES, service="materials", uploads=uploads)
        return conv, [cards.kind_question([u["name"] for u in uploads])]

    async def _on_files_stage(self, conv: Conversation, postback: str) -> Answer:
        kind = postback.removeprefix("kind:")
        if not conv.uploads:
            return conv, [cards.ask(cards.NO_FILES_YET)]
        if postback.startswith("kind:") and kind in dict(cards.MATERIAL_KINDS):
            return replace(conv, stage=Stage.NOTE, kind=kind), [cards.note_question()]
        return conv, [cards.kind_question([u["name"] for u in conv.uploads])]

    async def _submit_materials(self, conv: Conversation, said: Said, note: str | None) -> Answer:
        case_no, kind = conv.verified_case, conv.kind
        assert case_no is not None and kind is not None
        args: dict[str, Any] = {"case_no": case_no, "kind": kind, "documents": list(conv.uploads)}
        if note:
            args["note"] = note
        try:
            ran = await self.effects.run("materials.submit", args, conv.actor, said.message_id)
        except GatewayError as exc:
            return self._failed(conv, exc, "materials")
        conv = replace(conv, stage=Stage.MENU, service=None, uploads=[], kind=None)
        return conv, [cards.materials_card(case_no, kind, len(args["documents"]), ran.result, ran.queued)]

    async def _on_amount(self, conv: Conversation, said: Said, text: str) -> Answer:
        amount = text.replace(",", "").removesuffix("元")
        if not amount.replace(".", "", 1).isdigit():
            return conv, [cards.refused(ErrorCode.VALIDATION_FAILED, cards.NOT_AN_AMOUNT)]
        args: dict[str, Any] = {"case_type": conv.fee_case_type or "民初"}
        if float(amount) > 0:
            args["amount"] = amount
        try:
            ran = await self.effects.run("fees.calculate", args, None, said.message_id)
        except GatewayError as exc:
            return self._failed(conv, exc, "fees")
        result = ran.result if isinstance(ran.result, dict) else {}
        return replace(conv, stage=Stage.MENU, fee_case_type=None), [cards.fees_card(result)]


def _service_named(text: str) -> str | None:
    """A service whose chip text was typed instead of tapped."""
    return next((service for service, (label, _) in cards.SERVICES.items() if label == text), None)


def _is_case_number(text: str) -> bool:
    try:
        parse_case_number(text)
    except CaseNumberError:
        return False
    return True


def _document_name(file_name: str) -> str:
    """合同.pdf -> 合同: what the court lists the document as."""
    stem = PurePath(file_name).stem.strip()
    return (stem or "材料")[:100]
