"""The deliveries page lists the writes waiting for a court (oldest first, with how long they have
waited and how often they were tried), for staff of that court only, with nothing personal in it;
on the in-process queue and on a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from demo_data import DEMO_PEOPLE
from gateway.console.views import age_text
from gateway.resilience.outbox import DeliveryRecord, QueuedWrite, delivery_key
from tests.console.support import ConsoleStack, console_stack, filing, queued_write, sign_in
from tests.support.stack import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def console(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[ConsoleStack]:
    state = "memory"
    if request.param == "redis":
        redis_server.flush()
        state = redis_server.url
    async with console_stack(background=False, state=state) as running:  # no deliverer takes the queue
        yield running


async def page_of(console: ConsoleStack, person: str, court: str | None = None) -> str:
    async with httpx.AsyncClient(timeout=20) as client:
        assert (await sign_in(client, console.url, person)).status_code == 303
        answer = await client.get(console.url + "/console/deliveries", params={"court": court} if court else None)
        assert answer.status_code == 200
        return answer.text


async def test_staff_see_their_courts_queued_writes_oldest_first_and_nothing_personal(console: ConsoleStack) -> None:
    first = await queued_write(console, "粤0106", "first")
    second = await queued_write(console, "粤0106", "second")
    elsewhere = await queued_write(console, "粤01", "elsewhere")
    runtime = console.stack.host.runtime
    assert runtime is not None
    tried = DeliveryRecord.loads(await runtime.gateway.state.get(delivery_key(first)) or b"{}")
    tried.attempts, tried.status = 2, "delivering"
    await runtime.gateway.state.set(*tried.record())

    page = await page_of(console, "staff-tianhe")
    table = page[page.index('id="pending-writes"'):page.index("</table>", page.index('id="pending-writes"'))]
    assert 'id="queued-count">2<' in page
    assert table.index(first) < table.index(second) and elsewhere not in page
    assert table.count("filings.submit") == 2 and "投递中" in table and "2 次" in table and "等待投递" in table
    zhang, liu, body = DEMO_PEOPLE["zhangwei"], DEMO_PEOPLE["liuyang"], filing()
    for personal in (zhang.name, zhang.id_number, liu.name, liu.id_number, body["claims"], body["cause"]):
        assert personal not in page

    operator = await page_of(console, "operator", court="粤01")
    assert elsewhere in operator and first not in operator


async def test_a_queue_longer_than_the_page_says_how_many_it_shows(console: ConsoleStack) -> None:
    from gateway.console import views

    runtime = console.stack.host.runtime
    assert runtime is not None and runtime.gateway.pipeline.outbox is not None
    await queued_write(console, "粤0106", "model")
    entries = await runtime.gateway.pipeline.outbox.oldest("粤0106", 1)
    model = entries[0].write
    assert isinstance(model, QueuedWrite)
    for n in range(views.PENDING_SHOWN):
        copy = QueuedWrite(**{**model.__dict__, "delivery_id": f"{model.delivery_id}-{n}"})
        await runtime.gateway.pipeline.outbox.enqueue(copy, [])
    page = await page_of(console, "staff-tianhe")
    assert f'id="queued-count">{views.PENDING_SHOWN + 1}<' in page
    assert f"最早的 {views.PENDING_SHOWN} 件" in page and f"{model.delivery_id}-{views.PENDING_SHOWN - 1}" not in page


@pytest.mark.parametrize(("seconds", "words"), [
    (0, "不到1分钟"), (59.9, "不到1分钟"), (60, "1分钟"), (3599, "59分钟"), (3600, "1小时0分钟"),
    (3600 * 25 + 120, "1天1小时"),
])
def test_waiting_time_in_words(seconds: float, words: str) -> None:
    assert age_text(seconds) == words
