"""Headless Chromium (Debian's ``chromium``, installed by scripts/test) driven by Playwright, and the
`court-gateway demo` process the simulator and operator tests run against."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright

from tests.support.demo import running_demo
from tests.support.redis_servers import without_faked_clock

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("COURT_GATEWAY_CHROMIUM", "/usr/bin/chromium"))
#: where each browser test leaves its screenshot (the README's come from here)
SCREENSHOTS = Path(os.environ.get("COURT_GATEWAY_SCREENSHOTS", ROOT / "build" / "screenshots"))


@contextlib.asynccontextmanager
async def browser_page(width: int = 1100, height: int = 900) -> AsyncIterator[Page]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium")
    async with async_playwright() as playwright:
        # The browser runs on the real clock even under scripts/test --clock (libfaketime): cookies are
        # given with Max-Age, so its clock and the gateway's need not agree.
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                   args=["--no-sandbox", "--disable-gpu"],
                                                   env=dict[str, str | float | bool](without_faked_clock(os.environ)))
        try:
            context = await browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
            page = await context.new_page()
            page.set_default_timeout(20_000)
            yield page
        finally:
            await browser.close()


async def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    return path


async def sign_in_as(page: Page, gateway_url: str, person: str) -> None:
    """What a person does: open the sign-in, pick themselves at the identity provider, submit."""
    await page.goto(gateway_url + "/console/login")
    await page.check(f"input[name=person][value={person}]")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{gateway_url}/console/**")


@contextlib.contextmanager
def demo_process() -> Iterator[str]:
    """`court-gateway demo` as a newcomer runs it; yields the gateway URL."""
    with running_demo() as demo:
        yield demo.url
