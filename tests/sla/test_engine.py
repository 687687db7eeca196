"""The SLA engine over real Redis with time travel: reminders and rungs fire once, at the right time,
whichever worker is alive, across restarts, pauses and stops.

Each test runs engines as background jobs (gateway/background.py JobRunner) on their own Redis
connections, as separate worker processes would, against the SMS stand-in served over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx
import orjson
import pytest
import time_machine
from starlette.applications import Starlette

from gateway.actor import Actor
from gateway.background import JobRunner
from gateway.calls import Call, ChannelPolicy, Outcome
from gateway.catalog import BY_ID
from gateway.config import ConfigContext, CourtSettings, SlaSettings, SmsSettings
from gateway.notify import RetryPolicy, SmsResult, SmsSender
from gateway.notify.routes import NotificationRoutes
from gateway.notify.standin import SmsStandIn
from gateway.resilience.outbox import delivery_key
from gateway.sla.calendar import CHINA, PACKAGE_YEARS, StatutoryCalendar
from gateway.sla.engine import SlaEngine
from gateway.sla.listener import TimerStarter
from gateway.sla.reactions import react, timer_event
from gateway.sla.timers import Timer, TimerStore, timer_id
from gateway.state.redis import RedisState
from tests.support.stack import RedisServer, serving

COURT = "粤0106"
HANDLER, DIVISION_HEAD, VICE_PRESIDENT, PRESIDENT = "13900000001", "13900000002", "13900000003", "13900000004"
ENV = {
    "EVENT_SECRET": secrets.token_urlsafe(32), "SMS_ACCESS_KEY": "ak-sla-test",
    "HANDLERS": orjson.dumps({"staff-lian-01": HANDLER}).decode(),
    "DIVISION_HEAD": DIVISION_HEAD, "VICE_PRESIDENT": VICE_PRESIDENT, "PRESIDENT": PRESIDENT,
}
FAST = RetryPolicy(attempts=2, first_wait_s=0.01, max_wait_s=0.02)


def beijing(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


def court_settings() -> CourtSettings:
    return CourtSettings.model_validate({
        "name": "天河区人民法院", "base_url": "http://127.0.0.1:9", "event_secret_env": "EVENT_SECRET",
        "contacts": {"handlers_env": "HANDLERS", "roles": {
            "division_head": {"phones_env": ["DIVISION_HEAD"]}, "vice_president": {"phones_env": ["VICE_PRESIDENT"]},
            "president": {"phones_env": ["PRESIDENT"]}}},
    }, context=ConfigContext(env=ENV))


class Recording:
    """The SMS sender as the engine sees it, counting what the engine asked for (before dedupe)."""

    def __init__(self, sender: SmsSender, fail_after_send: int = 0) -> None:
        self.sender = sender
        self.asked: list[str] = []
        self._fail_after_send = fail_after_send

    async def sms(self, phone: str, event: str, params: Mapping[str, object], out_id: str) -> SmsResult:
        self.asked.append(out_id)
        result = await self.sender.sms(phone, event, params, out_id)
        if self._fail_after_send:
            # The process "dies" right after the provider took the message, before it is recorded.
            self._fail_after_send -= 1
            raise ConnectionResetError("worker killed after sending")
        return result


@dataclass
class World:
    redis: RedisServer
    standin: SmsStandIn
    sms_url: str
    http: httpx.AsyncClient
    settings: SlaSettings = field(default_factory=SlaSettings)
    calendar: StatutoryCalendar = field(default_factory=StatutoryCalendar)
    courts: dict[str, CourtSettings] = field(default_factory=lambda: {COURT: court_settings()})
    _states: list[RedisState] = field(default_factory=list)

    def state(self) -> RedisState:
        """A new connection pool: each worker has its own, as separate processes would."""
        state = RedisState(self.redis.url)
        self._states.append(state)
        return state

    def store(self) -> TimerStore:
        return TimerStore(self.state(), self.settings.rule)

    def engine(self, notifier: Recording | None = None, calendar: StatutoryCalendar | None = None,
               lease_s: float = 30.0) -> tuple[SlaEngine, Recording]:
        state = self.state()
        sms = SmsSettings.model_validate({"base_url": self.sms_url, "sign_name": "广州法院",
                                          "access_key_env": "SMS_ACCESS_KEY"}, context=ConfigContext(env=ENV))
        recording = notifier or Recording(SmsSender(sms, state, self.http, FAST))
        engine = SlaEngine(TimerStore(state, self.settings.rule), calendar or self.calendar, self.courts,
                           recording, NotificationRoutes(state, b"k" * 32), poll_s=0.02, lease_s=lease_s,
                           gauges_every_s=3600)
        return engine, recording

    async def close(self) -> None:
        for state in self._states:
            await state.close()

    def sent(self) -> list[tuple[str, str | None, str | None]]:
        return [(m.phone, m.out_id, m.text) for m in self.standin.messages]

    def out_ids(self) -> Counter[str | None]:
        return Counter(m.out_id for m in self.standin.messages)


@pytest.fixture
async def world(redis_server: RedisServer) -> AsyncIterator[World]:
    redis_server.flush()
    standin = SmsStandIn(access_key=ENV["SMS_ACCESS_KEY"])
    async with serving(Starlette(routes=standin.routes())) as url, httpx.AsyncClient() as http:
        built = World(redis_server, standin, url, http)
        try:
            yield built
        finally:
            await built.close()


@contextlib.asynccontextmanager
async def running(*engines: SlaEngine) -> AsyncIterator[JobRunner]:
    runner = JobRunner(list(engines))
    runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


async def until(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def eventually(read: Callable[[], Awaitable[Timer | None]], check: Callable[[Timer | None], bool],
                     timeout_s: float = 5.0) -> Timer | None:
    """Read a timer until ``check`` holds (engines work in the background)."""
    deadline = time.monotonic() + timeout_s
    while not check(value := await read()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timer never reached the expected state: {value}")
        await asyncio.sleep(0.02)
    return value


async def quiet(seconds: float = 0.3) -> None:
    """Long enough for engines polling every 20 ms to have done anything they were going to."""
    await asyncio.sleep(seconds)


async def recorded(world: World, filing: str, steps: set[str]) -> None:
    """Wait until the timer records ``steps`` as fired: a clock jump past a lease while a worker is
    still recording its step would (rightly) let the other worker take the timer over."""
    await eventually(lambda: world.store().get(timer_id(COURT, "filing_id", filing)),
                     lambda timer: timer is not None and steps <= set(timer.fired))


async def accept_filing(world: World, operation: str = "filings.submit", queued: bool = False) -> str:
    """What the gateway does when it accepts a write: the listener starts the timer."""
    item = "LA-0106-" + secrets.token_hex(6)
    result = {"status": "queued", "delivery_id": "dl-" + item} if queued else {"filing_id": item, "status": "SUBMITTED"}
    call = Call(operation=BY_ID[operation], channel=ChannelPolicy("wechat", None), credential=None, args={},
                request_id="req-" + secrets.token_hex(4))
    outcome = Outcome(result, 202 if queued else 201, queued=queued, court=COURT,
                      actor=Actor(sub="p_test", assurance="L2", channel="wechat"))
    await TimerStarter(world.settings, world.calendar, world.store()).write_accepted(call, outcome)
    return item


async def court_event(world: World, event_type: str, data: dict[str, Any], item_field: str = "filing_id") -> Timer:
    """What the events endpoint does to the timer (tested over HTTP in tests/events)."""
    now = time.time()
    change = timer_event(event_type, data, "evt-" + secrets.token_hex(6), now)
    assert change is not None
    store = world.store()
    updated = await store.update(timer_id(COURT, item_field, str(data[item_field])),
                                 lambda t: react(t, change, world.calendar, now), now)
    assert updated is not None
    return updated


async def test_a_friday_filing_before_national_day_reminds_then_climbs_the_ladder_once(world: World) -> None:
    with time_machine.travel(beijing("2025-09-26T16:30:00"), tick=True) as traveller:
        filing = await accept_filing(world)
        timer = await world.store().get(timer_id(COURT, "filing_id", filing))
        assert timer is not None and timer.due == date(2025, 10, 9)  # 10-03 falls in the National Day break
        await court_event(world, "filing.received", {"filing_id": filing, "handler": "staff-lian-01"})
        first, asked_first = world.engine()
        second, asked_second = world.engine()
        async with running(first, second):
            traveller.move_to(beijing("2025-10-08T08:59:50"))
            await quiet()
            assert world.sent() == []
            traveller.move_to(beijing("2025-10-08T09:00:01"))
            await until(lambda: len(world.standin.messages) == 1)
            await recorded(world, filing, {"r2"})
            phone, _, text = world.sent()[0]
            assert phone == HANDLER
            assert text == f"【广州法院】办理提醒：网上立案申请{filing}（已受理12天）将于10月9日到期，请及时办理。"

            traveller.move_to(beijing("2025-10-10T09:00:01"))
            await until(lambda: len(world.standin.messages) == 3)
            await recorded(world, filing, {"r2", "e0"})
            rung = world.standin.messages[1:]
            assert {m.phone for m in rung} == {HANDLER, DIVISION_HEAD}
            assert rung[0].text == (f"【广州法院】督办提醒：网上立案申请{filing}（已受理14天，期限10月9日）"
                                    "已超过办理期限1天，请督促办理。")

            traveller.move_to(beijing("2025-10-11T09:00:01"))
            await until(lambda: len(world.standin.messages) == 4)
            await recorded(world, filing, {"r2", "e0", "e1"})
            assert world.standin.messages[3].phone == VICE_PRESIDENT
            traveller.move_to(beijing("2025-10-12T09:00:01"))
            await until(lambda: len(world.standin.messages) == 5)
            assert world.standin.messages[4].phone == PRESIDENT
            assert "已超过办理期限3天" in (world.standin.messages[4].text or "")
            traveller.move_to(beijing("2025-10-30T09:00:01"))
            await quiet()
    assert len(world.standin.messages) == 5
    assert set(world.out_ids().values()) == {1}
    # The leases kept the two workers apart: no step was even attempted twice.
    assert sorted(asked_first.asked + asked_second.asked) == sorted(str(m.out_id) for m in world.standin.messages)
    done = await world.store().get(timer_id(COURT, "filing_id", filing))
    assert done is not None and set(done.fired) == {"r2", "e0", "e1", "e2"} and done.status == "running"


async def test_many_timers_and_three_workers_never_double_send(world: World) -> None:
    with time_machine.travel(beijing("2026-03-02T10:00:00"), tick=True) as traveller:
        filings = [await accept_filing(world) for _ in range(30)]
        engines = [world.engine(lease_s=30.0) for _ in range(3)]
        async with running(*(engine for engine, _ in engines)):
            # Due 03-09. Every reminder at once (no handler is known yet: they go to the division head) ...
            traveller.move_to(beijing("2026-03-08T09:00:01"))
            await until(lambda: len(world.standin.messages) == 30)
            # Let every worker record what it sent before the clock jumps two days: a jump past a
            # lease in the middle of attending a timer would (rightly) let another worker take it over.
            await quiet()
            # ... then every first rung (the handler has no phone: the division head again).
            traveller.move_to(beijing("2026-03-10T09:00:01"))
            await until(lambda: len(world.standin.messages) == 60)
            await quiet()
    assert len(world.standin.messages) == 60 and set(world.out_ids().values()) == {1}
    assert {m.phone for m in world.standin.messages} == {DIVISION_HEAD}
    asked = Counter(out for _, recording in engines for out in recording.asked)
    assert set(asked.values()) == {1}
    assert len(filings) == 30


async def test_a_restart_in_the_middle_loses_nothing_and_repeats_nothing(world: World) -> None:
    with time_machine.travel(beijing("2025-09-26T16:30:00"), tick=True) as traveller:
        filing = await accept_filing(world)
        await court_event(world, "filing.received", {"filing_id": filing, "handler": "staff-lian-01"})
        before, _ = world.engine()
        async with running(before):
            traveller.move_to(beijing("2025-10-08T09:00:01"))
            await until(lambda: len(world.standin.messages) == 1)
        # No worker runs while the deadline passes and the first two rungs come due.
        traveller.move_to(beijing("2025-10-11T10:00:00"))
        await quiet()
        assert len(world.standin.messages) == 1
        after, _ = world.engine()
        async with running(after):
            await until(lambda: len(world.standin.messages) == 4)
            await quiet()
    assert [m.phone for m in world.standin.messages] == [HANDLER, HANDLER, DIVISION_HEAD, VICE_PRESIDENT]
    assert set(world.out_ids().values()) == {1}


async def test_a_worker_killed_between_sending_and_recording_is_finished_by_another(world: World) -> None:
    with time_machine.travel(beijing("2026-03-02T10:00:00"), tick=True) as traveller:
        filing = await accept_filing(world)
        await court_event(world, "filing.received", {"filing_id": filing, "handler": "staff-lian-01"})
        dying, recording = world.engine(lease_s=20.0)
        recording._fail_after_send = 1
        async with running(dying):
            traveller.move_to(beijing("2026-03-08T09:00:01"))  # the reminder, 2 days before 03-09 ends
            await until(lambda: len(world.standin.messages) == 1)
            await quiet()
        timer = await world.store().get(timer_id(COURT, "filing_id", filing))
        assert timer is not None and "r2" not in timer.fired  # sent, but never recorded
        traveller.shift(25)  # the dead worker's lease runs out
        survivor, asked = world.engine()
        async with running(survivor):
            await until(lambda: bool(asked.asked))
            await quiet()
        timer = await world.store().get(timer_id(COURT, "filing_id", filing))
    assert timer is not None and "r2" in timer.fired
    assert len(world.standin.messages) == 1  # the SMS sender knew that OutId: nothing went out twice


async def test_a_correction_pauses_the_clock_and_the_resubmission_restarts_it_in_full(world: World) -> None:
    with time_machine.travel(beijing("2025-09-26T16:30:00"), tick=True) as traveller:
        filing = await accept_filing(world)
        await court_event(world, "filing.received", {"filing_id": filing, "handler": "staff-lian-01"})
        engine, _ = world.engine()
        async with running(engine):
            traveller.move_to(beijing("2025-09-29T10:00:00"))
            paused = await court_event(world, "filing.correction_required", {"filing_id": filing, "items": ["证据清单"]})
            assert paused.status == "paused"
            traveller.move_to(beijing("2025-10-12T09:00:01"))  # every step of the first cycle is past
            await quiet()
            assert world.sent() == []
            traveller.move_to(beijing("2025-10-13T15:00:00"))
            again = await court_event(world, "filing.received", {"filing_id": filing})
            assert (again.status, again.cycle, again.due) == ("running", 2, date(2025, 10, 20))
            traveller.move_to(beijing("2025-10-19T09:00:01"))
            await until(lambda: len(world.standin.messages) == 1)
            await quiet()
    message = world.standin.messages[0]
    assert message.phone == HANDLER and message.out_id is not None and ".2.r2." in message.out_id
    assert "将于10月20日到期" in (message.text or "")


async def test_the_docketing_event_stops_the_timer(world: World) -> None:
    with time_machine.travel(beijing("2026-03-02T10:00:00"), tick=True) as traveller:
        filing = await accept_filing(world)
        await court_event(world, "filing.received", {"filing_id": filing, "handler": "staff-lian-01"})
        engine, _ = world.engine()
        async with running(engine):
            traveller.move_to(beijing("2026-03-08T09:00:01"))
            await until(lambda: len(world.standin.messages) == 1)
            stopped = await court_event(world, "filing.docketed", {"filing_id": filing, "case_no": "（2026）粤0106民初9号"})
            assert stopped.status == "stopped"
            traveller.move_to(beijing("2026-03-20T09:00:01"))
            await quiet()
    assert len(world.standin.messages) == 1
    assert await world.store().open_timers(COURT, 10) == []


async def test_a_provisional_deadline_is_counted_again_when_the_calendar_learns_the_year(world: World) -> None:
    # The calendar as chinese-calendar 1.11.0 has it: 2027 is not published yet.
    until_2026 = frozenset(year for year in PACKAGE_YEARS if year <= 2026)
    world.calendar = StatutoryCalendar(package_years=until_2026)
    with time_machine.travel(beijing("2026-12-28T10:00:00"), tick=True):
        filing = await accept_filing(world)
        tid = timer_id(COURT, "filing_id", filing)
        timer = await world.store().get(tid)
        assert timer is not None and timer.provisional and timer.due == date(2027, 1, 4)
        # The 2027 schedule arrives by config (a hypothetical closure on Monday 2027-01-04).
        learned = StatutoryCalendar(extra_holidays=[date(2027, 1, 1), date(2027, 1, 4)], package_years=until_2026)
        engine, _ = world.engine(calendar=learned)
        store = world.store()
        async with running(engine):
            recounted = await eventually(lambda: store.get(tid), lambda t: t is not None and not t.provisional)
    assert recounted is not None and recounted.due == date(2027, 1, 5) and recounted.unknown_years == ()


async def test_a_queued_write_keeps_its_clock_and_follows_its_delivery(world: World) -> None:
    with time_machine.travel(beijing("2026-03-02T10:00:00"), tick=True) as traveller:
        item = await accept_filing(world, queued=True)
        delivery = "dl-" + item
        old = timer_id(COURT, "delivery_id", delivery)
        assert (timer := await world.store().get(old)) is not None and timer.awaiting_delivery
        state = world.state()
        await state.set(delivery_key(delivery), orjson.dumps({"delivery_id": delivery, "status": "queued"}))
        engine, _ = world.engine()
        async with running(engine):
            traveller.shift(10)
            await quiet()
            assert await world.store().get(old) is not None  # still queued: still waiting
            record = {"delivery_id": delivery, "operation": "filings.submit", "court": COURT, "status": "delivered",
                      "attempts": 2, "result": {"filing_id": item, "status": "SUBMITTED"}}
            await state.set(delivery_key(delivery), orjson.dumps(record))
            traveller.shift(10)
            new = timer_id(COURT, "filing_id", item)
            store = world.store()
            moved = await eventually(lambda: store.get(new), lambda t: t is not None)
    assert moved is not None and not moved.awaiting_delivery
    assert moved.accepted_at == timer.accepted_at and moved.due == timer.due == date(2026, 3, 9)
    assert await world.store().get(old) is None
    assert [t.id for t in await world.store().open_timers(COURT, 10)] == [new]


async def test_a_failed_delivery_ends_the_clock(world: World) -> None:
    with time_machine.travel(beijing("2026-03-02T10:00:00"), tick=True) as traveller:
        item = await accept_filing(world, queued=True)
        delivery = "dl-" + item
        await world.state().set(delivery_key(delivery), orjson.dumps({"delivery_id": delivery, "status": "failed"}))
        engine, _ = world.engine()
        async with running(engine):
            traveller.shift(10)
            await quiet()
    ended = await world.store().get(timer_id(COURT, "delivery_id", delivery))
    assert ended is not None and (ended.status, ended.end_reason) == ("stopped", "delivery:failed")


async def test_a_rung_with_nobody_to_tell_is_counted_not_crashed(world: World) -> None:
    world.courts = {COURT: court_settings().model_copy(update={"contacts": court_settings().contacts.model_copy(
        update={"roles": {}})})}
    with time_machine.travel(beijing("2026-03-02T10:00:00"), tick=True) as traveller:
        filing = await accept_filing(world)
        engine, recording = world.engine()
        async with running(engine):
            traveller.move_to(beijing("2026-03-12T09:00:01"))
            await quiet()
        timer = await world.store().get(timer_id(COURT, "filing_id", filing))
    assert recording.asked == [] and world.sent() == []
    assert timer is not None and set(timer.fired) == {"r2", "e0", "e1", "e2"}


async def test_a_reminder_that_comes_due_only_after_the_deadline_is_skipped(world: World) -> None:
    with time_machine.travel(beijing("2026-03-02T10:00:00"), tick=True) as traveller:
        filing = await accept_filing(world)
        await court_event(world, "filing.received", {"filing_id": filing, "handler": "staff-lian-01"})
        traveller.move_to(beijing("2026-03-10T09:00:01"))  # no worker ran on the reminder's morning
        engine, recording = world.engine()
        async with running(engine):
            await until(lambda: len(world.standin.messages) == 2)
            await quiet()
        timer = await world.store().get(timer_id(COURT, "filing_id", filing))
    assert {m.phone for m in world.standin.messages} == {HANDLER, DIVISION_HEAD}
    assert all(".e0." in out for out in recording.asked)
    assert timer is not None and set(timer.fired) == {"r2", "e0"}
