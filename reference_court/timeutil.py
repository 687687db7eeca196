"""China Standard Time and working-day arithmetic for the reference court.

Every time the court emits is ISO 8601 with ``+08:00`` (CONTRACTS.md section 3).
Periods follow the Civil Procedure Law rules (DOMAIN.md section 5): the first
day is not counted, and a period ending on a public holiday moves to the next
working day. Working days come from ``chinese_calendar``, which knows only the
years the State Council has published; beyond them we count weekends only and
say the answer is provisional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import chinese_calendar

CST = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    return datetime.now(CST)


def today() -> date:
    return now().date()


def iso(moment: datetime) -> str:
    """``2026-03-02T09:30:00+08:00``: seconds precision, always in China Standard Time."""
    return moment.astimezone(CST).replace(microsecond=0).isoformat()


def at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=CST)


def end_of_day(day: date) -> str:
    # A period counted in days ends at 24:00 of its last day (Civil Procedure Law art. 85).
    return iso(at(day, time(23, 59, 59)))


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 time; a naive one is taken as China Standard Time."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=CST)


@dataclass(frozen=True)
class WorkdayAnswer:
    is_workday: bool
    provisional: bool  # the calendar does not know this year: weekends only


def workday(day: date) -> WorkdayAnswer:
    try:
        return WorkdayAnswer(bool(chinese_calendar.is_workday(day)), provisional=False)
    except NotImplementedError:
        return WorkdayAnswer(day.weekday() < 5, provisional=True)


@dataclass(frozen=True)
class Due:
    day: date
    provisional: bool


def add_working_days(start: date, count: int) -> Due:
    """The ``count``-th working day after ``start``; ``start`` itself is not counted."""
    day, provisional, remaining = start, False, count
    while remaining > 0:
        day += timedelta(days=1)
        answer = workday(day)
        provisional = provisional or answer.provisional
        if answer.is_workday:
            remaining -= 1
    return Due(day, provisional)


def add_calendar_days(start: date, count: int) -> Due:
    """A period of ``count`` calendar days, moved past holidays at its end (first day not counted)."""
    day = start + timedelta(days=count)
    answer = workday(day)
    provisional = answer.provisional
    while not answer.is_workday:
        day += timedelta(days=1)
        answer = workday(day)
        provisional = provisional or answer.provisional
    return Due(day, provisional)
