"""What the rest of the gateway learns when a queued write is finally delivered, or refused.

The notification routes (gateway/notify/routes.py) know a queued write by its delivery id
until the court names the item. When the court has answered:

- the person who made the write is told (``delivery.finished``, delivered or failed) on their
  channel's push when it has one, else by SMS: the event goes through the notification queue like
  a court event, keyed by the delivery id and its outcome, so a worker that settles the same
  delivery again (a retry after a crash, another worker's takeover) queues nothing new and the
  person hears it once;
- once delivered, the route follows the write to the created item, so the court's later events
  about it (a filing received, reviewed, docketed) reach the person on the channel they used;
  and a write on a case makes its author follow the case only now, when the court has taken it
  (a queued write's participant check may still fail before delivery).
"""

from __future__ import annotations

import time

from gateway.catalog import get_operation
from gateway.event_types import DELIVERY_FINISHED
from gateway.events import CourtEvent
from gateway.notify.dispatch import NotificationQueue
from gateway.notify.routes import NotificationRoutes
from gateway.resilience.deliverer import DeliveryReport, Notify, log_outcome
from gateway.sla.items import DELIVERY_FIELD, item_in
from gateway.sla.listener import case_number_of


def delivery_event(report: DeliveryReport, now: float) -> CourtEvent:
    """The notice of a delivery's outcome; its id (and so its queue key) is the delivery and the
    outcome, never the moment it was made, so settling twice queues it once."""
    data: dict[str, object] = {DELIVERY_FIELD: report.delivery_id, "operation": report.operation,
                               "status": report.status}
    return CourtEvent(f"{DELIVERY_FINISHED}:{report.delivery_id}:{report.status}", DELIVERY_FINISHED,
                      report.court, now, data)


def following(routes: NotificationRoutes) -> Notify:
    """A deliverer ``notify`` hook: log the outcome, tell the person, move their route to the new item."""
    queue = NotificationQueue(routes.state)

    async def notify(report: DeliveryReport) -> None:
        await log_outcome(report)
        await queue.enqueue(delivery_event(report, time.time()))
        if report.status != "delivered":
            return
        delivery = (DELIVERY_FIELD, report.delivery_id)
        case_no = case_number_of(report.case_no)
        if case_no is not None:  # the court took a write on the case: its participant follows it now
            await routes.link_case(report.court, *delivery, case_no)
        operation = get_operation(report.operation)
        item = item_in(operation, report.result) if operation and isinstance(report.result, dict) else None
        if item is not None:
            await routes.move_item(report.court, delivery, item)

    return notify
