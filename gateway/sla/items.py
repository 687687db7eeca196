"""Which item an accepted write created, as court events will name it later."""

from __future__ import annotations

from typing import Any

from gateway.calls import Outcome
from gateway.catalog import Operation

#: result fields that name an item courts report events about (CONTRACTS.md section 5)
ITEM_FIELDS = ("filing_id", "application_id", "message_id", "consultation_id", "mediation_id")
#: a queued write has no item yet: its delivery id stands in until the court has answered
DELIVERY_FIELD = "delivery_id"


def created_item(operation: Operation, outcome: Outcome) -> tuple[str, str] | None:
    """(result field, id) of the item ``outcome`` created, or of its delivery when it was queued."""
    result: Any = outcome.result
    if not isinstance(result, dict):
        return None
    if outcome.queued:
        delivery = result.get(DELIVERY_FIELD)
        return (DELIVERY_FIELD, str(delivery)) if delivery else None
    return item_in(operation, result)


def item_in(operation: Operation, result: dict[str, Any]) -> tuple[str, str] | None:
    fields = (operation.creates, *ITEM_FIELDS) if operation.creates else ITEM_FIELDS
    for name in fields:
        if name in ITEM_FIELDS and result.get(name):
            return name, str(result[name])
    return None
