"""Durable SLA timers in the shared state store (CONTRACTS.md section 8).

A timer belongs to one item a citizen created through the gateway (a filing, a judge message,
an application ...), at one court. Its record lives under ``{sla}:timer:<id>``; two ordered sets
point at it:

- ``{sla}:due``: when the timer next needs attention (its next reminder or rung), which workers
  claim with a lease (:meth:`StateStore.claim_due`), so one worker handles a timer at a time and a
  worker that dies lets it come due again after the lease;
- ``{sla}:court:<court>``: every open timer of a court ordered by deadline, for the staff board.

Every change is a compare-and-set of the record together with both placements, derived from the
record being written (:meth:`TimerStore.update`): the schedule can never disagree with the record,
whichever instance wrote last. Records of ended timers expire after a few weeks.

Reminders and rungs are *steps*, derived from the operation's rule and the due date each time
(:func:`plan`), so a changed ladder in the config applies to running timers; the record keeps only
which steps have fired in the current cycle. A cycle is one run of the clock: corrections pause it
and their arrival starts a new cycle in full (DOMAIN.md section 4).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

import orjson

from gateway.config import Role, SlaRule
from gateway.sla.calendar import CHINA, Counting, Deadline, StatutoryCalendar, end_of_day, local_date
from gateway.state import Placement, StateStore

#: Reminders and rungs go out at 09:00 Beijing time on their day: nobody is texted at midnight.
SEND_HOUR = 9
DUE_QUEUE = "{sla}:due"
#: an ended timer stays readable this long (the board's recent history, support questions)
ENDED_TTL_S = 35 * 24 * 3600
#: how often a timer still waiting for its queued write's delivery looks at the delivery again
DELIVERY_CHECK_S = 5.0
_UPDATE_ATTEMPTS = 8

TimerStatus = Literal["running", "paused", "stopped"]
StepKind = Literal["reminder", "escalation"]


class TimerConflict(Exception):
    """The record kept changing under us; the caller tries again later."""


def timer_id(court: str, item_kind: str, item_id: str) -> str:
    """Stable per item, and safe inside an SMS OutId (letters and digits only)."""
    return "t" + hashlib.sha256(f"{court}\n{item_kind}\n{item_id}".encode()).hexdigest()[:24]


def _timer_key(tid: str) -> str:
    return f"{{sla}}:timer:{tid}"


def court_index(court: str) -> str:
    return f"{{sla}}:court:{court}"


@dataclass(frozen=True)
class Timer:
    id: str
    court: str
    operation: str
    item_kind: str  # the result field naming the item: filing_id, message_id, application_id ...
    item_id: str
    accepted_at: float  # when the gateway accepted the write (Unix seconds)
    started_at: float  # when this cycle's clock started
    due: date
    deadline_days: int
    counting: Counting
    unknown_years: tuple[int, ...] = ()
    status: TimerStatus = "running"
    cycle: int = 1
    fired: Mapping[str, float] = field(default_factory=dict)  # step key -> when it went out
    handler: str | None = None  # the court's opaque staff reference (filing.received)
    case_no: str | None = None
    paused_at: float | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    last_event: str | None = None
    last_event_at: float | None = None
    #: keyed by a queued write's delivery id until the delivery names the item
    awaiting_delivery: bool = False

    @property
    def provisional(self) -> bool:
        return bool(self.unknown_years)

    @property
    def deadline_at(self) -> float:
        return end_of_day(self.due).timestamp()

    def to_json(self) -> bytes:
        record = asdict(self)
        record["due"] = self.due.isoformat()
        return orjson.dumps(record)

    @classmethod
    def from_json(cls, raw: bytes) -> Timer:
        record: dict[str, Any] = orjson.loads(raw)
        record["due"] = date.fromisoformat(record["due"])
        record["unknown_years"] = tuple(record.get("unknown_years", ()))
        return cls(**{k: v for k, v in record.items() if k in cls.__dataclass_fields__})


def counted(calendar: StatutoryCalendar, started_at: float, rule_days: int, counting: Counting) -> Deadline:
    """The deadline of a clock started at ``started_at``: its Beijing day is not counted."""
    return calendar.deadline(local_date(started_at), rule_days, counting)


def new_timer(calendar: StatutoryCalendar, *, court: str, operation: str, item_kind: str, item_id: str,
              rule: SlaRule, now: float, case_no: str | None = None, awaiting_delivery: bool = False) -> Timer:
    deadline = counted(calendar, now, rule.deadline_days, rule.counting)
    return Timer(timer_id(court, item_kind, item_id), court, operation, item_kind, item_id, now, now,
                 deadline.due, rule.deadline_days, rule.counting, deadline.unknown_years, case_no=case_no,
                 awaiting_delivery=awaiting_delivery)


def restarted(timer: Timer, calendar: StatutoryCalendar, at: float) -> Timer:
    """A new cycle in full from ``at`` (corrected materials arrived): new deadline, no step fired."""
    deadline = counted(calendar, at, timer.deadline_days, timer.counting)
    return replace(timer, status="running", cycle=timer.cycle + 1, started_at=at, due=deadline.due,
                   unknown_years=deadline.unknown_years, fired={}, paused_at=None)


def recounted(timer: Timer, calendar: StatutoryCalendar) -> Timer:
    """The same cycle counted again with today's calendar (it may have learned a year)."""
    deadline = counted(calendar, timer.started_at, timer.deadline_days, timer.counting)
    return replace(timer, due=deadline.due, unknown_years=deadline.unknown_years)


# --- steps ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One reminder or escalation rung of a timer's current cycle."""

    key: str  # r<days before> or e<after_days>: stable across restarts of the process
    kind: StepKind
    at: float  # Unix seconds
    roles: tuple[Role, ...]
    level: int  # 1-based rung number; 0 for reminders
    after_days: int  # relative to the deadline; negative before it


def send_time(day: date) -> float:
    return datetime.combine(day, time(SEND_HOUR), CHINA).timestamp()


def plan(rule: SlaRule, due: date) -> list[Step]:
    """Every step of a cycle ending on ``due``, in the order they fire.

    Offsets are whole days from the deadline, the end of the due day: "2 days before" is the
    morning two days before the period is over (the day before the due day), a rung at 0 days is
    the first morning the item is overdue, a rung at 1 day the morning after.
    """
    over = due + timedelta(days=1)
    steps = [Step(f"r{days}", "reminder", send_time(over - timedelta(days=days)), ("handler",), 0, -days)
             for days in rule.reminders_before_days]
    steps += [Step(f"e{rung.after_days}", "escalation", send_time(over + timedelta(days=rung.after_days)),
                   rung.roles, level, rung.after_days)
              for level, rung in enumerate(rule.escalation, start=1)]
    return sorted(steps, key=lambda step: (step.at, step.level))


def pending_steps(timer: Timer, rule: SlaRule) -> list[Step]:
    return [step for step in plan(rule, timer.due) if step.key not in timer.fired]


def current_rung(timer: Timer, rule: SlaRule | None) -> Step | None:
    """The highest escalation rung fired in this cycle, for the board."""
    if rule is None:
        return None
    fired = [s for s in plan(rule, timer.due) if s.kind == "escalation" and s.key in timer.fired]
    return fired[-1] if fired else None


# --- the store ------------------------------------------------------------------------------------


class TimerStore:
    """Timer records and their schedule in the state store; see the module docstring."""

    def __init__(self, state: StateStore, rules: Callable[[str], SlaRule | None]) -> None:
        self.state = state
        self._rules = rules

    def rule(self, operation: str) -> SlaRule | None:
        return self._rules(operation)

    def next_wake(self, timer: Timer, now: float) -> float | None:
        """When the timer next needs a worker: its next step, or a delivery check; None: never."""
        if timer.status != "running":
            return None
        rule = self._rules(timer.operation)
        steps = pending_steps(timer, rule) if rule is not None else []
        wake = min((step.at for step in steps), default=None)
        if timer.awaiting_delivery:
            check = now + DELIVERY_CHECK_S
            wake = check if wake is None else min(wake, check)
        return wake

    def _placements(self, timer: Timer, now: float) -> list[Placement]:
        open_deadline = timer.deadline_at if timer.status != "stopped" else None
        return [Placement(DUE_QUEUE, timer.id, self.next_wake(timer, now)),
                Placement(court_index(timer.court), timer.id, open_deadline)]

    @staticmethod
    def _ttl(timer: Timer) -> float | None:
        return ENDED_TTL_S if timer.status == "stopped" else None

    async def create(self, timer: Timer, now: float) -> bool:
        """Start a timer; False when one already exists for that item (nothing changes)."""
        return await self.state.swap(_timer_key(timer.id), None, timer.to_json(), self._ttl(timer),
                                     self._placements(timer, now))

    async def get(self, tid: str) -> Timer | None:
        raw = await self.state.get(_timer_key(tid))
        return Timer.from_json(raw) if raw is not None else None

    async def update(self, tid: str, change: Callable[[Timer], Timer], now: float) -> Timer | None:
        """Apply ``change`` to the current record, compare-and-set, again if another writer won.

        The placements are written even when ``change`` returns the timer unchanged: a worker's
        lease is replaced by the real next wake-up that way. None when there is no such timer.
        """
        key = _timer_key(tid)
        for _ in range(_UPDATE_ATTEMPTS):
            raw = await self.state.get(key)
            if raw is None:
                return None
            timer = change(Timer.from_json(raw))
            if await self.state.swap(key, raw, timer.to_json(), self._ttl(timer), self._placements(timer, now)):
                return timer
        raise TimerConflict(tid)

    async def discard(self, tid: str, court: str | None) -> None:
        """Forget a timer whose record is gone or replaced (a re-keyed delivery timer)."""
        key = _timer_key(tid)
        raw = await self.state.get(key)
        placements = [Placement(DUE_QUEUE, tid, None)]
        if court is not None:
            placements.append(Placement(court_index(court), tid, None))
        await self.state.swap(key, raw, None, None, placements)

    async def claim_due(self, now: float, lease_s: float, limit: int) -> list[str]:
        return await self.state.claim_due(DUE_QUEUE, now, lease_s, limit)

    async def open_timers(self, court: str, limit: int) -> list[Timer]:
        """The court's running and paused timers, earliest deadline first."""
        ids = [tid for tid, _ in await self.state.ordered(court_index(court), limit)]
        if not ids:
            return []
        raws = await self.state.get_many([_timer_key(tid) for tid in ids])
        return [Timer.from_json(raw) for raw in raws if raw is not None]
