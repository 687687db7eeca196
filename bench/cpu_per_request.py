"""CPU time per request of the gateway beside its baselines, measured in one run (QUALITY.md).

Each server runs in its own process; a load generator in this process sends a
fixed number of requests with fixed concurrency, and the server's own CPU time
(utime + stime from /proc/<pid>/stat) before and after gives microseconds per
request. Every figure is the median of several rounds, and each target is
printed beside the baselines measured in the same run, because this machine
is shared and noisy.

    python bench/cpu_per_request.py [--requests 4000] [--rounds 5] [--concurrency 16]
                                    [--state memory|redis|cluster|both] [--only NAME]
                                    [--servers serve,uvicorn-h11,granian,...]
                                    [--floor ../shared/bench/floor_proxy.py]

``--state both`` runs one gateway on one Redis and one on a 3-primary Redis
Cluster side by side in the same run, and prints the cluster's cost per
request as a ratio of the single Redis's (QUALITY.md: within 10%).

Targets measured: the canonical API's ``cases.progress`` (trusted-issuer JWT,
rate limits, participant check from the cache, actor token, court call),
plus every channel adapter that has a bench driver in bench/channels.py
(wechat, efating, suihaoban). Baselines: a naive Starlette + default-httpx
pass-through proxy, and the shared floor of QUALITY.md
(``../shared/bench/floor_proxy.py``, an aiohttp pass-through on uvloop), so
these figures and any outside check measure against the same thing. The last
column is the QUALITY.md ratio each target must stay within.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import server_command
from bench.upstream import PROGRESS
from gateway.tokens import generate_ec_pem
from tests.support.servers import BackgroundServer
from tests.support.stack import Issuer

CASE_NO = str(PROGRESS["case_no"])
PROGRESS_PATH = f"/api/v1/cases/{quote(CASE_NO, safe='')}/progress"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SHARED_FLOOR = ROOT.parent / "shared" / "bench" / "floor_proxy.py"
NAIVE = "naive Starlette+httpx proxy (baseline)"
FLOOR = "shared floor: aiohttp proxy on uvloop"
#: QUALITY.md's speed table: at most this many times the floor's CPU per request
TARGETS = {"gateway canonical API cases.progress": 1.8, "wechat": 2.0, "suihaoban": 2.2, "efating": 2.2}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree_cpu(pid: int) -> float:
    """CPU of a process and its children (``serve --workers N`` forks its workers)."""
    total = cpu_seconds(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            total += process_tree_cpu(int(child))
    return total


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(name: str, command: list[str], port: int, env: dict[str, str] | None = None,
          ready_path: str | None = None) -> Server:
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                pass
            if ready_path is not None:  # a server may listen before its app has started
                urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=1).close()
            return Server(name, process, f"http://127.0.0.1:{port}")
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not start")


@dataclass
class Target:
    name: str
    server: Server
    make_request: Callable[[], tuple[str, str, dict[str, str], bytes | None]]  # method, url, headers, body


async def drive(target: Target, count: int, concurrency: int) -> float:
    """Send ``count`` requests; returns the server's CPU microseconds per request."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one() -> None:
            method, url, headers, body = target.make_request()
            async with session.request(method, url, headers=headers, data=body) as answer:
                await answer.read()
                if answer.status >= 400:
                    raise RuntimeError(f"{target.name}: HTTP {answer.status}: {(await answer.text())[:300]}")

        async def worker(n: int) -> None:
            for _ in range(n):
                await one()

        await asyncio.gather(*(worker(20) for _ in range(concurrency)))  # warm-up: pools, caches
        before = process_tree_cpu(target.server.process.pid)
        share, rest = divmod(count, concurrency)
        await asyncio.gather(*(worker(share + (1 if i < rest else 0)) for i in range(concurrency)))
        after = process_tree_cpu(target.server.process.pid)
    return (after - before) / count * 1e6


def gateway_config(directory: Path, upstream: str, issuer: Issuer, state: str, channels: dict[str, Any],
                   name: str = "bench") -> Path:
    document = {
        "version": 1,
        "gateway": {"state": state, "secret_env": "GATEWAY_SECRET", "signing_key_env": "GATEWAY_SIGNING_KEY",
                    "trusted_issuers": [{"issuer": issuer.issuer, "audience": issuer.audience,
                                         "jwks_url": upstream + "/jwks"}],
                    "audit_log": str(directory / "audit.log"),
                    # The bench measures cost, not limits: one person sends every request.
                    "api_rate_limits": {"per_actor": "1000000/second", "per_channel": "1000000/second"}},
        "courts": {"粤0106": {"name": "天河区人民法院", "base_url": upstream, "event_secret_env": "EVENT_SECRET"}},
        "channels": channels,
        "notify": {"sms": {"base_url": "http://127.0.0.1:9/sms", "sign_name": "广州法院", "access_key_env": "SMS_KEY"}},
    }
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--state", choices=["memory", "redis", "cluster", "both"], default="memory")
    parser.add_argument("--floor", type=Path, default=SHARED_FLOOR, help="the shared floor proxy script")
    parser.add_argument("--servers", default="serve", help="comma-separated servers to run the gateway under "
                        "(bench/servers.py: serve, uvicorn-httptools, uvicorn-h11, granian, hypercorn)")
    parser.add_argument("--only", default="", help="measure only targets whose name starts with this "
                        "(the baselines always run)")
    args = parser.parse_args()

    from bench import channels as channel_benches

    directory = Path(tempfile.mkdtemp(prefix="cg-bench-"))
    issuer = Issuer(issuer="https://portal.bench.invalid")
    (directory / "jwks.json").write_text(__import__("json").dumps(issuer.jwks()))
    servers: list[Server] = []
    stores: list[Any] = []
    stand_ins: BackgroundServer | None = None
    try:
        up_port = free_port()
        upstream = start("upstream", [sys.executable, "bench/upstream.py", str(up_port), str(directory / "jwks.json")],
                         up_port)
        servers.append(upstream)
        states = state_stores(args.state, stores)
        env = {"GATEWAY_SECRET": secrets.token_urlsafe(32), "GATEWAY_SIGNING_KEY": generate_ec_pem().decode(),
               "EVENT_SECRET": secrets.token_urlsafe(32), "SMS_KEY": "bench"}
        stand_in_port = free_port()
        extra_channels, stand_in_app = channel_benches.prepare(f"http://127.0.0.1:{stand_in_port}", env)
        stand_ins = BackgroundServer(stand_in_app, port=stand_in_port)
        stand_ins.start()
        gateways = {}
        kinds = args.servers.split(",")
        for label, state in states.items():
            config = gateway_config(directory, upstream.url, issuer, state, extra_channels, name=label)
            for kind in kinds:
                gw_port = free_port()
                command, server_env = server_command(kind, config, gw_port)
                name = label if len(kinds) == 1 else f"{label}, {kind}"
                gateways[name] = start(f"gateway ({name})", command, gw_port, {**env, **server_env}, "/healthz")
                servers.append(gateways[name])
        naive_port, floor_port = free_port(), free_port()
        naive = start("naive", [sys.executable, "bench/proxies.py", "naive", str(naive_port), upstream.url], naive_port)
        floor = start("floor", [sys.executable, str(args.floor), "--port", str(floor_port), "--upstream",
                                upstream.url], floor_port)
        servers += [naive, floor]

        token = issuer.mint(name="张伟", id_type="ID_CARD", id_number="440106199001011235", acr="L2", ttl_s=3600)
        bearer = {"Authorization": f"Bearer {token}"}
        targets = [
            Target(NAIVE, naive, lambda: ("GET", naive.url + PROGRESS_PATH, bearer, None)),
            Target(FLOOR, floor, lambda: ("GET", floor.url + PROGRESS_PATH, bearer, None)),
        ]
        for label, gateway in gateways.items():
            suffix = f" [{label}]" if len(gateways) > 1 else ""
            targets.append(Target("gateway canonical API cases.progress" + suffix, gateway,
                                  _progress_request(gateway.url, bearer)))
            for name, factory in asyncio.run(channel_benches.targets(gateway.url)):
                targets.append(Target(name + suffix, gateway, factory))
        targets = [t for t in targets if t.name.startswith((args.only, NAIVE, FLOOR))]
        results: dict[str, list[float]] = {t.name: [] for t in targets}
        for _ in range(args.rounds):
            for target in targets:
                results[target.name].append(asyncio.run(drive(target, args.requests, args.concurrency)))
        report(results, args)
        if len(states) > 1 and len(kinds) == 1:
            report_topologies(results)
    finally:
        for server in reversed(servers):
            server.stop()
        if stand_ins is not None:
            stand_ins.stop()
        for store in stores:
            store.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _progress_request(url: str, bearer: dict[str, str]) -> Callable[[], tuple[str, str, dict[str, str], bytes | None]]:
    return lambda: ("GET", url + PROGRESS_PATH, bearer, None)


def state_stores(choice: str, started: list[Any]) -> dict[str, str]:
    """``gateway.state`` per gateway to measure, starting the Redis processes it needs (into ``started``)."""
    from tests.support.redis_servers import RedisClusterNodes, RedisServer

    states: dict[str, str] = {}
    if choice == "memory":
        return {"memory": "memory"}
    if choice in ("redis", "both"):
        single = RedisServer()
        started.append(single)
        single.start()
        states["redis"] = single.url
    if choice in ("cluster", "both"):
        cluster = RedisClusterNodes()
        started.append(cluster)
        cluster.start()
        states["cluster"] = cluster.url
    return states


def report_topologies(results: dict[str, list[float]]) -> None:
    """Each gateway target on the cluster beside the same target on one Redis (QUALITY.md: within 10%)."""
    medians = {name: statistics.median(values) for name, values in results.items()}
    print("\nRedis Cluster (3 primaries) vs one Redis, same run")
    print(f"{'target':62} {'redis':>7} {'cluster':>8} {'ratio':>7}")
    for name, single in medians.items():
        if not name.endswith(" [redis]"):
            continue
        base = name.removesuffix(" [redis]")
        cluster = medians.get(base + " [cluster]")
        if cluster is not None:
            print(f"{base:62} {single:7.0f} {cluster:8.0f} {cluster / single:6.2f}x")


def report(results: dict[str, list[float]], args: argparse.Namespace) -> None:
    medians = {name: statistics.median(values) for name, values in results.items()}
    naive = medians[NAIVE]
    floor = medians[FLOOR]
    print(f"CPU per request, median of {args.rounds} rounds x {args.requests} requests, "
          f"concurrency {args.concurrency}, state {args.state}")
    print(f"{'target':62} {'µs/req':>8} {'vs naive':>9} {'vs floor':>9} {'target':>7}  rounds")
    for name, value in medians.items():
        rounds = " ".join(f"{v:.0f}" for v in results[name])
        limit = next((f"{ratio:.1f}x" for key, ratio in TARGETS.items() if name.startswith(key)), "")
        print(f"{name:62} {value:8.0f} {naive / value:8.1f}x {value / floor:8.2f}x {limit:>7}  [{rounds}]")


if __name__ == "__main__":
    main()
