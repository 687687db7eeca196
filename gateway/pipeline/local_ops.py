"""The operations the gateway answers itself, without a court: the list of courts, and where a
queued write stands."""

from __future__ import annotations

from typing import Any

from gateway.actor import Actor
from gateway.calls import Outcome
from gateway.catalog import Operation
from gateway.errors import ErrorCode, GatewayError
from gateway.pipeline.owned import OwnRecords
from gateway.pipeline.routing import CourtDirectory
from gateway.pipeline.unavailable import state_unavailable
from gateway.resilience.outbox import delivery_key, public_view
from gateway.state import StateStore, StateUnavailable


async def answer_locally(op: Operation, actor: Actor | None, args: dict[str, Any], courts: CourtDirectory,
                         state: StateStore, owned: OwnRecords) -> Outcome:
    if op.id == "courts.list":
        items = [{"code": code, "name": name} for code, name in courts.names.items()]
        return Outcome({"items": items, "next_cursor": None}, 200)
    if op.id == "deliveries.get":
        assert actor is not None
        delivery_id = args["delivery_id"]
        await owned.owner_court("delivery_id", delivery_id, actor)
        try:
            raw = await state.get(delivery_key(delivery_id))
        except StateUnavailable:
            raise state_unavailable() from None
        if raw is None:
            raise GatewayError(ErrorCode.NOT_FOUND, "not found")
        return Outcome(public_view(raw), 200)
    raise GatewayError(ErrorCode.NOT_FOUND, "unknown local operation")
