"""How long /healthz takes to answer while hostile uploads arrive (QUALITY.md security item 4: "no
stalled worker", /healthz within 50 ms throughout). A figure for the report, not a test.

The gateway runs as ``court-gateway demo`` in its own process; this process sends, per round and per
attack, a few uploads at once of a stored ZIP with 200,000 empty entries (issue 14, finding 1), forged
(a wrong signature) on each signed channel and anonymous on the others, while a prober asks /healthz
every 10 ms. Printed: per attack, the median over rounds of the worst /healthz latency, and of the
time the attack's answers took.

    python bench/hostile_uploads.py [--rounds 5] [--parallel 3] [--entries 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from adapters.kiosk.sign_request import signed_headers

ROOT = Path(__file__).resolve().parents[1]
COURT = "粤0106"
Attack = Callable[[httpx.AsyncClient, str, bytes], Awaitable[httpx.Response]]


def hostile_zip(entries: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as package:
        for index in range(entries):
            package.writestr(f"{index:x}", b"")
    return buffer.getvalue()


def free_base_port() -> int:
    for base in range(21000, 31000, 7):
        try:
            for port in (base, base + 1, base + 2):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no three free ports")


async def forged_suihaoban(client: httpx.AsyncClient, url: str, content: bytes) -> httpx.Response:
    biz = json.dumps({"court": COURT, "fileSha256": hashlib.sha256(content).hexdigest()}, ensure_ascii=False)
    fields = {"appId": "shb-gz-court", "method": "uploads.create", "timestamp": str(int(time.time())),
              "nonceStr": os.urandom(8).hex(), "bizContent": biz, "signType": "HMAC-SHA256", "sign": "00" * 32}
    return await client.post(f"{url}/channels/suihaoban/invoke", data=fields,
                             files={"file": ("a.ofd", content, "application/ofd")})


async def forged_kiosk(client: httpx.AsyncClient, url: str, content: bytes) -> httpx.Response:
    request = client.build_request("POST", f"{url}/channels/efating/sessions/none/upload",
                                   files={"file": ("a.ofd", content, "application/ofd")}, data={"court": COURT})
    body = request.read()
    headers = signed_headers("EFT-TH-001", b"not-the-device-key-at-all", "POST", str(request.url), body)
    headers["Content-Type"] = request.headers["Content-Type"]
    return await client.post(str(request.url), content=body, headers=headers)


async def forged_yueshengshi(client: httpx.AsyncClient, url: str, content: bytes) -> httpx.Response:
    headers = {"X-Dgi-Req-App": "yss-gz-court", "X-Dgi-Req-Nonce": os.urandom(8).hex(),
               "X-Dgi-Req-Timestamp": str(int(time.time() * 1000)), "X-Dgi-Req-Signature": "00" * 32}
    return await client.post(f"{url}/channels/yueshengshi/gateway/uploads.create", headers=headers,
                             files={"file": ("a.ofd", content, "application/ofd")}, data={"court": COURT})


async def anonymous_api(client: httpx.AsyncClient, url: str, content: bytes) -> httpx.Response:
    return await client.post(f"{url}/api/v1/uploads", params={"court": COURT},
                             files={"file": ("a.ofd", content, "application/ofd")})


ATTACKS: dict[str, Attack] = {"suihaoban forged": forged_suihaoban, "efating forged": forged_kiosk,
                              "yueshengshi forged": forged_yueshengshi, "canonical anonymous": anonymous_api}


async def one_round(url: str, attack: Attack, content: bytes, parallel: int) -> tuple[float, float]:
    latencies: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        async with httpx.AsyncClient(timeout=30) as prober:
            while not stop.is_set():
                started = time.perf_counter()
                await prober.get(url + "/healthz")
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.01)

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0.05)
    async with httpx.AsyncClient(timeout=60) as client:
        started = time.perf_counter()
        answers = await asyncio.gather(*(attack(client, url, content) for _ in range(parallel)))
        took = time.perf_counter() - started
    stop.set()
    await prober
    assert all(answer.status_code < 500 for answer in answers), [a.status_code for a in answers]
    return max(latencies), took


def start_demo(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "demo", "--port", str(port)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the demo did not start")


async def main(rounds: int, parallel: int, entries: int) -> None:
    content = hostile_zip(entries)
    port = free_base_port()
    demo = start_demo(port)
    url = f"http://127.0.0.1:{port}"
    try:
        print(f"{len(content) / 2**20:.1f} MiB zip, {entries} entries, {parallel} at once, median of {rounds} rounds")
        print(f"{'attack':<22} {'worst /healthz':>15} {'answers took':>13}")
        for name, attack in ATTACKS.items():
            results = [await one_round(url, attack, content, parallel) for _ in range(rounds)]
            worst = statistics.median(r[0] for r in results) * 1000
            took = statistics.median(r[1] for r in results) * 1000
            print(f"{name:<22} {worst:>12.1f} ms {took:>10.0f} ms")
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument("--entries", type=int, default=200_000)
    options = parser.parse_args()
    asyncio.run(main(options.rounds, options.parallel, options.entries))
