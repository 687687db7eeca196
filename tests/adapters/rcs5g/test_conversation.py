"""The 5G conversation's rules over real HTTP: lockouts per number and per court, the shared access token,
replies that survive a platform hiccup, a conversation that survives a restart, the court receiving what the
canonical API would send, errors in words, and no personal data in the logs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import time_machine

from adapters.rcs5g import cards
from adapters.rcs5g.driver import Rcs5gDriver
from gateway import ErrorCode, GatewayError
from gateway.logs import STDOUT
from tests.adapters.rcs5g.support import (
    CASE_NO,
    CHANNEL,
    NUMBER,
    PASSWORD,
    RcsWorld,
    in_words,
    rcs_world,
    wait_for,
)
from tests.support.stack import RedisServer

WRONG = "999999"


@pytest.fixture(scope="module")
async def world() -> AsyncIterator[RcsWorld]:
    async with rcs_world(settings={"lockout_s": 600, "max_password_attempts": 3}) as running:
        yield running


def number_for(tag: int) -> str:
    return f"1360000{tag:04d}"


async def to_password(world: RcsWorld, number: str) -> Any:
    phone = world.phone(number)
    await phone.say("菜单")
    await phone.tap("svc:progress")
    await phone.say(CASE_NO)
    return phone


async def test_three_wrong_passwords_lock_the_number_and_no_other(world: RcsWorld) -> None:
    phone = await to_password(world, number_for(1))
    first = await phone.say(WRONG)
    assert first.text == in_words(ErrorCode.NOT_FOUND, "查询密码不正确，您还可以再试2次。")
    await phone.say(WRONG)
    locked = await phone.say(WRONG)
    assert locked.text.startswith(in_words(ErrorCode.RATE_LIMITED, "由于查询密码输入错误次数过多")) and locked.dial == "12368"
    again = await phone.tap("svc:progress")
    assert again.text.startswith(in_words(ErrorCode.RATE_LIMITED, "由于查询密码"))  # not even asked for a case number
    # the right password no longer helps this number; another number is untouched
    other = await to_password(world, number_for(2))
    assert (await other.say(PASSWORD)).title == CASE_NO


async def test_a_typed_password_of_the_wrong_shape_is_asked_again_without_counting(world: RcsWorld) -> None:
    phone = await to_password(world, number_for(3))
    for _ in range(4):
        assert (await phone.say("abc")).text == in_words(ErrorCode.VALIDATION_FAILED, cards.NOT_A_PASSWORD)
    assert (await phone.say("２６０６１５")).title == CASE_NO  # full-width digits are the same password


async def test_a_case_number_that_is_not_one_or_of_no_court_is_said_in_words(world: RcsWorld) -> None:
    phone = world.phone(number_for(4))
    await phone.say("菜单")
    await phone.tap("svc:payments")
    assert (await phone.say("我的案子")).text == in_words(ErrorCode.INVALID_CASE_NUMBER, cards.NOT_A_CASE_NO)
    assert (await phone.say("（2026）粤0199民初1号")).text == in_words(ErrorCode.NOT_FOUND, cards.UNKNOWN_COURT)
    asked = await phone.say(CASE_NO)
    assert asked.text.endswith(cards.ASK_PASSWORD)
    payments = await phone.say(PASSWORD)
    assert payments.title == f"{CASE_NO} 缴费信息" and cards.PAY_OFFICIALLY in payments.text


async def test_a_court_failure_is_the_codes_message_with_chips_to_go_on(world: RcsWorld) -> None:
    phone = await to_password(world, number_for(5))
    await phone.say(PASSWORD)
    async_client = world.client
    await async_client.post(f"{world.stack.court_root}/_ref/faults",
                            json={"court": "粤0106", "mode": "unavailable_503", "count": 1})
    failed = await phone.tap("svc:hearings")
    assert failed.title is None
    assert failed.text == GatewayError(ErrorCode.BACKEND_UNAVAILABLE).message
    assert "开庭信息" in failed.chips and "菜单" in failed.chips
    assert (await phone.tap("svc:hearings")).title == f"{CASE_NO} 开庭信息"


async def test_the_access_token_is_fetched_once_and_again_after_a_401(world: RcsWorld) -> None:
    phone = world.phone(number_for(6))
    await phone.say("菜单")
    fetched = world.maap.token_fetches
    for text in ("菜单", "你好", "菜单"):
        await phone.say(text)
    assert world.maap.token_fetches == fetched  # cached and shared: no fetch per message
    await world.client.post(f"{world.maap.url}/_stand_in/revoke")
    assert (await phone.say("菜单")).title == "广州法院诉讼服务"  # the 401 led to one new token, then the send
    assert world.maap.token_fetches == fetched + 1


async def test_a_reply_is_sent_again_while_the_platform_is_down(world: RcsWorld) -> None:
    phone = world.phone(number_for(7))
    world.maap.fail_next[:] = [503, 502]
    menu = await phone.say("菜单")
    assert menu.title == "广州法院诉讼服务" and world.maap.fail_next == []
    assert phone.last is not None and phone.last.json() == {"code": 0}  # answered at once, sent later


async def test_the_court_receives_what_the_canonical_api_would_send(world: RcsWorld) -> None:
    phone = await to_password(world, number_for(8))
    mark = world.journal_mark()
    await phone.say(PASSWORD)
    await phone.tap("svc:message")
    await phone.say("请问何时开庭？")
    seen = [e for e in world.stack.journal.entries(since=mark) if not e["path"].endswith("/verify")]
    token = world.stack.issuer.citizen({"name": "张伟", "id_number": "440106199001011235"})
    headers = {"Authorization": f"Bearer {token}"}
    mark = world.journal_mark()
    base = f"{world.stack.gateway_url}/api/v1/cases/{CASE_NO}"
    assert (await world.client.get(f"{base}/progress", headers=headers)).status_code == 200
    sent = await world.client.post(f"{base}/judge-messages", json={"text": "请问何时开庭？"},
                                   headers={**headers, "Idempotency-Key": "canonical-" + number_for(8)})
    assert sent.status_code in (200, 201)
    reference = world.stack.journal.entries(since=mark)

    def request(entry: dict[str, Any]) -> tuple[Any, ...]:
        actor = entry["actor"]
        return entry["method"], entry["path"], entry["query"], entry["body"], actor["name"], actor["id_number"]

    assert [request(e) for e in seen] == [request(e) for e in reference]
    assert {e["actor"]["channel"] for e in seen} == {CHANNEL}


async def test_fees_and_templates_need_no_password(world: RcsWorld) -> None:
    phone = world.phone(number_for(9))
    await phone.say("菜单")
    await phone.tap("svc:fees")
    await phone.tap("fee:民初")
    fees = await phone.say("２０００００")
    canonical = (await world.client.post(f"{world.stack.gateway_url}/api/v1/fees/calculate",
                                         json={"case_type": "民初", "amount": "200000"})).json()
    assert fees.title == "诉讼费计算结果" and f"应交诉讼费：{canonical['total']}元" in fees.text
    await phone.tap("svc:templates")
    found = await phone.say("起诉状")
    assert found.title == "文书模板"


async def test_logs_carry_no_number_name_or_id_number(world: RcsWorld, capfd: pytest.CaptureFixture[str]) -> None:
    phone = await to_password(world, NUMBER)
    await phone.say(PASSWORD)
    await phone.tap("svc:message")
    await phone.say("张伟 13631415926 440106199001011235")
    await phone.say("菜单")
    STDOUT.flush()
    printed = "".join(capfd.readouterr())
    assert '"channel":"rcs5g"' in printed
    for value in ("13631415926", "张伟", "440106199001011235", world.maap.callback_token.decode(),
                  world.maap.app_key):
        assert value not in printed


async def test_guesses_across_numbers_pause_the_courts_password_service() -> None:
    async with rcs_world(config_extra={"gateway": {"password_failures_per_court": "4/hour"}}) as paused:
        for tag in (20, 21):
            phone = await to_password(paused, number_for(tag))
            await phone.say(WRONG)
            last = await phone.say(WRONG)
        assert "密码服务暂停使用" in last.text
        newcomer = world_phone = paused.phone(number_for(22))
        await world_phone.say("菜单")
        await newcomer.tap("svc:progress")
        assert "天河区人民法院的案件查询密码服务暂停使用" in (await newcomer.say(CASE_NO)).text


async def test_a_conversation_survives_a_restart_of_the_gateway(redis_server: RedisServer) -> None:
    driver = Rcs5gDriver(CHANNEL)
    async with rcs_world(state=redis_server.url, driver=driver) as first:
        env = {"GATEWAY_SECRET": first.stack.env["GATEWAY_SECRET"]}
        phone = await to_password(first, number_for(30))
        assert (await phone.say(PASSWORD)).title == CASE_NO
    async with rcs_world(state=redis_server.url, driver=driver, env=env) as second:
        phone = second.phone(number_for(30))
        # still L2 for that case: the next service needs no password
        shown = await phone.tap("svc:hearings")
        assert shown.title == f"{CASE_NO} 开庭信息", shown.text


async def test_shutdown_waits_for_replies_in_flight(world: RcsWorld) -> None:
    phone = world.phone(number_for(10))
    world.maap.fail_next[:] = [503]
    await phone.post("text/plain", "菜单")
    await world.adapter.shutdown()  # drains: the reply is out before it returns
    assert world.adapter.busy == 0
    assert any(m.get("clientCorrelator") == phone.sent[-1] for m in world.maap.sent)


async def test_messages_sent_in_quick_succession_are_answered_in_order(world: RcsWorld) -> None:
    phone = world.phone(number_for(11))
    await phone.say("菜单")
    await phone.tap("svc:progress")
    # the case number and the password leave the phone before the first reply arrives
    await phone.post("text/plain", CASE_NO)
    await phone.post("text/plain", PASSWORD)
    assert (await phone.shown(phone.sent[-1])).title == CASE_NO


async def test_a_persons_turn_is_held_by_one_message_at_a_time_across_instances() -> None:
    from adapters.rcs5g.conversation import Conversations
    from gateway.state.memory import MemoryState

    state = MemoryState()
    first, second = Conversations(state, CHANNEL, 600), Conversations(state, CHANNEL, 600)  # two instances
    order: list[str] = []

    async def one(conversations: Conversations, name: str, hold_s: float) -> None:
        async with conversations.turn("a_person"):
            order.append(name + " in")
            await asyncio.sleep(hold_s)
            order.append(name + " out")

    await asyncio.gather(one(first, "a", 0.2), one(second, "b", 0.0))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    async with first.turn("a_person"):  # and it is free again afterwards
        pass


async def test_a_conversation_ends_after_idle_timeout_s_of_silence() -> None:
    # A world of its own: moving the clock leaves rate limiters and nonces of that world in the future.
    async with rcs_world() as idle_world:
        phone = await to_password(idle_world, number_for(12))
        assert (await phone.say(PASSWORD)).title == CASE_NO
        idle = idle_world.adapter.settings.idle_timeout_s
        start = time.time()
        with time_machine.travel(start + idle - 30, tick=True):
            # a message inside the timeout keeps the conversation (and renews it)
            assert (await phone.tap("svc:hearings")).title == f"{CASE_NO} 开庭信息"
        with time_machine.travel(start + 2 * idle, tick=True):
            # after idle_timeout_s of silence it is gone: the verified case too
            assert (await phone.tap("svc:hearings")).text == cards.ASK_CASE_NO


async def test_a_reply_the_platform_never_takes_is_logged_as_an_error_not_dropped_silently(
        world: RcsWorld, capfd: pytest.CaptureFixture[str]) -> None:
    phone = world.phone(number_for(13))
    world.maap.fail_next[:] = [503] * world.adapter.settings.reply_attempts
    await phone.post("text/plain", "菜单")
    await wait_for(lambda: world.adapter.busy == 0)
    assert world.maap.fail_next == [] and not any(m.get("clientCorrelator") == phone.sent[-1]
                                                  for m in world.maap.sent)
    STDOUT.flush()
    printed = "".join(capfd.readouterr())
    assert '"event":"outbound message given up after every try"' in printed and '"level":"error"' in printed


async def test_a_person_cannot_run_a_service_in_bulk() -> None:
    async with rcs_world(settings={"rate_limits": {"per_actor": "3/minute", "per_channel": "1000/second"}}) as limited:
        phone = await to_password(limited, number_for(40))
        answers = [await phone.say(PASSWORD)]
        answers += [await phone.tap("svc:progress") for _ in range(3)]
        assert [a.title for a in answers[:3]] == [CASE_NO] * 3
        assert answers[-1].title is None and answers[-1].text == GatewayError(ErrorCode.RATE_LIMITED).message
        assert "案件进展" in answers[-1].chips  # chips to go on, once the limit allows


async def test_a_judge_message_while_the_court_is_down_is_queued_and_delivered_later(world: RcsWorld) -> None:
    phone = await to_password(world, number_for(14))
    await phone.say(PASSWORD)
    await phone.tap("svc:message")
    mark = world.journal_mark()
    await world.client.post(f"{world.stack.court_root}/_ref/faults",
                            json={"court": "粤0106", "mode": "unavailable_503", "count": 1})
    card = await phone.say("法院暂时不可用时的留言")
    assert card.title == f"{CASE_NO} 留言已提交" and card.text.startswith("您的留言已受理，将尽快转交法官。")

    def delivered() -> list[dict[str, Any]]:
        return [e for e in world.court_requests("/judge-messages", mark) if e["method"] == "POST"
                and e["body"] == {"text": "法院暂时不可用时的留言"} and e.get("status", 201) < 300]

    await wait_for(lambda: len(delivered()) >= 1, 30.0)
    assert len(delivered()) == 1
