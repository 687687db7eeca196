"""Deadline counting (Civil Procedure Law art. 85) over China's statutory calendar: pure, no I/O."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from gateway.sla.calendar import PACKAGE_YEARS, StatutoryCalendar, horizon_days, national_holidays

CAL = StatutoryCalendar()


@pytest.mark.parametrize(("start", "days", "counting", "due"), [
    # A filing on Friday 2025-09-26: day 7 is 10-03, inside the National Day break (10-01..10-08),
    # so the period ends on the first working day after it.
    (date(2025, 9, 26), 7, "calendar", date(2025, 10, 9)),
    # Friday 2026-09-18: day 7 is 2026-09-25, the Mid-Autumn Festival; the weekend after it is off too.
    (date(2026, 9, 18), 7, "calendar", date(2026, 9, 28)),
    # The first day is not counted: Monday + 7 calendar days is the next Monday, a working day.
    (date(2026, 3, 2), 7, "calendar", date(2026, 3, 9)),
    # A period ending on an ordinary Saturday moves to Monday (weekends are statutory days off).
    (date(2026, 3, 4), 3, "calendar", date(2026, 3, 9)),
    # ... but one ending on a 调休 Saturday (2026-10-10 is worked) ends there.
    (date(2026, 10, 3), 7, "calendar", date(2026, 10, 10)),
    # Two working days from the last day before National Day: 10-08 and 10-09.
    (date(2026, 9, 30), 2, "working", date(2026, 10, 9)),
    # Two working days from Friday 10-09: the 调休 Saturday 10-10 counts, then Monday 10-12.
    (date(2026, 10, 9), 2, "working", date(2026, 10, 12)),
    # Spring Festival 2026 (02-15..02-23) with 调休 Saturdays 02-14 and 02-28.
    (date(2026, 2, 13), 2, "working", date(2026, 2, 24)),
])
def test_deadlines(start: date, days: int, counting: str, due: date) -> None:
    deadline = CAL.deadline(start, days, counting)  # type: ignore[arg-type]
    assert deadline.due == due
    assert not deadline.provisional


#: the calendar as chinese-calendar 1.11.0 has it: 2027 not published yet (a newer release may know it)
KNOWN_UNTIL_2026 = frozenset(year for year in PACKAGE_YEARS if year <= 2026)
UNTIL_2026 = StatutoryCalendar(package_years=KNOWN_UNTIL_2026)


def test_the_installed_package_knows_the_years_these_tests_count_in() -> None:
    assert {2025, 2026} <= PACKAGE_YEARS


def test_a_year_the_package_does_not_know_is_counted_provisionally() -> None:
    # 2026-12-28 + 7 = 2027-01-04, a Monday: no named holiday, so it stands, flagged provisional.
    deadline = UNTIL_2026.deadline(date(2026, 12, 28), 7, "calendar")
    assert (deadline.due, deadline.unknown_years, deadline.provisional) == (date(2027, 1, 4), (2027,), True)
    # 2027-01-02 would be a Saturday: moved to Monday 01-04, still provisional.
    assert UNTIL_2026.deadline(date(2026, 12, 26), 7, "calendar").due == date(2027, 1, 4)
    # Working days across the year end: 12-31 (Thursday, 2026), then 2027-01-01 is 元旦, a named
    # national holiday even before the 2027 schedule is published: the second working day is 01-04.
    working = UNTIL_2026.deadline(date(2026, 12, 30), 2, "working")
    assert working.due == date(2027, 1, 4) and working.provisional


# Issue 14: provisional counting also skips the holidays the national rules name, lunar ones included.
# 2030 is far beyond any chinese-calendar release: 春节 2030-02-03 (除夕 02-02), 清明 04-05, 端午 06-05,
# 中秋 09-12 (published lunar calendar tables).
NAMED_2030 = {date(2030, 1, 1), date(2030, 2, 2), date(2030, 2, 3), date(2030, 2, 4), date(2030, 2, 5),
              date(2030, 4, 5), date(2030, 5, 1), date(2030, 5, 2), date(2030, 6, 5), date(2030, 9, 12),
              date(2030, 10, 1), date(2030, 10, 2), date(2030, 10, 3)}


def test_the_named_national_holidays_of_a_year_are_computed() -> None:
    assert national_holidays(2030) == NAMED_2030


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_named_holiday_is_a_day_off_in_the_published_schedules(year: int) -> None:
    """The 2024 revision applies from 2025: each day it names is off in the State Council's schedule."""
    assert year in PACKAGE_YEARS
    assert [day for day in sorted(national_holidays(year)) if chinese_calendar.is_workday(day)] == []


def test_provisional_counting_skips_the_spring_festival_of_an_unknown_year() -> None:
    # 2030-01-24 + 10 = 02-03 (初一, a Sunday); 02-04 and 02-05 are 初二 and 初三: due Wednesday 02-06.
    deadline = UNTIL_2026.deadline(date(2030, 1, 24), 10, "calendar")
    assert (deadline.due, deadline.provisional) == (date(2030, 2, 6), True)
    # Working days over 中秋 (Thursday 2030-09-12): 09-11, then 09-13.
    assert UNTIL_2026.deadline(date(2030, 9, 10), 2, "working").due == date(2030, 9, 13)


def test_config_entries_make_a_year_known_and_are_used() -> None:
    # The operator adds the 2027 New Year holiday (as the State Council would publish it).
    calendar = StatutoryCalendar(extra_holidays=[date(2027, 1, 1)], extra_workdays=[date(2027, 1, 2)],
                                 package_years=KNOWN_UNTIL_2026)
    assert calendar.knows(2027)
    working = calendar.deadline(date(2026, 12, 30), 2, "working")
    assert (working.due, working.provisional) == (date(2027, 1, 2), False)  # 12-31, then the worked Saturday


def test_config_overrides_win_over_the_package() -> None:
    closure = StatutoryCalendar(extra_holidays=[date(2026, 3, 9)])  # a local closure on a Monday
    assert closure.deadline(date(2026, 3, 2), 7, "calendar").due == date(2026, 3, 10)
    worked = StatutoryCalendar(extra_workdays=[date(2026, 3, 7)])  # a Saturday made a working day
    assert worked.deadline(date(2026, 3, 4), 3, "calendar").due == date(2026, 3, 7)


def test_unknown_years_ahead_is_the_operators_warning() -> None:
    assert UNTIL_2026.unknown_years_ahead(date(2026, 6, 1), 44) == ()
    assert UNTIL_2026.unknown_years_ahead(date(2026, 11, 26), 44) == (2027,)
    told = StatutoryCalendar(extra_holidays=[date(2027, 1, 1)], package_years=KNOWN_UNTIL_2026)
    assert told.unknown_years_ahead(date(2026, 11, 26), 44) == ()


def test_horizon_covers_working_days_and_long_breaks() -> None:
    assert horizon_days(7, "calendar") == 21
    assert horizon_days(2, "working") == 2 * 7 // 5 + 7 + 14
