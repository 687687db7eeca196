"""Counting time limits the way the Civil Procedure Law counts periods (pure functions, no I/O).

Rules implemented (Civil Procedure Law art. 85, 《民事诉讼法》第八十五条):

- a period counted in days does not count the day it starts ("期间开始的时和日，不计算在期间内");
- a period whose last day is a statutory day off ends on the first working day after it
  ("期间届满的最后一日是法定休假日的，以法定休假日后的第一日为期间届满的日期"); weekends are
  statutory days off, and an adjusted working day (调休, a Saturday or Sunday worked in exchange)
  is a working day;
- a period counted in working days (the Guangdong 12368 norm: "2 个工作日") counts only working days.

Working days come from the ``chinese-calendar`` package (the State Council's published holiday and
调休 schedule) corrected by ``sla.calendar`` in the config. The package knows only the years already
published. DOMAIN.md section 5: a deadline that reaches into a year nobody has told us about is
counted *provisionally*: weekends, plus the holidays the national rules name, computed for that year
(:func:`national_holidays`; the lunar ones through the ``lunar-python`` calendar), without the swapped
working days nobody knows yet; flagged as provisional, and counted again once the year is known (a
newer package, or ``sla.calendar`` entries for that year). It never blocks a citizen's submission. The same gap is a configuration problem for operators, which is what
:meth:`StatutoryCalendar.unknown_years_ahead` is for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Literal

import chinese_calendar
from lunar_python import Lunar, Solar

#: Beijing time: China has one time zone and no daylight saving time.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
Counting = Literal["calendar", "working"]

#: Years the installed ``chinese-calendar`` release has the State Council's schedule for.
PACKAGE_YEARS: frozenset[int] = frozenset(day.year for day in (*chinese_calendar.holidays, *chinese_calendar.workdays))


@dataclass(frozen=True)
class Deadline:
    """The last day of a period, and whether it rests on a year the calendar does not know."""

    due: date
    unknown_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.unknown_years)

    @property
    def ends_at(self) -> datetime:
        """The instant the period is over: the end of the due day, Beijing time."""
        return end_of_day(self.due)


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), CHINA)


def local_date(moment: float) -> date:
    """The Beijing calendar day of a Unix time."""
    return datetime.fromtimestamp(moment, CHINA).date()


def _solar(lunar: Lunar) -> date:
    solar = lunar.getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@lru_cache(maxsize=64)
def national_holidays(year: int) -> frozenset[date]:
    """The days off the national rules name for ``year`` (国务院《全国年节及纪念日放假办法》, 2024
    revision, in force 2025-01-01): 元旦 1 January; 春节 4 days, 农历除夕 to 正月初三; 清明 the day of
    the solar term; 劳动节 1-2 May; 端午 农历五月初五; 中秋 农历八月十五; 国庆 1-3 October. The
    State Council's yearly schedule adds bridging days and swapped working days (调休), which no rule
    can compute: that is why a year counted this way stays provisional."""
    spring = _solar(Lunar.fromYmd(year, 1, 1))
    qingming = Solar.fromYmd(year, 4, 1).getLunar().getJieQiTable()["清明"]
    days = {date(year, 1, 1), date(year, 5, 1), date(year, 5, 2), date(year, 10, 1), date(year, 10, 2),
            date(year, 10, 3), date(qingming.getYear(), qingming.getMonth(), qingming.getDay()),
            _solar(Lunar.fromYmd(year, 5, 5)), _solar(Lunar.fromYmd(year, 8, 15))}
    days |= {spring + timedelta(days=offset) for offset in range(-1, 3)}  # 除夕, 初一, 初二, 初三
    return frozenset(day for day in days if day.year == year)


class StatutoryCalendar:
    """Working days: the package's schedule, the config's corrections, and for unknown years the
    weekends and :func:`national_holidays` (provisional)."""

    def __init__(self, extra_holidays: Iterable[date] = (), extra_workdays: Iterable[date] = (),
                 package_years: frozenset[int] = PACKAGE_YEARS) -> None:
        self._holidays = frozenset(extra_holidays)
        self._workdays = frozenset(extra_workdays)
        # Listing a day of a year in the config is the operator saying "this year's schedule is in
        # the config": the year counts as known from then on.
        self._known = package_years | {d.year for d in self._holidays | self._workdays}
        self._package_years = package_years

    def knows(self, year: int) -> bool:
        return year in self._known

    def is_workday(self, day: date) -> bool:
        """Provisional (weekends and the named national holidays) for a year that is not known; see
        :meth:`knows`."""
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        if day.year in self._package_years:
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5 and day not in national_holidays(day.year)

    def deadline(self, start: date, days: int, counting: Counting) -> Deadline:
        """The due day of a period of ``days`` starting on ``start`` (which is not counted)."""
        seen: set[int] = set()

        def workday(day: date) -> bool:
            seen.add(day.year)
            return self.is_workday(day)

        if counting == "working":
            day, counted = start, 0
            while counted < days:
                day += timedelta(days=1)
                if workday(day):
                    counted += 1
        else:
            day = start + timedelta(days=days)
            while not workday(day):
                day += timedelta(days=1)
        return Deadline(day, tuple(sorted(year for year in seen if not self.knows(year))))

    def unknown_years_ahead(self, today: date, horizon_days: int) -> tuple[int, ...]:
        """Years between ``today`` and ``horizon_days`` later the calendar does not know: deadlines
        counted now may reach them, so operators should add the schedule before they do."""
        last = today + timedelta(days=horizon_days)
        return tuple(year for year in range(today.year, last.year + 1) if not self.knows(year))


def horizon_days(days: int, counting: Counting) -> int:
    """How far ahead a period of ``days`` can end, generously: working days spread over weeks and
    the Spring Festival and National Day breaks (up to 9 days off in a row) push the end out."""
    span = days if counting == "calendar" else days * 7 // 5 + 7
    return span + 14
