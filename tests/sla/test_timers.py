"""Timers in the state store and what court events do to them (memory and Redis)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime

import pytest

from gateway.config import default_sla_rules
from gateway.sla.calendar import CHINA, StatutoryCalendar
from gateway.sla.reactions import react, timer_event
from gateway.sla.timers import DUE_QUEUE, Timer, TimerStore, court_index, new_timer, plan, timer_id
from gateway.state import StateStore, open_state
from tests.support.stack import RedisServer

RULES = default_sla_rules()
CAL = StatutoryCalendar()


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA).timestamp()


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[StateStore]:
    store = open_state("memory" if request.param == "memory" else redis_server.url)
    if request.param == "redis":
        redis_server.flush()
    try:
        yield store
    finally:
        await store.close()


def filing(now: float, court: str = "粤0106") -> Timer:
    return new_timer(CAL, court=court, operation="filings.submit", item_kind="filing_id",
                     item_id="LA-" + secrets.token_hex(4), rule=RULES["filings.submit"], now=now)


def test_the_default_filing_ladder_fires_on_the_mornings_around_the_deadline() -> None:
    steps = plan(RULES["filings.submit"], date(2025, 10, 9))
    assert [(s.key, s.kind, s.roles) for s in steps] == [
        ("r2", "reminder", ("handler",)), ("e0", "escalation", ("handler", "division_head")),
        ("e1", "escalation", ("vice_president",)), ("e2", "escalation", ("president",))]
    assert [datetime.fromtimestamp(s.at, CHINA).isoformat() for s in steps] == [
        "2025-10-08T09:00:00+08:00",  # two days before the period is over: the day before the due day
        "2025-10-10T09:00:00+08:00",  # the first morning it is overdue
        "2025-10-11T09:00:00+08:00", "2025-10-12T09:00:00+08:00"]


def test_a_timer_started_on_the_friday_before_national_day() -> None:
    timer = filing(at("2025-09-26T16:30:00"))
    assert timer.due == date(2025, 10, 9) and not timer.provisional
    assert datetime.fromtimestamp(timer.deadline_at, CHINA).isoformat() == "2025-10-10T00:00:00+08:00"
    assert Timer.from_json(timer.to_json()) == timer


async def test_a_timer_is_created_once_and_scheduled_at_its_first_step(state: StateStore) -> None:
    now = at("2025-09-26T16:30:00")
    store = TimerStore(state, RULES.get)
    timer = filing(now)
    assert await store.create(timer, now)
    assert not await store.create(replace(timer, due=date(2030, 1, 1)), now)  # the same item again
    assert await store.get(timer.id) == timer
    assert await state.ordered(DUE_QUEUE, 10) == [(timer.id, at("2025-10-08T09:00:00"))]
    assert await state.ordered(court_index("粤0106"), 10) == [(timer.id, timer.deadline_at)]
    assert [t.id for t in await store.open_timers("粤0106", 10)] == [timer.id]


async def test_correction_pauses_and_resubmission_restarts_in_full(state: StateStore) -> None:
    store = TimerStore(state, RULES.get)
    start = at("2025-09-26T16:30:00")
    timer = filing(start)
    await store.create(timer, start)
    await store.update(timer.id, lambda t: replace(t, fired={"r2": start}), start)

    received = timer_event("filing.received", {"filing_id": timer.item_id, "handler": "staff-7"}, "e1", start + 60)
    assert received is not None
    noted = await store.update(timer.id, lambda t: react(t, received, CAL, start + 60), start + 60)
    assert noted is not None and noted.handler == "staff-7" and noted.status == "running" and noted.cycle == 1

    pause_at = at("2025-09-29T10:00:00")
    correction = timer_event("filing.correction_required", {"filing_id": timer.item_id, "items": []}, "e2", pause_at)
    assert correction is not None
    paused = await store.update(timer.id, lambda t: react(t, correction, CAL, pause_at), pause_at)
    assert paused is not None and paused.status == "paused"
    assert await state.ordered(DUE_QUEUE, 10) == []  # a paused clock fires nothing
    assert [t.status for t in await store.open_timers("粤0106", 10)] == ["paused"]  # but the board shows it

    back_at = at("2025-10-13T15:00:00")
    again = timer_event("filing.received", {"filing_id": timer.item_id}, "e3", back_at)
    assert again is not None
    restarted = await store.update(timer.id, lambda t: react(t, again, CAL, back_at + 5), back_at + 5)
    assert restarted is not None
    assert (restarted.status, restarted.cycle, dict(restarted.fired)) == ("running", 2, {})
    assert restarted.due == date(2025, 10, 20) and restarted.started_at == back_at
    assert restarted.accepted_at == start and restarted.handler == "staff-7"  # the age still counts from acceptance
    # A redelivery of the same event, or an older one arriving late, changes nothing.
    assert react(restarted, again, CAL, back_at + 99) == restarted
    assert react(restarted, correction, CAL, back_at + 99) == restarted


async def test_the_decision_stops_the_timer_and_unschedules_it(state: StateStore) -> None:
    store = TimerStore(state, RULES.get)
    now = at("2026-03-02T10:00:00")
    timer = filing(now)
    await store.create(timer, now)
    docketed = timer_event("filing.docketed", {"filing_id": timer.item_id, "case_no": "（2026）粤0106民初1号"},
                           "d1", now + 100)
    assert docketed is not None
    stopped = await store.update(timer.id, lambda t: react(t, docketed, CAL, now + 100), now + 100)
    assert stopped is not None and (stopped.status, stopped.end_reason) == ("stopped", "filing.docketed")
    assert stopped.case_no == "（2026）粤0106民初1号"
    assert await state.ordered(DUE_QUEUE, 10) == [] and await store.open_timers("粤0106", 10) == []
    # Nothing restarts an ended timer.
    late = timer_event("filing.received", {"filing_id": timer.item_id}, "d2", now + 200)
    assert late is not None and react(stopped, late, CAL, now + 200) == stopped


@pytest.mark.parametrize(("event_type", "data", "action"), [
    ("filing.reviewed", {"filing_id": "F", "status": "ACCEPTED"}, "stop"),
    ("filing.reviewed", {"filing_id": "F", "status": "NOT_ACCEPTED"}, "stop"),
    ("judge_message.replied", {"case_no": "C", "message_id": "M"}, "stop"),
    ("application.updated", {"application_id": "A", "kind": "refund", "status": "RETURNED_FOR_CORRECTION"}, "pause"),
    ("application.updated", {"application_id": "A", "kind": "refund", "status": "APPLIED"}, "resume"),
    ("application.updated", {"application_id": "A", "kind": "refund", "status": "APPROVED"}, "note"),
    ("refund.completed", {"case_no": "C", "application_id": "A", "amount": "10.00"}, "stop"),
    ("consultation.answered", {"consultation_id": "Q"}, "stop"),
    ("mediation.updated", {"mediation_id": "T", "status": "SETTLED"}, "stop"),
])
def test_what_each_event_does(event_type: str, data: dict[str, str], action: str) -> None:
    change = timer_event(event_type, data, "e", 0.0)
    assert change is not None and change.action == action


def test_events_about_no_timed_item_change_nothing() -> None:
    assert timer_event("hearing.scheduled", {"case_no": "C"}, "e", 0.0) is None
    assert timer_event("payment.confirmed", {"case_no": "C", "payment_id": "P", "amount": 1}, "e", 0.0) is None
    assert timer_event("filing.reviewed", {"filing_id": 42}, "e", 0.0) is None


def test_timer_ids_are_per_court_and_item() -> None:
    assert timer_id("粤0106", "filing_id", "X") != timer_id("粤01", "filing_id", "X")
    assert timer_id("粤0106", "filing_id", "X") == timer_id("粤0106", "filing_id", "X")
