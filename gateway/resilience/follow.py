"""What the rest of the gateway learns when a queued write is finally delivered.

The notification routes (gateway/notify/routes.py) know a queued write only by
its delivery id until the court names the item; once delivered, the route
follows the write to the created item, so the court's later events about it
(a filing received, reviewed, docketed) reach the citizen on the channel they
used. The outcome itself is logged: the notification dispatcher has no message
for "your queued request was delivered / refused" yet, so a citizen learns it
from ``deliveries.get`` and from the court's own events that follow.
"""

from __future__ import annotations

from gateway.catalog import get_operation
from gateway.notify.routes import NotificationRoutes
from gateway.resilience.deliverer import DeliveryReport, Notify, log_outcome
from gateway.sla.items import DELIVERY_FIELD, item_in


def following(routes: NotificationRoutes) -> Notify:
    """A deliverer ``notify`` hook: log the outcome, and move the citizen's route to the new item."""

    async def notify(report: DeliveryReport) -> None:
        await log_outcome(report)
        operation = get_operation(report.operation)
        if report.status != "delivered" or operation is None or not isinstance(report.result, dict):
            return
        item = item_in(operation, report.result)
        if item is not None:
            await routes.move_item(report.court, (DELIVERY_FIELD, report.delivery_id), item)

    return notify
