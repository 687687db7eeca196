"""Own records: what makes an item (a filing, an upload, a queued write's delivery id) this
person's own, and the court that holds it. OWN access is decided on them alone, without asking
any court."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from gateway.actor import Actor
from gateway.errors import ErrorCode, GatewayError
from gateway.pipeline.unavailable import state_unavailable
from gateway.resilience.outbox import Record
from gateway.state import StateStore, StateUnavailable
from gateway.state.layout import WRITES_TAG

OWN_RECORD_TTL_S = 400 * 24 * 3600


@dataclass
class OwnRecords:
    state: StateStore

    async def owner_court(self, kind: str, item_id: str, actor: Actor) -> str:
        """The court of an item this actor created; NOT_FOUND otherwise, without asking any court."""
        try:
            raw = await self.state.get(_own_key(kind, item_id))
        except StateUnavailable:
            # Whose item it is lives only in the state store: without it, fail closed.
            raise state_unavailable() from None
        record = orjson.loads(raw) if raw else None
        if not record or record.get("sub") != actor.sub:
            raise GatewayError(ErrorCode.NOT_FOUND, "not found")
        return str(record["court"])

    async def remember(self, kind: str, item_id: str, court: str, sub: str, ttl_s: float = OWN_RECORD_TTL_S) -> None:
        key, record, ttl = own_record(kind, item_id, court, sub, ttl_s)
        await self.state.set(key, record, ttl)


def own_record(kind: str, item_id: str, court: str, sub: str, ttl_s: float = OWN_RECORD_TTL_S) -> Record:
    """The record that makes an item this person's own (OWN access), to store with other records."""
    return _own_key(kind, item_id), orjson.dumps({"court": court, "sub": sub}), ttl_s


def _own_key(kind: str, item_id: str) -> str:
    # In the slot of the outbox: written in the same transaction as a queued write's settlement.
    return f"{WRITES_TAG}own:{kind}:{item_id}"
