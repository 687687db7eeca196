"""Who gets what from the console, over real HTTP: a citizen, staff of another court, a form without
its CSRF token and a forged or expired cookie each get nothing; staff see their own court only."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.console.session import LOGIN_COOKIE, SESSION_COOKIE, ConsoleSession, CookieSigner
from tests.console.support import ConsoleStack, console_stack, csrf_of, dead_letter, file_one, sign_in

PAGES = ("/console/", "/console/board", "/console/deliveries", "/console/contacts", "/console/ops",
         "/console/ops/config", "/console/ops/requests")


@pytest.fixture(scope="module")
async def console() -> AsyncIterator[ConsoleStack]:
    async with console_stack(background=False) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as client:
        yield client


async def assert_nothing(client: httpx.AsyncClient, url: str) -> None:
    for path in PAGES:
        answer = await client.get(url + path)
        assert answer.status_code == 404 and answer.json()["code"] == "NOT_FOUND", path


async def letters(console: ConsoleStack) -> list[str]:
    runtime = console.stack.host.runtime
    assert runtime is not None and runtime.gateway.pipeline.outbox is not None
    return [letter["letter_id"] for letter in await runtime.gateway.pipeline.outbox.dead_letters()]


async def test_without_a_session_every_page_is_an_unknown_path(console: ConsoleStack,
                                                               browser: httpx.AsyncClient) -> None:
    unknown = await browser.get(console.url + "/console/no-such-page")
    assert unknown.status_code == 404
    await assert_nothing(browser, console.url)
    # A staff bearer token is not a console session either.
    staff = {"Authorization": f"Bearer {console.idp.mint('staff-tianhe')}"}
    for path in PAGES:
        assert (await browser.get(console.url + path, headers=staff)).status_code == 404


async def test_a_citizen_signing_in_gets_no_session(console: ConsoleStack, browser: httpx.AsyncClient) -> None:
    answer = await sign_in(browser, console.url, "zhangwei")
    assert answer.status_code == 404
    assert SESSION_COOKIE not in browser.cookies
    await assert_nothing(browser, console.url)


async def test_a_callback_this_gateway_did_not_start_gets_nothing(console: ConsoleStack,
                                                                 browser: httpx.AsyncClient) -> None:
    forged = await browser.get(console.url + "/console/callback", params={"code": "x", "state": "y"})
    assert forged.status_code == 404 and SESSION_COOKIE not in browser.cookies
    start = await browser.get(console.url + "/console/login")
    assert LOGIN_COOKIE in browser.cookies and "code_challenge_method=S256" in start.headers["location"]
    wrong_state = await browser.get(console.url + "/console/callback", params={"code": "x", "state": "other"})
    assert wrong_state.status_code == 404 and SESSION_COOKIE not in browser.cookies


async def test_staff_see_their_own_court_and_not_another(console: ConsoleStack, browser: httpx.AsyncClient) -> None:
    assert (await file_one(console, "粤0106", "own-court")).status_code == 201
    assert (await file_one(console, "粤01", "other-court")).status_code == 201
    assert (await sign_in(browser, console.url, "staff-tianhe")).status_code == 303
    board = await browser.get(console.url + "/console/board")
    assert board.status_code == 200 and "天河区人民法院" in board.text and "filings.submit" in board.text
    for path in ("/console/board", "/console/deliveries", "/console/contacts"):
        other = await browser.get(console.url + path, params={"court": "粤01"})
        assert other.status_code == 404, path
    for path in ("/console/ops", "/console/ops/config", "/console/ops/requests"):
        assert (await browser.get(console.url + path)).status_code == 404, path


async def test_staff_of_another_court_cannot_redeliver_a_letter(console: ConsoleStack,
                                                                browser: httpx.AsyncClient) -> None:
    await dead_letter(console, "粤0106", "dead-other")
    before = await letters(console)
    await sign_in(browser, console.url, "staff-zhongyuan")  # 粤01
    page = await browser.get(console.url + "/console/deliveries")
    assert page.status_code == 200 and "dead-other" not in page.text
    for letter_id in before:
        await browser.post(console.url + "/console/deliveries/redeliver",
                           data={"csrf": csrf_of(page.text), "letter_id": letter_id})
    assert await letters(console) == before


async def test_a_form_without_its_csrf_token_does_nothing(console: ConsoleStack, browser: httpx.AsyncClient) -> None:
    await dead_letter(console, "粤0106", "dead-csrf")
    before = await letters(console)
    await sign_in(browser, console.url, "staff-tianhe")
    for form in ({"letter_id": before[-1]}, {"letter_id": before[-1], "csrf": "guessed"}):
        answer = await browser.post(console.url + "/console/deliveries/redeliver", data=form)
        assert answer.status_code == 404
    assert await letters(console) == before
    assert (await browser.post(console.url + "/console/logout", data={})).status_code == 404
    assert (await browser.get(console.url + "/console/board")).status_code == 200  # still signed in


async def test_a_forged_or_expired_cookie_gets_nothing(console: ConsoleStack, browser: httpx.AsyncClient) -> None:
    await sign_in(browser, console.url, "staff-tianhe")
    real = browser.cookies[SESSION_COOKIE]
    tampered = real[:-6] + ("AAAAAA" if not real.endswith("AAAAAA") else "BBBBBB")
    other_key = CookieSigner(b"not-the-gateway-secret-0123456789abcdef", secure=False, ttl_s=3600)
    forged_session = other_key.new_session("someone", "x", None, True)
    expired = ConsoleSession("someone", "x", None, True, "c", int(time.time()) - 10)
    secret = console.stack.config.gateway.secret.value_bytes
    right_key = CookieSigner(secret, secure=False, ttl_s=3600)
    for value in (tampered, other_key.seal(forged_session.claims()), right_key.seal(expired.claims()),
                  "not-a-token"):
        async with httpx.AsyncClient(timeout=20, cookies={SESSION_COOKIE: value}) as forged:
            await assert_nothing(forged, console.url)


async def test_session_cookies_are_httponly_lax_and_the_config_page_shows_no_secret(console: ConsoleStack) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        answer = await sign_in(client, console.url, "operator")
        cookie = [v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE + "=")]
        assert len(cookie) == 1 and "HttpOnly" in cookie[0] and "SameSite=lax" in cookie[0]
        assert "Secure" not in cookie[0]  # this stack turns Secure off like demo; the default is on
        config = (await client.get(console.url + "/console/ops/config")).text
    assert "GATEWAY_SECRET" in config
    for name, value in console.stack.env.items():
        assert value not in config, name


async def test_every_console_action_is_audited_without_personal_data(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    async with console_stack(audit_log=str(audit), background=False) as console, \
            httpx.AsyncClient(timeout=20) as client:
        delivery_id = await dead_letter(console, "粤0106", "audited")
        await sign_in(client, console.url, "staff-tianhe")
        page = await client.get(console.url + "/console/deliveries")
        letter = (await letters(console))[0]
        again = await client.post(console.url + "/console/deliveries/redeliver",
                                  data={"csrf": csrf_of(page.text), "letter_id": letter})
        assert again.status_code == 303 and "done=again" in again.headers["location"]
        await client.post(console.url + "/console/deliveries/redeliver", data={"letter_id": letter})  # no CSRF

        async def written() -> list[dict[str, Any]]:
            if not audit.exists():
                return []
            return [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]

        deadline = time.monotonic() + 10
        while len([r for r in await written() if r["channel"] == "console"]) < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        records = [r for r in await written() if r["channel"] == "console"]
    operations = [(r["operation"], r["result"]) for r in records]
    assert ("console.sign_in", "ok") in operations and ("console.deliveries", "ok") in operations
    assert ("console.redeliver", "ok") in operations and ("console.csrf_rejected", "FORBIDDEN") in operations
    redelivered = next(r for r in records if r["operation"] == "console.redeliver")
    assert redelivered["item"] == delivery_id and redelivered["court"] == "粤0106"
    assert all(r["actor"] and r["actor"].startswith("a_") for r in records)  # a pseudonym
    text = audit.read_text(encoding="utf-8")
    assert "李敏" not in text and "staff-tianhe" not in text


async def test_sign_in_with_the_issuers_endpoints_instead_of_discovery() -> None:
    async with console_stack(discovery=False, background=False) as console, \
            httpx.AsyncClient(timeout=20) as client:
        answer = await sign_in(client, console.url, "operator")
        assert answer.status_code == 303 and SESSION_COOKIE in client.cookies
        assert (await client.get(console.url + "/console/ops")).status_code == 200
