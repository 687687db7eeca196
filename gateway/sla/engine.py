"""The SLA worker: fires reminders and escalation rungs when they come due (CONTRACTS.md section 8).

Every ``serve`` and ``worker`` process runs it; they agree through the state store:

- a due timer is claimed with a lease (``claim_due``), so one worker attends to it at a time, and
  one that dies mid-way lets it come due again after the lease (20 s, so a step held by a dead
  worker still goes out within 30 s of due; a lease that runs out under a slow worker costs a
  repeated attempt, never a repeated message, thanks to the OutId below);
- each message has an SMS ``OutId`` of timer, cycle, step and recipient; the SMS sender claims the
  OutId before sending, so a step fired again after a crash, or by a worker whose lease ran out,
  is never texted twice;
- the fired steps are then recorded with a compare-and-set that also places the timer at its next
  step, so nothing is lost across a restart and nothing fires twice.

Messages carry the item (its kind and id), its age and its deadline, never anything about the
citizen. Phones come from the court's contacts; the handler's from the handler map, keyed by the
court's opaque reference in ``filing.received``. A reminder for an item whose handler is unknown
goes to the division head, who hands out the work, so that it is not lost. A reminder that comes
due only after the deadline (no worker ran in between) is skipped: the rungs say more by then.

At start and every hour the worker counts provisional deadlines again (the calendar may have
learned a year from a config reload or a newer package) and ends timers whose rule was switched
off; every 15 s it refreshes the board's gauges in /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import orjson

from gateway.catalog import get_operation
from gateway.config import CourtSettings
from gateway.logs import get_logger
from gateway.metrics import SLA_CALENDAR_UNKNOWN_YEAR, SLA_ITEMS, SLA_MESSAGES, SLA_PROVISIONAL
from gateway.notify import Notifier
from gateway.notify.routes import NotificationRoutes
from gateway.resilience.outbox import delivery_key
from gateway.sla.board import BOARD_STATUSES, board, counts
from gateway.sla.calendar import StatutoryCalendar, local_date
from gateway.sla.items import DELIVERY_FIELD, item_in
from gateway.sla.timers import Step, Timer, TimerStore, pending_steps, recounted, timer_id
from gateway.state import StateStore, StateUnavailable

_log = get_logger("court_gateway.sla")

#: what staff call each kind of item, in their messages (never an operation id: "filings.submit"
#: reads like a web address to the SMS screening, and to people)
ITEM_LABELS: dict[str, str] = {
    "filings.submit": "网上立案申请", "judge_messages.send": "当事人留言", "consultations.create": "12368咨询",
    "refunds.apply": "退费申请", "certificates.request": "生效证明申请", "file_reviews.request": "阅卷申请",
    "appeals.file": "上诉申请", "enforcement.apply": "执行申请", "mediations.apply": "诉前调解申请",
    "petitions.submit": "信访事项", "materials.submit": "补充材料", "witness.book": "见证预约",
}
DAY_S = 86400
#: a queued write's delivery record may not exist yet; after this long without one, the write is lost
DELIVERY_RECORD_GRACE_S = 24 * 3600
OPEN_TIMERS_LIMIT = 100_000


def _short_date(day: date) -> str:
    return f"{day.month}月{day.day}日"


def out_id(timer: Timer, step: Step, phone: str) -> str:
    """One per timer, cycle, step and recipient: the SMS sender sends each at most once."""
    recipient = hashlib.sha256(phone.encode()).hexdigest()[:10]
    return f"sla.{timer.id}.{timer.cycle}.{step.key}.{recipient}"


def message(timer: Timer, step: Step, now: float) -> tuple[str, dict[str, object]]:
    """(template event, parameters) for a step: the item, its age and its deadline."""
    label = ITEM_LABELS.get(timer.operation, "诉讼服务事项")
    age = (local_date(now) - local_date(timer.accepted_at)).days
    due = _short_date(timer.due) + ("（暂定）" if timer.provisional else "")
    if step.kind == "reminder" or step.after_days < 0:
        return "sla.reminder", {"item": f"{label}{timer.item_id}（已受理{age}天）", "due": due}
    overdue_days = max(1, math.ceil((now - timer.deadline_at) / DAY_S))
    return "sla.escalation", {"item": f"{label}{timer.item_id}（已受理{age}天，期限{due}）", "days": overdue_days}


class SlaEngine:
    """A :class:`gateway.background.BackgroundJob`; see the module docstring."""

    name = "sla-timers"

    def __init__(self, timers: TimerStore, calendar: StatutoryCalendar, courts: Mapping[str, CourtSettings],
                 notifier: Notifier | None, routes: NotificationRoutes, *, poll_s: float = 1.0,
                 lease_s: float = 20.0, batch: int = 20, gauges_every_s: float = 15.0,
                 recount_every_s: float = 3600.0, horizon_days: int = 60) -> None:
        self.timers = timers
        self._calendar = calendar
        self._courts = courts
        self._notifier = notifier
        self._routes = routes
        self._poll_s = poll_s
        self._lease_s = lease_s
        self._batch = batch
        self._gauges_every_s = gauges_every_s
        self._recount_every_s = recount_every_s
        self._horizon_days = horizon_days
        self._flagged_years: set[int] = set()

    @property
    def state(self) -> StateStore:
        return self.timers.state

    async def run(self, stop: asyncio.Event) -> None:
        next_gauges = next_recount = 0.0
        while not stop.is_set():
            clock = time.monotonic()
            try:
                if clock >= next_recount:
                    await self.recount(time.time())
                    next_recount = clock + self._recount_every_s
                while await self.tick(time.time()) >= self._batch and not stop.is_set():
                    pass  # a full batch: more may be due right now
                if clock >= next_gauges:
                    await self.observe(time.time())
                    next_gauges = clock + self._gauges_every_s
            except StateUnavailable:
                _log.warning("sla timers paused: state store unavailable")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll_s)

    async def tick(self, now: float) -> int:
        """Attend to every timer due at ``now``, side by side; returns how many were claimed."""
        claimed = await self.timers.claim_due(now, self._lease_s, self._batch)
        outcomes = await asyncio.gather(*(self.attend(tid, now) for tid in claimed), return_exceptions=True)
        for tid, outcome in zip(claimed, outcomes, strict=True):
            if isinstance(outcome, StateUnavailable):
                raise outcome
            if isinstance(outcome, BaseException):
                # One bad timer must not stop the rest; its lease brings it back.
                _log.error("sla timer failed; it will be tried again after its lease", timer=tid,
                           exc_info=outcome)
        return len(claimed)

    async def attend(self, tid: str, now: float) -> None:
        timer = await self.timers.get(tid)
        if timer is None:
            await self.timers.discard(tid, None)
            return
        if timer.awaiting_delivery:
            followed = await self._follow_delivery(timer, now)
            if followed is None:
                return
            timer = followed
        rule = self.timers.rule(timer.operation)
        due = [s for s in pending_steps(timer, rule) if s.at <= now] if rule and timer.status == "running" else []
        fired: dict[str, float] = {}
        for step in due:
            await self._fire(timer, step, now)
            fired[step.key] = now
        cycle = timer.cycle

        def record(current: Timer) -> Timer:
            # A stop or a restart that happened meanwhile wins: its cycle's steps are its own.
            if current.cycle != cycle or current.status != "running" or not fired:
                return current
            return replace(current, fired={**current.fired, **fired})

        await self.timers.update(timer.id, record, now)

    # --- sending ------------------------------------------------------------------------------------

    def _phones(self, timer: Timer, step: Step) -> tuple[str, ...]:
        court = self._courts.get(timer.court)
        if court is None:
            return ()
        contacts = court.contacts
        phones = [p for role in step.roles for p in contacts.phones(role, timer.handler)]
        if step.kind == "reminder" and not phones:
            phones = list(contacts.phones("division_head"))
        return tuple(dict.fromkeys(phones))

    async def _fire(self, timer: Timer, step: Step, now: float) -> None:
        if step.kind == "reminder" and now >= timer.deadline_at:
            self._count(timer, step, "late_skipped")
            return
        phones = self._phones(timer, step)
        if self._notifier is None or not phones:
            self._count(timer, step, "no_contact" if self._notifier else "no_sms")
            _log.warning("sla step has nobody to tell", timer=timer.id, court=timer.court, step=step.key,
                         roles=list(step.roles), sms=self._notifier is not None)
            return
        template, params = message(timer, step, now)
        for phone in phones:
            result = await self._notifier.sms(phone, template, params, out_id(timer, step, phone))
            self._count(timer, step, result.status)
            if result.status == "duplicate" and result.reason == "sending":
                # A worker died while this very message was on its way: the provider may or may not
                # have it, and sending it again could text someone twice (CONTRACTS.md section 7).
                _log.warning("sla message outcome unknown: an earlier attempt was cut off while sending",
                             timer=timer.id, court=timer.court, step=step.key, out_id=result.out_id)
        _log.info("sla step fired", timer=timer.id, court=timer.court, operation=timer.operation, step=step.key,
                  cycle=timer.cycle, recipients=len(phones), due=timer.due.isoformat())

    @staticmethod
    def _count(timer: Timer, step: Step, outcome: str) -> None:
        SLA_MESSAGES.labels(timer.court, step.kind, outcome).inc()

    # --- queued writes ------------------------------------------------------------------------------

    async def _follow_delivery(self, timer: Timer, now: float) -> Timer | None:
        """Re-key a timer started for a queued write once the delivery names the item."""
        raw = await self.state.get(delivery_key(timer.item_id))
        record: Any = orjson.loads(raw) if raw else None
        status = record.get("status") if isinstance(record, dict) else None
        if status in ("queued", "delivering") or (status is None and now - timer.accepted_at < DELIVERY_RECORD_GRACE_S):
            return timer
        operation = get_operation(timer.operation)
        result = record.get("result") if isinstance(record, dict) else None
        item = item_in(operation, result) if status == "delivered" and operation and isinstance(result, dict) else None
        if item is None:
            # Failed, expired, or delivered without an item: no work reached the court.
            await self.timers.update(timer.id, lambda t: replace(t, status="stopped", ended_at=now,
                                                                 end_reason=f"delivery:{status or 'missing'}"), now)
            return None
        moved = replace(timer, id=timer_id(timer.court, *item), item_kind=item[0], item_id=item[1],
                        awaiting_delivery=False)
        await self.timers.create(moved, now)
        await self._routes.move_item(timer.court, (DELIVERY_FIELD, timer.item_id), item)
        await self.timers.discard(timer.id, timer.court)
        _log.info("sla timer follows its delivered write", timer=moved.id, previous=timer.id, court=timer.court)
        return await self.timers.get(moved.id)

    # --- housekeeping -------------------------------------------------------------------------------

    async def recount(self, now: float) -> None:
        """Count provisional deadlines again; end timers whose rule was switched off."""
        for court in self._courts:
            for timer in await self.timers.open_timers(court, OPEN_TIMERS_LIMIT):
                if self.timers.rule(timer.operation) is None:
                    await self.timers.update(timer.id, lambda t: replace(t, status="stopped", ended_at=now,
                                                                         end_reason="rule_removed"), now)
                elif timer.provisional:
                    await self._recount_one(timer, now)

    async def _recount_one(self, timer: Timer, now: float) -> None:
        updated = await self.timers.update(
            timer.id, lambda t: recounted(t, self._calendar) if t.cycle == timer.cycle else t, now)
        if updated is not None and not updated.provisional:
            _log.info("sla deadline recounted with a calendar that knows the year", timer=timer.id,
                      court=timer.court, due=updated.due.isoformat(), was=timer.due.isoformat())

    async def observe(self, now: float) -> None:
        """The board as gauges: items by court and status, provisional ones, unknown calendar years."""
        for court in self._courts:
            items = board(await self.timers.open_timers(court, OPEN_TIMERS_LIMIT), self.timers.rule, now)
            tally = counts(items)
            for status in BOARD_STATUSES:
                SLA_ITEMS.labels(court, status).set(tally[status])
            SLA_PROVISIONAL.labels(court).set(tally["provisional"])
        unknown = set(self._calendar.unknown_years_ahead(local_date(now), self._horizon_days))
        for year in unknown | self._flagged_years:
            SLA_CALENDAR_UNKNOWN_YEAR.labels(str(year)).set(1 if year in unknown else 0)
        self._flagged_years = unknown
