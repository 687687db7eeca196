"""``court-gateway demo`` as a newcomer runs it, for the tests that need the whole demo: three free
ports (the gateway, the reference court and the stand-ins sit side by side), the process, its URL,
and a clean stop (SIGINT, as Ctrl-C, so the demo removes its temporary files)."""

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
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0


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


@dataclass
class RunningDemo:
    url: str
    process: subprocess.Popen[str]


@contextlib.contextmanager
def running_demo(stderr: int | IO[Any] = subprocess.DEVNULL) -> Iterator[RunningDemo]:
    """Start the demo and wait for its /healthz; ``stderr=subprocess.PIPE`` to read the banner."""
    port = three_free_ports()
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "demo", "--port", str(port)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=stderr, text=True, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, url)
        yield RunningDemo(url, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_until_up(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/healthz").status_code == 200:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            said = process.stderr.read() if process.stderr is not None and process.poll() is not None else ""
            raise AssertionError("the demo did not start" + (": " + said if said else ""))
        time.sleep(0.2)
