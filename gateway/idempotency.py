"""Idempotent writes (CONTRACTS.md section 3, "Writes").

Records are scoped by (channel, sub, key) and fingerprinted over the
operation's canonical arguments. The same key and arguments within 24 h
replay the stored answer; different arguments are IDEMPOTENCY_KEY_REUSED; a
first attempt still running is IDEMPOTENCY_IN_PROGRESS. Courts receive a
derived key, the same on every redelivery, and deduplicate by it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.errors import ErrorCode, GatewayError, validation
from gateway.state import StateStore
from gateway.state.layout import WRITES_TAG

RETENTION_S = 24 * 3600
#: How long a claim may stay "running" before another attempt may take over: longer than any
#: court call with its retries, short enough that a crashed instance does not block the citizen.
RUNNING_LEASE_S = 120
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]{1,255}$")


def check_key(key: str | None, field_name: str) -> str:
    if key is None or key == "":
        raise validation(field_name, "an idempotency key is required for this operation")
    if not isinstance(key, str) or not _PRINTABLE_ASCII.match(key):
        raise validation(field_name, "the idempotency key must be 1-255 printable ASCII characters")
    return key


def court_key(channel: str, sub: str, key: str) -> str:
    """What courts receive as ``Idempotency-Key``: hex(SHA-256(channel + "\\n" + sub + "\\n" + key))."""
    return hashlib.sha256(f"{channel}\n{sub}\n{key}".encode()).hexdigest()


def fingerprint(operation_id: str, args: dict[str, Any]) -> str:
    canonical = orjson.dumps({"op": operation_id, "args": args}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    result: Any
    queued: bool = False


@dataclass(frozen=True)
class Claim:
    """A fresh claim: the caller runs the write and then calls ``complete`` or ``release``."""

    record_key: str
    fingerprint: str


def done_record(print_: str, answer: StoredAnswer) -> bytes:
    """The stored form of a finished write: what a replay with the same key and arguments answers.

    A queued write stores its 202 queued answer first; when the delivery completes, the record is
    rewritten with the court's own answer (gateway/resilience/deliverer.py), so later replays
    answer what the court answered.
    """
    return orjson.dumps({"state": "done", "fp": print_, "status": answer.status, "result": answer.result,
                         "queued": answer.queued})


class IdempotencyStore:
    def __init__(self, state: StateStore) -> None:
        self._state = state

    @staticmethod
    def _record_key(channel: str, sub: str, key: str) -> str:
        # In the slot of the outbox: a queued write stores its answer here in the same transaction.
        return WRITES_TAG + "idem:" + court_key(channel, sub, key)

    async def claim(self, channel: str, sub: str, key: str, print_: str) -> Claim | StoredAnswer:
        record_key = self._record_key(channel, sub, key)
        running = orjson.dumps({"state": "running", "fp": print_})
        if await self._state.set(record_key, running, RUNNING_LEASE_S, only_if_absent=True):
            return Claim(record_key, print_)
        existing = await self._state.get(record_key)
        if existing is None:  # expired between the two calls: claim again once
            if await self._state.set(record_key, running, RUNNING_LEASE_S, only_if_absent=True):
                return Claim(record_key, print_)
            raise GatewayError(ErrorCode.IDEMPOTENCY_IN_PROGRESS, "the first request with this key is running")
        record = orjson.loads(existing)
        if record.get("fp") != print_:
            raise GatewayError(ErrorCode.IDEMPOTENCY_KEY_REUSED, "this key was used with different arguments")
        if record.get("state") == "running":
            raise GatewayError(ErrorCode.IDEMPOTENCY_IN_PROGRESS, "the first request with this key is running")
        return StoredAnswer(int(record["status"]), record.get("result"), bool(record.get("queued")))

    async def complete(self, claim: Claim, answer: StoredAnswer) -> None:
        await self._state.set(claim.record_key, done_record(claim.fingerprint, answer), RETENTION_S)

    async def release(self, claim: Claim) -> None:
        """The write did not happen (refused before or by the court): the key may be used again."""
        await self._state.delete(claim.record_key)
