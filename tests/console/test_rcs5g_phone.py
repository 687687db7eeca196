"""The "5G phone" panel of the channel simulator in real headless Chromium, on `court-gateway demo`: a person
types and taps chips, the MaaP stand-in signs the callbacks, the chatbot's cards come back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Page, expect

from adapters.rcs5g.standins import sample_case
from tests.console.browser import browser_page, demo_process, screenshot, sign_in_as


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    with demo_process() as url:
        yield url


async def type_and_send(page: Page, text: str) -> None:
    phone = page.locator("section#rcs5g")
    await phone.get_by_label("输入消息").fill(text)
    await phone.get_by_role("button", name="发送", exact=True).click()


async def test_the_5g_phone_goes_from_the_menu_to_case_progress(demo: str) -> None:
    sample = sample_case()
    async with browser_page(width=1280, height=1000) as page:
        await sign_in_as(page, demo, "staff-tianhe")
        await page.goto(demo + "/console/simulator")
        screen = page.locator("section#rcs5g .screen")
        await type_and_send(page, "你好")
        await expect(screen).to_contain_text("广州法院诉讼服务")
        await expect(page.locator("section#rcs5g").get_by_role("button", name="拨打 12368")).to_be_visible()
        await page.locator("section#rcs5g").get_by_role("button", name="案件进展").click()
        await expect(screen).to_contain_text("请输入案号")
        await type_and_send(page, sample.case_no)
        await expect(screen).to_contain_text("案件查询密码")
        await type_and_send(page, sample.password)
        await expect(screen).to_contain_text("当前状态")
        await expect(screen).to_contain_text(sample.case_no)
        await screenshot(page, "console-simulator-5g")
        # L2 for that case now: its hearings without the password again
        await page.locator("section#rcs5g").get_by_role("button", name="开庭信息").first.click()
        await expect(screen).to_contain_text("开庭信息")
