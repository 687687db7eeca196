"""Starting timers: the write listener that turns an accepted write into a running SLA timer.

CONTRACTS.md section 8: "a timer starts when the gateway accepts the write". The timer is keyed
by the item the write created (``filing_id``, ``message_id``, ``application_id`` ...). A write the
court could not take at once is queued and has no item id yet: its timer starts all the same,
keyed by the delivery id, and the engine re-keys it to the item once the delivery names it (or
ends it if the delivery fails), so the clock a citizen was promised starts when they submitted,
not when a court outage ended.
"""

from __future__ import annotations

import time

from gateway.calls import Call, Outcome
from gateway.config import SlaSettings
from gateway.domain.case_numbers import CaseNumberError, parse_case_number
from gateway.logs import get_logger
from gateway.sla.calendar import StatutoryCalendar
from gateway.sla.items import DELIVERY_FIELD, created_item
from gateway.sla.timers import TimerStore, new_timer

_log = get_logger("court_gateway.sla")


def case_number_of(value: object) -> str | None:
    """The canonical text of a case number argument (full-width parentheses), as courts report it."""
    if not value:
        return None
    try:
        return parse_case_number(str(value)).text
    except CaseNumberError:
        return None


class TimerStarter:
    """A :class:`gateway.core.WriteListener`: one timer per accepted write whose operation has a rule."""

    def __init__(self, settings: SlaSettings, calendar: StatutoryCalendar, timers: TimerStore) -> None:
        self._settings = settings
        self._calendar = calendar
        self._timers = timers

    async def write_accepted(self, call: Call, outcome: Outcome) -> None:
        rule = self._settings.rule(call.operation.id)
        item = created_item(call.operation, outcome)
        if rule is None or item is None or outcome.court is None:
            return
        now = time.time()
        kind, item_id = item
        timer = new_timer(self._calendar, court=outcome.court, operation=call.operation.id, item_kind=kind,
                          item_id=item_id, rule=rule, now=now, case_no=case_number_of(call.args.get("case_no")),
                          awaiting_delivery=kind == DELIVERY_FIELD)
        created = await self._timers.create(timer, now)
        if timer.provisional:
            # A configuration problem, not the citizen's: the write goes through, the deadline is
            # counted with weekends only and flagged until the calendar learns the year.
            _log.warning("sla deadline counted provisionally: the statutory calendar does not know the year",
                         timer=timer.id, court=timer.court, operation=timer.operation,
                         unknown_years=list(timer.unknown_years), due=timer.due.isoformat())
        _log.info("sla timer started", timer=timer.id, court=timer.court, operation=timer.operation,
                  due=timer.due.isoformat(), provisional=timer.provisional, created=created,
                  request_id=call.request_id)
