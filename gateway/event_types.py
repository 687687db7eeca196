"""What a citizen can be told about: the court events of CONTRACTS.md section 5 and the gateway's own.

Pure data (nothing is imported): channels list the events they carry against it, and the config
checks a channel's push templates cover it (gateway/config/channels.py).
"""

from __future__ import annotations

#: Court event types of CONTRACTS.md section 5.
COURT_EVENT_TYPES: tuple[str, ...] = (
    "filing.received", "filing.correction_required", "filing.reviewed", "filing.docketed",
    "hearing.scheduled", "judge_message.replied", "application.updated", "payment.confirmed",
    "refund.completed",
)
#: The gateway's own event: a queued write was finally delivered to its court, or refused
#: (``data``: ``delivery_id``, ``operation``, ``status`` ``delivered``/``failed``, ``court``).
DELIVERY_FINISHED = "delivery.finished"
#: Everything the person concerned is told on the channel they used (or by SMS).
CITIZEN_EVENTS: tuple[str, ...] = (*COURT_EVENT_TYPES, DELIVERY_FINISHED)



def citizen_events() -> tuple[str, ...]:
    """Every event a person is told about, in a stable order (the adapter API's name for it)."""
    return CITIZEN_EVENTS


__all__ = ["CITIZEN_EVENTS", "COURT_EVENT_TYPES", "DELIVERY_FINISHED", "citizen_events"]
