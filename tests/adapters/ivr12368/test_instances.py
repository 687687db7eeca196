"""A call moves between two gateway processes that share a real Redis, and survives a restart.

Instance A is the test stack's gateway (in this process); instance B is a
separate operating-system process started from the same config and secrets.
Consecutive steps of one call alternate between them.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters.ivr12368.driver import JsonPhone, VoiceXmlBrowser
from tests.adapters.ivr12368.support import (
    CALLER,
    CASE_NO,
    COURT_DIGITS,
    PASSWORD,
    SERIAL,
    IvrStack,
    ivr_stack,
)
from tests.support.stack import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[3]


class GatewayProcess:
    """``python -m tests.adapters.ivr12368.gateway_process`` on a free port; stopped by its own pid."""

    def __init__(self, config_text: str, env: dict[str, str]) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="cg-ivr-b-"))
        self._config = self._dir / "channels.yaml"
        self._config.write_text(config_text, encoding="utf-8")
        self._env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.adapters.ivr12368.gateway_process", str(self._config), str(self.port)],
            cwd=ROOT, env=self._env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("gateway process exited: " + self._process.stderr.read().decode()[-2000:]
                                   if self._process.stderr else "")
            try:
                if httpx.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("gateway process did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(15)
            self._process = None


@pytest.fixture(scope="module")
async def two(redis_server: RedisServer) -> AsyncIterator[tuple[IvrStack, GatewayProcess]]:
    async with ivr_stack(state=redis_server.url) as ivr:
        process = GatewayProcess(ivr.config_text, ivr.stack.env)
        await asyncio.to_thread(process.start)
        try:
            yield ivr, process
        finally:
            process.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as http:
        yield http


async def test_a_json_call_alternates_between_two_processes_and_completes(
        two: tuple[IvrStack, GatewayProcess], client: httpx.AsyncClient) -> None:
    ivr, process = two
    caller = "13900005001"
    a = ivr.phone(client, caller)
    b = JsonPhone(client, f"{process.url}/channels/ivr12368/json", ivr.token, caller, call_id=a.call_id)
    assert (await a.start())["action"] == "collect"
    assert (await b.press("1"))["prompt"].startswith("请输入案号中法院代码")
    assert "天河区人民法院" in (await a.press(COURT_DIGITS + "#"))["prompt"]
    assert (await b.press(SERIAL + "#"))["prompt"].startswith("请输入受理通知书上的案件查询密码")
    progress = await a.press(PASSWORD + "#")
    assert progress["action"] == "play" and progress["data"]["case_no"] == CASE_NO
    await a.send("input")
    await b.press("9")
    callback = await a.press("2")  # verified on B, served on A
    assert callback["action"] == "play" and "承办法官将在" in callback["prompt"]
    await b.send("input")
    again = await b.press("1")  # the same callback write, replayed on the other process
    assert b.last is not None and b.last.headers.get("idempotent-replayed") == "true"
    assert again["data"] == callback["data"]
    assert (await a.hangup())["action"] == "hangup"
    late = await b.press("1")
    assert late["error"] == "SESSION_EXPIRED"
    await asyncio.sleep(0.5)
    assert len(ivr.sms.sent_to(caller)) == 1  # one SMS, whichever process asked twice


async def test_a_voicexml_call_alternates_between_two_processes(
        two: tuple[IvrStack, GatewayProcess], client: httpx.AsyncClient) -> None:
    ivr, process = two
    browser = VoiceXmlBrowser(client, ivr.gateway_url, "/channels/ivr12368/vxml", ivr.token, CALLER)
    await browser.start()
    urls = [ivr.gateway_url, process.url]
    for index, keys in enumerate(("1", COURT_DIGITS + "#", SERIAL + "#", PASSWORD + "#")):
        browser.gateway_url = urls[(index + 1) % 2]  # the submits are relative: follow them on either host
        await browser.press(keys)
    assert browser.kind == "play" and "目前状态：" in browser.prompt
    browser.gateway_url = urls[0]
    await browser.hangup()


async def test_a_call_survives_a_restart_of_the_process_it_was_on(
        two: tuple[IvrStack, GatewayProcess], client: httpx.AsyncClient) -> None:
    ivr, process = two
    phone = JsonPhone(client, f"{process.url}/channels/ivr12368/json", ivr.token, "13900005002")
    await phone.start()
    await phone.press("3")
    await phone.press(COURT_DIGITS + "#")
    await phone.press(SERIAL + "#")
    await asyncio.to_thread(process.stop)
    await asyncio.to_thread(process.start)  # a new process, the same port
    fees = await phone.press(PASSWORD + "#")
    assert fees["action"] == "play" and fees["prompt"].startswith("本案共有")
    await phone.hangup()
