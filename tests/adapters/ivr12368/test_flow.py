"""The call flow as a state machine, with its side effects played by a fake."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.ivr12368.flow import (
    ASK_COURT,
    ASK_PASSWORD,
    ASK_SERIAL,
    BAD_SERIAL,
    MAIN_MENU,
    SILENT_GOODBYE,
    TO_AGENT,
    WELCOME,
    WITHHELD,
    CallFlow,
    CallState,
    FlowSettings,
    Stage,
)
from adapters.ivr12368.protocol import Action, Event, Step
from gateway.errors import ErrorCode, GatewayError

ACTOR = {"sub": "p_x", "assurance": "L2", "channel": "ivr12368", "name": "张伟", "id_type": "ID_CARD",
         "id_number": "440106199001011235", "case_scope": "（2026）粤0106民初22468号"}


@dataclass
class FakeEffects:
    courts: dict[str, str] = field(default_factory=lambda: {"粤0106": "天河区人民法院", "粤01": "广州市中级人民法院"})
    passwords: dict[tuple[str, str], dict[str, Any]] = field(
        default_factory=lambda: {("粤0106", "260615"): ACTOR})
    locked: bool = False
    wrong_passwords: int = 0
    lock_after_cross_call: int = 99  # the shared limiter's verdict
    served: list[str] = field(default_factory=list)
    verify_error: GatewayError | None = None
    serve_error: GatewayError | None = None
    checked: list[str] = field(default_factory=list)

    def court_for_digits(self, digits: str) -> str | None:
        return next((c for c in self.courts if c[1:] == digits), None)

    def court_name(self, court: str) -> str:
        return self.courts[court]

    withheld: bool = False
    paused: set[str] = field(default_factory=set)
    court_budget: int = 99  # wrong passwords a court takes (all callers) before it pauses
    court_failures: int = 0

    def caller_withheld(self) -> bool:
        return self.withheld

    async def caller_locked(self) -> bool:
        return self.locked

    async def court_paused(self, court: str) -> bool:
        return court in self.paused

    async def verify_password(self, court: str, serial: str, password: str) -> dict[str, Any] | None:
        self.checked.append(password)
        if self.verify_error is not None:
            raise self.verify_error
        actor = self.passwords.get((court, password))
        return actor if actor is not None and str(actor["case_scope"]).endswith(f"{serial}号") else None

    async def password_failed(self) -> bool:
        self.wrong_passwords += 1
        return self.wrong_passwords >= self.lock_after_cross_call

    async def court_password_failed(self, court: str) -> bool:
        self.court_failures += 1
        if self.court_failures >= self.court_budget:
            self.paused.add(court)
            return True
        return False

    async def lock_caller(self) -> None:
        self.locked = True

    async def serve(self, call: CallState) -> Step:
        assert call.actor is not None and call.service is not None
        if self.serve_error is not None:
            raise self.serve_error
        self.served.append(call.service)
        return Step(Action.PLAY, f"service {call.service} for {call.actor['case_scope']}", data={"ok": True})


class Caller:
    """Drives a flow step by step, keeping the state between steps as the adapter does."""

    def __init__(self, effects: FakeEffects | None = None, settings: FlowSettings | None = None) -> None:
        self.effects = effects or FakeEffects()
        self.flow = CallFlow(settings or FlowSettings(agent_queue="sip:agents@cc.invalid"), self.effects)
        self.call: CallState | None = None

    async def send(self, event: Event, digits: str = "") -> Step:
        self.call, step = await self.flow.advance(self.call, event, digits, "13631415926")
        return step

    async def start(self) -> Step:
        return await self.send(Event.START)

    def stage(self) -> Stage | None:
        return self.call.stage if self.call is not None else None

    async def press(self, digits: str) -> Step:
        return await self.send(Event.INPUT, digits)


async def verified(caller: Caller) -> Step:
    await caller.start()
    await caller.press("1")
    await caller.press("0106")
    await caller.press("22468")
    return await caller.press("260615")


async def test_start_welcomes_and_offers_the_main_menu() -> None:
    step = await Caller().start()
    assert step.action is Action.COLLECT and step.prompt == WELCOME + MAIN_MENU
    assert step.collect is not None and step.collect.keys == ("1", "2", "3", "0") and step.error is None


async def test_zero_transfers_to_the_agent_queue_and_ends_the_call_state() -> None:
    caller = Caller()
    await caller.start()
    step = await caller.press("0")
    assert (step.action, step.transfer_to, step.prompt) == (Action.TRANSFER, "sip:agents@cc.invalid", TO_AGENT)
    assert caller.call is None


async def test_a_case_service_asks_court_then_serial_then_password_then_plays_the_answer() -> None:
    caller = Caller()
    await caller.start()
    court = await caller.press("1")
    assert court.prompt == ASK_COURT and court.collect is not None and court.collect.finish_key == "#"
    serial = await caller.press("0106")
    assert serial.prompt == "您选择的是天河区人民法院。" + ASK_SERIAL and serial.collect is not None
    assert (serial.collect.min_digits, serial.collect.max_digits, serial.collect.finish_key) == (1, 8, "#")
    password = await caller.press("22468")
    assert password.prompt == ASK_PASSWORD
    result = await caller.press("260615")
    assert (result.action, result.prompt) == (Action.PLAY, "service 1 for （2026）粤0106民初22468号")
    assert caller.stage() is Stage.RESULT and caller.call is not None and caller.call.actor == ACTOR
    after = await caller.send(Event.INPUT)
    assert after.prompt.startswith("重听请按1") and caller.stage() is Stage.AFTER


async def test_after_verification_other_services_and_repeats_need_no_password_again() -> None:
    caller = Caller()
    await verified(caller)
    await caller.send(Event.INPUT)
    repeat = await caller.press("1")
    assert repeat.action is Action.PLAY
    await caller.send(Event.INPUT)
    assert (await caller.press("9")).prompt == MAIN_MENU
    assert (await caller.press("3")).prompt == "service 3 for （2026）粤0106民初22468号"
    await caller.send(Event.INPUT)
    await caller.press("*")
    await caller.press("2")
    assert caller.effects.served == ["1", "1", "3", "2"]
    assert caller.effects.checked == ["260615"]


async def test_an_unknown_court_code_is_asked_again_and_star_goes_back() -> None:
    caller = Caller()
    await caller.start()
    await caller.press("1")
    again = await caller.press("0199")
    assert again.error is ErrorCode.NOT_FOUND and "没有找到这个法院代码" in again.prompt and ASK_COURT in again.prompt
    assert caller.call is not None and caller.call.stage is Stage.COURT
    assert (await caller.press("*")).prompt == MAIN_MENU
    await caller.press("1")
    await caller.press("0106")
    await caller.press("22468")
    assert (await caller.press("*")).prompt == MAIN_MENU


async def test_wrong_passwords_say_how_many_tries_are_left_then_end_the_call_and_lock_the_caller() -> None:
    caller = Caller()
    await caller.start()
    await caller.press("1")
    await caller.press("0106")
    await caller.press("22468")
    first = await caller.press("111111")
    assert first.error is ErrorCode.NOT_FOUND and "您还可以再试两次" in first.prompt
    second = await caller.press("12")  # too short: wrong, without asking the court
    assert "您还可以再试一次" in second.prompt
    third = await caller.press("222222")
    assert third.action is Action.HANGUP and third.error is ErrorCode.RATE_LIMITED
    assert "三十分钟后再试" in third.prompt
    assert caller.call is None and caller.effects.locked
    assert caller.effects.checked == ["111111", "222222"]


async def test_the_shared_limiter_can_lock_a_caller_who_spreads_guesses_over_calls() -> None:
    caller = Caller(FakeEffects(lock_after_cross_call=1))
    await caller.start()
    await caller.press("1")
    await caller.press("0106")
    await caller.press("22468")
    step = await caller.press("111111")
    assert step.action is Action.HANGUP and step.error is ErrorCode.RATE_LIMITED and caller.effects.locked


async def test_a_locked_caller_keeps_the_menu_but_not_case_services() -> None:
    caller = Caller(FakeEffects(locked=True))
    await caller.start()
    step = await caller.press("2")
    assert step.error is ErrorCode.RATE_LIMITED and step.prompt.endswith(MAIN_MENU)
    assert caller.call is not None and caller.call.stage is Stage.MENU
    assert (await caller.press("0")).action is Action.TRANSFER


async def test_a_lock_set_by_another_call_stops_the_password_check() -> None:
    caller = Caller()
    await caller.start()
    await caller.press("1")
    await caller.press("0106")
    await caller.press("22468")
    caller.effects.locked = True
    step = await caller.press("260615")
    assert step.error is ErrorCode.RATE_LIMITED and caller.effects.checked == []


async def test_a_court_that_cannot_check_the_password_does_not_count_as_a_wrong_password() -> None:
    caller = Caller(FakeEffects(verify_error=GatewayError(ErrorCode.BACKEND_UNAVAILABLE)))
    await caller.start()
    await caller.press("1")
    await caller.press("0106")
    await caller.press("22468")
    step = await caller.press("260615")
    assert step.error is ErrorCode.BACKEND_UNAVAILABLE and step.prompt.startswith("法院业务系统暂时无法访问")
    assert caller.call is not None and caller.call.tries == 0 and caller.effects.wrong_passwords == 0


async def test_a_service_error_is_spoken_and_the_caller_can_go_on() -> None:
    caller = Caller(FakeEffects(serve_error=GatewayError(ErrorCode.BACKEND_TIMEOUT)))
    step = await verified(caller)
    assert (step.action, step.error) == (Action.COLLECT, ErrorCode.BACKEND_TIMEOUT)
    assert step.prompt.startswith("法院业务系统响应超时") and "重听请按1" in step.prompt
    assert caller.call is not None and caller.call.stage is Stage.AFTER


async def test_silence_repeats_the_prompt_then_says_goodbye() -> None:
    caller = Caller()
    await caller.start()
    first = await caller.send(Event.NOINPUT)
    assert first.prompt == "您没有按键。" + MAIN_MENU and first.error is None
    await caller.send(Event.NOINPUT)
    last = await caller.send(Event.NOINPUT)
    assert (last.action, last.prompt) == (Action.HANGUP, SILENT_GOODBYE) and caller.call is None


async def test_wrong_keys_explain_and_after_three_put_the_caller_through_to_an_agent() -> None:
    caller = Caller()
    await caller.start()
    first = await caller.press("7")
    assert first.error is ErrorCode.VALIDATION_FAILED and first.prompt == "您的输入有误。" + MAIN_MENU
    second = await caller.send(Event.NOMATCH)
    assert second.error is ErrorCode.VALIDATION_FAILED
    way_out = await caller.press("12")
    assert way_out.action is Action.TRANSFER and way_out.transfer_to == "sip:agents@cc.invalid"
    assert way_out.prompt.startswith("您多次输入有误") and caller.call is None


async def test_a_good_key_resets_the_count_of_misses() -> None:
    caller = Caller()
    await caller.start()
    await caller.send(Event.NOINPUT)
    await caller.send(Event.NOINPUT)
    await caller.press("1")
    assert caller.call is not None and caller.call.misses == 0
    assert (await caller.send(Event.NOINPUT)).action is Action.COLLECT


async def test_hangup_clears_and_a_step_for_an_unknown_call_is_session_expired() -> None:
    caller = Caller()
    await caller.start()
    step = await caller.send(Event.HANGUP)
    assert step.action is Action.HANGUP and caller.call is None
    expired = await caller.press("1")
    assert (expired.action, expired.error) == (Action.HANGUP, ErrorCode.SESSION_EXPIRED)


@pytest.mark.parametrize("attempts", [1, 5])
async def test_the_number_of_password_attempts_is_a_setting(attempts: int) -> None:
    caller = Caller(settings=FlowSettings(max_password_attempts=attempts, lockout_s=600))
    await caller.start()
    await caller.press("1")
    await caller.press("0106")
    await caller.press("22468")
    for _ in range(attempts - 1):
        assert (await caller.press("000000")).action is Action.COLLECT
    last = await caller.press("000000")
    assert last.action is Action.HANGUP and "十分钟后" in last.prompt


def test_call_state_round_trips_and_stays_small() -> None:
    call = CallState("13631415926", Stage.AFTER, "2", "粤0106", "22468", 2, 1, dict(ACTOR, phone="13631415926"))
    raw = call.to_bytes()
    assert CallState.from_bytes(raw) == call
    assert len(raw) < 512
    assert CallState.from_bytes(CallState("").to_bytes()) == CallState("")


async def test_the_password_opens_only_the_case_of_the_serial_keyed() -> None:
    caller = Caller()
    await caller.start()
    await caller.press("1")
    await caller.press("0106")
    await caller.press("22469")  # another serial number: the right password for 22468 opens nothing
    step = await caller.press("260615")
    assert step.error is ErrorCode.NOT_FOUND and "您还可以再试两次" in step.prompt


async def test_a_bad_serial_is_explained_and_asked_again() -> None:
    caller = Caller()
    await caller.start()
    await caller.press("1")
    await caller.press("0106")
    step = await caller.press("123456789")
    assert step.error is ErrorCode.VALIDATION_FAILED and step.prompt.startswith(BAD_SERIAL)
    assert caller.call is not None and caller.call.stage is Stage.SERIAL


async def test_a_withheld_caller_is_put_through_to_an_agent_and_never_locked() -> None:
    caller = Caller(FakeEffects(withheld=True))
    await caller.start()
    step = await caller.press("1")
    assert step.action is Action.TRANSFER and step.prompt.startswith(WITHHELD)
    assert step.error is ErrorCode.SERVICE_NOT_ENABLED and caller.effects.checked == []


async def test_the_courts_budget_pauses_its_password_service_and_offers_an_agent() -> None:
    caller = Caller(FakeEffects(court_budget=1))
    await caller.start()
    await caller.press("1")
    await caller.press("0106")
    await caller.press("22468")
    step = await caller.press("111111")
    assert step.error is ErrorCode.RATE_LIMITED and "暂停使用" in step.prompt and "按0转人工服务" in step.prompt
    assert caller.call is not None and caller.call.stage is Stage.MENU and not caller.effects.locked
    await caller.press("1")
    again = await caller.press("0106")  # still paused: said so before any serial or password
    assert again.error is ErrorCode.RATE_LIMITED and caller.effects.checked == ["111111"]
