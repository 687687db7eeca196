"""The overdue board: a court's open time-limited items as staff see them (and as /metrics counts them)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gateway.config import SlaRule
from gateway.sla.calendar import CHINA
from gateway.sla.timers import Timer, current_rung

BoardStatus = Literal["running", "overdue", "paused"]
BOARD_STATUSES: tuple[BoardStatus, ...] = ("running", "overdue", "paused")
DAY_S = 86400


def board_status(timer: Timer, now: float) -> BoardStatus:
    if timer.status == "paused":
        return "paused"
    return "overdue" if now >= timer.deadline_at else "running"


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, CHINA).isoformat(timespec="seconds")


@dataclass(frozen=True)
class BoardItem:
    timer: Timer
    status: BoardStatus
    overdue_by_s: int
    rung: dict[str, Any] | None

    def public(self) -> dict[str, Any]:
        timer = self.timer
        return {
            "timer_id": timer.id, "operation": timer.operation, "item_kind": timer.item_kind,
            "item_id": timer.item_id, "case_no": timer.case_no, "status": self.status,
            "accepted_at": _iso(timer.accepted_at), "clock_started_at": _iso(timer.started_at),
            "cycle": timer.cycle, "due": timer.due.isoformat(), "deadline": _iso(timer.deadline_at),
            "overdue_by_s": self.overdue_by_s, "overdue_by_days": math.ceil(self.overdue_by_s / DAY_S),
            "rung": self.rung, "provisional": timer.provisional, "unknown_years": list(timer.unknown_years),
            "handler": timer.handler, "awaiting_delivery": timer.awaiting_delivery,
        }


def board_item(timer: Timer, rule: SlaRule | None, now: float) -> BoardItem:
    status = board_status(timer, now)
    overdue = int(now - timer.deadline_at) if status == "overdue" else 0
    step = current_rung(timer, rule)
    rung = None if step is None else {"level": step.level, "after_days": step.after_days,
                                      "roles": list(step.roles), "fired_at": _iso(timer.fired[step.key])}
    return BoardItem(timer, status, overdue, rung)


def board(timers: Iterable[Timer], rules: Callable[[str], SlaRule | None], now: float) -> list[BoardItem]:
    """Most overdue first, then the nearest deadline."""
    items = [board_item(t, rules(t.operation), now) for t in timers if t.status != "stopped"]
    return sorted(items, key=lambda i: (-i.overdue_by_s, i.timer.deadline_at, i.timer.id))


def counts(items: Iterable[BoardItem]) -> dict[str, int]:
    items = list(items)
    tally = Counter(item.status for item in items)
    result: dict[str, int] = {status: tally.get(status, 0) for status in BOARD_STATUSES}
    result["provisional"] = sum(1 for item in items if item.timer.provisional)
    return result
