"""What a court event does to the timer of the item it names (CONTRACTS.md sections 5 and 8).

- the court decided (a filing reviewed or docketed, a judge's reply, an application decided, a
  refund paid out): the timer stops;
- the court asked for corrections: the clock stops and waits (DOMAIN.md section 4, 登记立案规定
  art. 8: the period starts again when the corrected materials arrive);
- the court received the item again after corrections (``filing.received``, or an application
  back under review): a new cycle starts in full from that moment;
- anything else about the item (a handler assigned, an intermediate status): noted, clock unchanged.

Besides the types of section 5, two more are understood because courts send them and the
gateway starts timers for those items: ``consultation.answered`` ``{consultation_id}`` and
``mediation.updated`` ``{mediation_id, status}``. Any other type touches no timer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from gateway.sla.calendar import StatutoryCalendar
from gateway.sla.timers import Timer, restarted

Action = Literal["stop", "pause", "resume", "note"]

#: statuses that end the work the time limit is about (DOMAIN.md section 4 lifecycles)
DECIDED = frozenset({
    "ACCEPTED", "REJECTED", "CANCELLED", "NOT_ACCEPTED", "DOCKETED", "REFUNDED", "FAILED", "ANSWERED",
    "REPLIED", "CLOSED", "SETTLED", "CONVERTED_TO_FILING",
})
CORRECTION = frozenset({"CORRECTION_REQUIRED", "RETURNED_FOR_CORRECTION"})
#: the item is (back) with the court for review: after corrections, the clock starts again
UNDER_REVIEW = frozenset({"SUBMITTED", "UNDER_REVIEW", "APPLIED", "RECEIVED"})

#: event type -> (the data field naming the item, which timer kind that is)
_ITEM_FIELD: dict[str, str] = {
    "filing.received": "filing_id",
    "filing.correction_required": "filing_id",
    "filing.reviewed": "filing_id",
    "filing.docketed": "filing_id",
    "judge_message.replied": "message_id",
    "application.updated": "application_id",
    "refund.completed": "application_id",
    "consultation.answered": "consultation_id",
    "mediation.updated": "mediation_id",
}
_FIXED_ACTION: dict[str, Action] = {
    "filing.received": "resume",
    "filing.correction_required": "pause",
    "filing.docketed": "stop",
    "judge_message.replied": "stop",
    "refund.completed": "stop",
    "consultation.answered": "stop",
}
#: extension types this module understands beyond CONTRACTS.md section 5
EXTRA_EVENT_TYPES = ("consultation.answered", "mediation.updated")


@dataclass(frozen=True)
class TimerEvent:
    """One court event as it concerns one item's timer."""

    item_kind: str
    item_id: str
    action: Action
    event_id: str
    at: float  # when it happened at the court (Unix seconds)
    reason: str  # the event type, with the status where there is one
    handler: str | None = None
    case_no: str | None = None


def status_action(status: str) -> Action:
    if status in DECIDED:
        return "stop"
    if status in CORRECTION:
        return "pause"
    if status in UNDER_REVIEW:
        return "resume"
    return "note"


def timer_event(event_type: str, data: Mapping[str, Any], event_id: str, at: float) -> TimerEvent | None:
    """The timer change an event asks for, or None when it names no timed item."""
    item_field = _ITEM_FIELD.get(event_type)
    if item_field is None or not isinstance(data.get(item_field), str):
        return None
    status = data.get("status")
    action = _FIXED_ACTION.get(event_type) or status_action(str(status or ""))
    reason = f"{event_type}:{status}" if status else event_type
    handler = data.get("handler") if isinstance(data.get("handler"), str) else None
    case_no = data.get("case_no") if isinstance(data.get("case_no"), str) else None
    return TimerEvent(item_field, data[item_field], action, event_id, at, reason, handler, case_no)


def react(timer: Timer, event: TimerEvent, calendar: StatutoryCalendar, now: float) -> Timer:
    """The timer after ``event``; unchanged for an ended timer, a redelivery or an older event."""
    if timer.status == "stopped" or timer.last_event == event.event_id:
        return timer
    if timer.last_event_at is not None and event.at < timer.last_event_at:
        return timer  # delivered out of order: a later event already set the state
    noted = replace(timer, last_event=event.event_id, last_event_at=event.at,
                    handler=event.handler or timer.handler, case_no=event.case_no or timer.case_no)
    if event.action == "stop":
        return replace(noted, status="stopped", ended_at=now, end_reason=event.reason)
    if event.action == "pause" and timer.status == "running":
        return replace(noted, status="paused", paused_at=now)
    if event.action == "resume" and timer.status == "paused":
        # The new cycle starts when the court received the corrections, never before the pause
        # and never in the future (a court clock running ahead).
        start = min(now, max(event.at, timer.paused_at or event.at))
        return restarted(noted, calendar, start)
    return noted
