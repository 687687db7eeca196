"""Deadline counting (Civil Procedure Law art. 85) over China's statutory calendar: pure, no I/O."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.sla.calendar import PACKAGE_YEARS, StatutoryCalendar, horizon_days

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


def test_a_year_the_package_does_not_know_is_counted_provisionally_with_weekends_only() -> None:
    # 2026-12-28 + 7 = 2027-01-04, a Monday: weekends only, so it stands, flagged provisional.
    deadline = UNTIL_2026.deadline(date(2026, 12, 28), 7, "calendar")
    assert (deadline.due, deadline.unknown_years, deadline.provisional) == (date(2027, 1, 4), (2027,), True)
    # 2027-01-02 would be a Saturday: moved to Monday 01-04, still provisional.
    assert UNTIL_2026.deadline(date(2026, 12, 26), 7, "calendar").due == date(2027, 1, 4)
    # Working days across the year end: 12-31 (Thursday, 2026) then 2027-01-01, a Friday counted as
    # a working day for want of the 2027 schedule.
    working = UNTIL_2026.deadline(date(2026, 12, 30), 2, "working")
    assert working.due == date(2027, 1, 1) and working.provisional


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
