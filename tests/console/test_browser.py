"""The console in real headless Chromium: staff, operators and the channel simulator, each leaving a
screenshot (three of them are in the README)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from playwright.async_api import Page, expect

from gateway.app import Runtime
from gateway.background import JobRunner
from gateway.resilience.deliverer import Deliverer, DeliverySettings
from gateway.resilience.outbox import delivery_key
from gateway.sla.engine import SlaEngine
from tests.console.browser import browser_page, demo_process, screenshot, sign_in_as
from tests.console.support import ConsoleStack, console_stack, dead_letter, file_one, queued_write

COURT = "粤0106"


async def poll(condition: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def test_staff_sign_in_see_their_overdue_filing_only_and_deliver_a_dead_letter_again() -> None:
    async with console_stack(background=False) as console:
        own = (await file_one(console, COURT, "own")).json()["filing_id"]
        other = (await file_one(console, "粤01", "other")).json()["filing_id"]
        delivery_id = await dead_letter(console, COURT, "dead")
        queued_id = await queued_write(console, COURT, "waiting")
        staff = {"Authorization": f"Bearer {console.idp.mint('staff-tianhe')}"}
        async with httpx.AsyncClient(timeout=20) as client:
            board = (await client.get(console.url + "/api/v1/admin/sla", headers=staff)).json()
        deadline = next(i["deadline"] for i in board["items"] if i["item_id"] == own)
        runtime = console.stack.host.runtime
        assert runtime is not None
        # The morning after the deadline the gateway reported (whatever day the test runs on); the SLA
        # engine (only it: no deliverer may take the dead letter) climbs the first rung meanwhile.
        with time_machine.travel(datetime.fromisoformat(deadline) + timedelta(hours=9), tick=True):
            timers = JobRunner([job for job in runtime.jobs if isinstance(job, SlaEngine)])
            timers.start()
            try:
                await poll(lambda: first_rung_fired(console, own))
            finally:
                await timers.stop()
            async with browser_page() as page:
                await sign_in_as(page, console.url, "staff-tianhe")
                await page.select_option("#status", "overdue")
                await page.get_by_role("button", name="筛选").click()
                row = page.locator("tr", has_text=own)
                await expect(row).to_contain_text("已超期")
                await expect(row).to_contain_text("第1级督办：承办人、庭长")
                await expect(page.locator("main")).not_to_contain_text(other)
                await screenshot(page, "console-board")
                # Readable on a phone: nothing wider than the screen but the tables, which scroll inside.
                await page.set_viewport_size({"width": 390, "height": 844})
                assert await page.evaluate("document.documentElement.scrollWidth") <= 390
                await page.set_viewport_size({"width": 1100, "height": 900})
                await page.get_by_role("link", name="待投递与死信").click()
                waiting = page.locator("#pending-writes tbody tr")
                await expect(waiting).to_have_count(1)
                await expect(waiting).to_contain_text(queued_id)
                await expect(waiting).to_contain_text("等待投递")
                await page.get_by_role("button", name=f"重新投递 {delivery_id}").click()
                await expect(page.get_by_role("status")).to_contain_text("已重新投递")
                # Off the dead letters, back on the court's queue: it waits there with the other one.
                await expect(page.get_by_role("button", name=f"重新投递 {delivery_id}")).to_have_count(0)
                await expect(waiting).to_have_count(2)
                await expect(page.locator("#pending-writes tbody tr", has_text=delivery_id)).to_contain_text("0 次")
                await screenshot(page, "console-deliveries")
        deliverer = Deliverer(runtime.gateway.pipeline, [COURT], settings=DeliverySettings(block_s=0.1))
        stop = asyncio.Event()
        task = asyncio.create_task(deliverer.run(stop))
        try:
            async def delivered() -> bool:
                raw = await runtime.gateway.state.get(delivery_key(delivery_id))
                return raw is not None and b'"delivered"' in raw
            await poll(delivered)
            await poll(lambda: nothing_waits(runtime))
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def nothing_waits(runtime: Runtime) -> bool:
    outbox = runtime.gateway.pipeline.outbox
    assert outbox is not None
    return await outbox.backlog(COURT) == 0


async def first_rung_fired(console: ConsoleStack, filing_id: str) -> bool:
    staff = {"Authorization": f"Bearer {console.idp.mint('staff-tianhe')}"}  # minted on the travelled clock
    async with httpx.AsyncClient(timeout=20) as client:
        board = (await client.get(console.url + "/api/v1/admin/sla", headers=staff)).json()
    return any(i["item_id"] == filing_id and i["rung"] for i in board["items"])


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    with demo_process() as url:
        yield url


async def court_row_says(page: Page, text: str) -> None:
    await page.reload()
    await expect(page.locator(f"tr[data-court='{COURT}'] .state")).to_have_text(text)


async def test_an_operator_sees_a_court_go_down_and_come_back(demo: str) -> None:
    court_root = demo.rsplit(":", 1)[0] + ":" + str(int(demo.rsplit(":", 1)[1]) + 1)
    async with browser_page() as page, httpx.AsyncClient(timeout=10) as client:
        await sign_in_as(page, demo, "operator")
        await expect(page.locator("h1")).to_have_text("运行状况")
        await court_row_says(page, "正常")
        await client.post(court_root + "/_ref/faults", json={"court": COURT, "mode": "unavailable_503"})
        try:
            await court_row_says(page, "不可用")
            await screenshot(page, "console-ops-court-down")
        finally:
            await client.post(court_root + "/_ref/faults", json={"court": None, "mode": "ok"})
        await court_row_says(page, "正常")


async def test_the_simulator_runs_a_kiosk_session_to_a_receipt_and_a_12368_call_to_spoken_progress(
        demo: str) -> None:
    async with browser_page(width=1280, height=1000) as page:
        await sign_in_as(page, demo, "staff-tianhe")
        await page.goto(demo + "/console/simulator")
        kiosk = page.locator("section#kiosk")
        await kiosk.get_by_label("身份证").select_option("valid")
        await kiosk.get_by_role("button", name="插入身份证并识别人脸").click()
        await kiosk.get_by_role("button", name="查询案件进度").click()
        await expect(page.locator("section#kiosk pre.receipt")).to_contain_text("22468")
        hotline = page.locator("section#ivr12368")
        await hotline.get_by_role("button", name="拨打 12368").click()
        # Menu 1, the court's digits, the case's serial number, then its query password (CONTRACTS.md 4.5).
        for keys in ("1", "0106#", "22468#", "260615#"):
            await dial(page, keys)
        await expect(page.locator("section#ivr12368 ol.spoken")).to_contain_text("目前状态")
        await screenshot(page, "console-simulator")
        # The card is taken out; the next call says so, rather than "timed out".
        await page.locator("section#kiosk").get_by_role("button", name="取出身份证").click()
        await page.locator("section#kiosk").get_by_role("button", name="查询案件进度").click()
        await expect(page.locator("section#kiosk .screen")).to_contain_text("身份证已取出")


async def dial(page: Page, keys: str) -> None:
    hotline = page.locator("section#ivr12368")
    for key in keys:
        await hotline.get_by_role("button", name=key, exact=True).click()
    await hotline.get_by_role("button", name="发送按键").click()
