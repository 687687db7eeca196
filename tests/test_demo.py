"""`court-gateway demo` as a newcomer runs it, and the README's tour against it."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
CASE = "（2026）粤0106民初22468号"


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = three_free_ports()
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "demo", "--port", str(port)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError("demo did not start: " + (process.stderr.read() if process.stderr else ""))
    yield url, process
    process.send_signal(signal.SIGINT)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


def three_free_ports() -> int:
    """A base port whose next two are free too, below the kernel's ephemeral range (32768 and up),
    so no outgoing connection can take one of them between this check and the demo's bind."""
    while True:
        base = random.randrange(20000, 32000)
        try:
            with contextlib.ExitStack() as stack:
                for port in (base, base + 1, base + 2):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue


def test_the_public_tour(demo: tuple[str, subprocess.Popen[str]]) -> None:
    url, _process = demo
    courts = httpx.get(url + "/api/v1/courts").json()["items"]
    assert len(courts) == 17
    templates = httpx.get(url + "/api/v1/templates", params={"q": "起诉"}).json()["items"]
    assert templates
    fee = httpx.post(url + "/api/v1/fees/calculate", json={"case_type": "民初", "amount": "50000"}).json()
    assert fee["total"] == "1050.00"


def test_the_wechat_tour(demo: tuple[str, subprocess.Popen[str]]) -> None:
    url, _process = demo
    login = httpx.post(url + "/channels/wechat/login", json={"code": "demo-code-zhangwei"}).json()
    token = login["data"]["session_token"]
    bound = httpx.post(url + "/channels/wechat/realname", headers={"Authorization": f"Bearer {token}"},
                       json={"verify_token": "demo-verify-zhangwei"}).json()
    token = bound["data"]["session_token"]
    cases = httpx.post(url + "/channels/wechat/api/cases.list", headers={"Authorization": f"Bearer {token}"},
                       json={}).json()
    assert cases["errcode"] == 0 and len(cases["data"]["items"]) >= 4
    progress = httpx.post(url + "/channels/wechat/api/cases.progress", headers={"Authorization": f"Bearer {token}"},
                          json={"case_no": CASE}).json()
    assert progress["errcode"] == 0 and progress["data"]["case_no"] == CASE
    stranger = httpx.post(url + "/channels/wechat/login", json={"code": "demo-code-wangfang"}).json()
    other = httpx.post(url + "/channels/wechat/realname",
                       headers={"Authorization": f"Bearer {stranger['data']['session_token']}"},
                       json={"verify_token": "demo-verify-wangfang"}).json()
    refused = httpx.post(url + "/channels/wechat/api/cases.progress",
                         headers={"Authorization": f"Bearer {other['data']['session_token']}"},
                         json={"case_no": CASE}).json()
    assert refused["errcode"] == 40004


def test_the_banner_tells_a_newcomer_what_to_use(demo: tuple[str, subprocess.Popen[str]]) -> None:
    _url, process = demo
    process.send_signal(signal.SIGINT)
    process.wait(15)
    banner = process.stderr.read() if process.stderr else ""
    for expected in ("OpenAPI", "demo-code-zhangwei", "EFT-TH-001", "查询密码", "GATEWAY_SECRET="):
        assert expected in banner, expected
