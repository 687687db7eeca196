"""A conversation's state, kept in the shared state store under a pseudonym of the person's number.

Every instance reads and writes the same record, so a conversation survives a
restart and moving between instances; its expiry is renewed on every message
and it ends after ``idle_timeout_s`` of silence. The key names no number; the
record holds the verified case-scoped actor (as the 12368 call state does),
pending uploads and where the person is in the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

import orjson

from gateway import ErrorCode, GatewayError, StateStore, StateUnavailable, get_logger

_log = get_logger("court_gateway.rcs5g")
#: how long one message of a person may hold the person's turn (a file fetch included)
TURN_TTL_S = 90
_TURN_WAIT_S = 0.05


class Stage(str, Enum):
    MENU = "menu"
    CASE_NO = "case_no"
    PASSWORD = "password"
    MESSAGE = "message"
    FILES = "files"
    NOTE = "note"
    FEE_TYPE = "fee_type"
    FEE_AMOUNT = "fee_amount"
    TEMPLATE = "template"


@dataclass
class Conversation:
    stage: Stage = Stage.MENU
    service: str | None = None  # the case service waiting for a verified case
    court: str | None = None  # of the case number typed, until its password is verified
    case_no: str | None = None
    serial: str | None = None
    actor: dict[str, Any] | None = None  # the verified, case-scoped actor (L2 for that case)
    tries: int = 0  # wrong passwords in this conversation
    uploads: list[dict[str, str]] = field(default_factory=list)  # [{"upload_id", "name"}] not yet submitted
    kind: str | None = None  # evidence or supplement, once chosen
    fee_case_type: str | None = None

    @property
    def verified_case(self) -> str | None:
        return str(self.actor["case_scope"]) if self.actor and self.actor.get("case_scope") else None

    def to_bytes(self) -> bytes:
        record = {k: v for k, v in asdict(self).items() if v not in (None, 0, [])}
        record["stage"] = self.stage.value
        return orjson.dumps(record)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Conversation:
        record = orjson.loads(raw)
        record["stage"] = Stage(record.get("stage", Stage.MENU.value))
        return cls(**{k: v for k, v in record.items() if k in cls.__dataclass_fields__})


def _unavailable() -> GatewayError:
    return GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5)


class Conversations:
    def __init__(self, state: StateStore, channel: str, idle_timeout_s: int) -> None:
        self._state = state
        self._channel = channel
        self._idle_timeout_s = idle_timeout_s

    def _key(self, pseudonym: str) -> str:
        return f"rcs5g:{self._channel}:conv:{pseudonym}"

    @contextlib.asynccontextmanager
    async def turn(self, pseudonym: str) -> AsyncIterator[None]:
        """One message of a person at a time, across every instance: two messages sent in quick succession
        (a case number, then its password) must not both start from the same step. A holder that died
        frees the turn after ``TURN_TTL_S``; without the state store there is nothing to share, and
        loading the conversation fails anyway."""
        key = f"rcs5g:{self._channel}:turn:{pseudonym}"
        owner = secrets.token_hex(8).encode()
        deadline = time.monotonic() + TURN_TTL_S
        try:
            while not await self._state.set(key, owner, TURN_TTL_S, only_if_absent=True):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(_TURN_WAIT_S)
        except StateUnavailable:
            raise _unavailable() from None
        try:
            yield
        finally:
            with contextlib.suppress(StateUnavailable):
                if await self._state.get(key) == owner:
                    await self._state.delete(key)

    async def load(self, pseudonym: str) -> Conversation | None:
        """The person's conversation, or None when there is none (first message, or it idled out)."""
        try:
            raw = await self._state.get(self._key(pseudonym))
        except StateUnavailable:
            raise _unavailable() from None
        if raw is None:
            return None
        try:
            return Conversation.from_bytes(raw)
        except (ValueError, TypeError, KeyError):
            _log.warning("unreadable conversation state dropped", channel=self._channel)
            return None

    async def save(self, pseudonym: str, conversation: Conversation) -> None:
        try:
            await self._state.set(self._key(pseudonym), conversation.to_bytes(), self._idle_timeout_s)
        except StateUnavailable:
            raise _unavailable() from None
