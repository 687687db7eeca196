"""QUALITY.md reliability 12: ``serve --workers 2`` with real processes.

/metrics adds up both workers (and only the operations listener serves it), a
SIGKILLed worker is replaced and logged, SIGHUP validates once and reloads both
workers, SIGTERM lets in-flight requests finish, a SIGKILLed supervisor leaves
no worker behind, and a supervisor that cannot keep workers alive exits non-zero.
Every wait is a poll with a generous deadline: this machine is shared.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from tests.reliability.support import ROOT, Deployment, GatewayProcess, deployment, metric, progress_path
from tests.support.stack import free_port

# uvicorn's supervisor waits on thread events, which libfaketime cannot time (tests/conftest.py).
pytestmark = [pytest.mark.slow, pytest.mark.real_clock_only]
DEADLINE_S = 60.0


class Supervised(GatewayProcess):
    """``serve --workers 2 --ops-port P``; knows its workers by their parent pid."""

    def __init__(self, d: Deployment, name: str, metrics_dir: Path) -> None:
        super().__init__(d.config, {**d.env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
                         d.directory / f"{name}.log", port=d.gateway_ports[0])
        self.ops_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        d.processes.append(self)

    @property
    def ops_url(self) -> str:
        return f"http://127.0.0.1:{self.ops_port}"

    def start(self) -> Supervised:
        args = [sys.executable, "-m", "gateway.cli", "serve", "--config", str(self.config), "--port", str(self.port),
                "--workers", "2", "--ops-port", str(self.ops_port)]
        with self.log.open("ab") as log:
            self.process = self._process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log,
                                                            stderr=subprocess.STDOUT)
        self._wait_started()
        wait_for(lambda: len(self.workers()) == 2, "two workers", self)
        return self

    def workers(self) -> set[int]:
        return workers_of(self.pid)


def workers_of(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == parent and b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition: Callable[[], bool], what: str, process: GatewayProcess) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not reached within {DEADLINE_S} s: {what}\n{process.tail()}")


def serves(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def fresh_connection_get(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """A new connection per request, so the kernel hands requests to either worker."""
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.get(url, headers=headers)


async def test_workers_metrics_replacement_reload_and_drain(tmp_path: Path) -> None:
    async with deployment(timeout_s=10.0) as d:
        gateway = Supervised(d, "supervised", tmp_path / "metrics").start()
        await _metrics_add_up_both_workers(d, gateway, tmp_path / "metrics")
        _killed_worker_is_replaced(gateway)
        original = d.config.read_text(encoding="utf-8")
        await _sighup_reloads_every_worker(d, gateway)
        _bad_config_on_sighup_changes_nothing(d, gateway)
        d.config.write_text(original, encoding="utf-8")  # and a good one after the bad one applies again
        _reload(gateway)
        await _sigterm_drains_in_flight_requests(d, gateway)


async def _metrics_add_up_both_workers(d: Deployment, gateway: Supervised, metrics_dir: Path) -> None:
    assert (await fresh_connection_get(gateway.url + "/metrics")).status_code == 404
    assert (await fresh_connection_get(gateway.url + "/readyz")).status_code == 404
    assert (await fresh_connection_get(gateway.ops_url + "/healthz")).status_code == 200
    headers = d.headers()
    answers = await asyncio.gather(*(fresh_connection_get(gateway.url + progress_path(), headers)
                                     for _ in range(40)))
    assert [a.status_code for a in answers] == [200] * 40
    writers = {path.stem.rpartition("_")[2] for path in metrics_dir.glob("counter_*.db")}
    assert writers >= {str(pid) for pid in gateway.workers()}, "both workers counted requests"
    for _ in range(6):  # whichever worker answers /metrics, it reports both
        text = (await fresh_connection_get(gateway.ops_url + "/metrics")).text
        assert metric(text, "court_gateway_requests_total", channel="api", operation="cases.progress") == 40


def _killed_worker_is_replaced(gateway: Supervised) -> None:
    before = gateway.workers()
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    started = time.monotonic()
    wait_for(lambda: len(gateway.workers() - {victim}) == 2, "a replacement worker", gateway)
    wait_for(lambda: b"worker died and was replaced" in gateway.log.read_bytes(), "the death logged", gateway)
    print(f"replacement spawned {time.monotonic() - started:.2f} s after SIGKILL")  # a figure, not a bound
    assert gateway.workers() - before and victim not in gateway.workers()
    assert serves(gateway.url)


async def _sighup_reloads_every_worker(d: Deployment, gateway: Supervised) -> None:
    document = yaml.safe_load(d.config.read_text(encoding="utf-8"))
    document["gateway"]["api_rate_limits"] = {"per_actor": "3/minute", "per_channel": "100000/second"}
    d.config.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _reload(gateway)
    headers = d.headers()  # a new person: 3 calls a minute now, in every worker
    statuses = [(await fresh_connection_get(gateway.url + progress_path(), headers)).status_code for _ in range(8)]
    assert statuses == [200] * 3 + [429] * 5, statuses


def _reload(gateway: Supervised) -> None:
    before = gateway.workers()
    os.kill(gateway.pid, signal.SIGHUP)
    wait_for(lambda: not (gateway.workers() & before) and len(gateway.workers()) == 2, "both workers replaced",
             gateway)


def _bad_config_on_sighup_changes_nothing(d: Deployment, gateway: Supervised) -> None:
    good = d.config.read_text(encoding="utf-8")
    d.config.write_text(good + "\nnot_a_section: [\n", encoding="utf-8")
    before = gateway.workers()
    os.kill(gateway.pid, signal.SIGHUP)
    wait_for(lambda: b"config reload rejected" in gateway.log.read_bytes(), "the rejection logged", gateway)
    assert gateway.workers() == before and serves(gateway.url)


async def _sigterm_drains_in_flight_requests(d: Deployment, gateway: Supervised) -> None:
    d.fault("粤0106", "slow", seconds=3)
    workers = gateway.workers()
    headers = d.headers()
    in_flight = [asyncio.create_task(fresh_connection_get(gateway.url + progress_path(), headers)) for _ in range(4)]
    await asyncio.sleep(1.0)  # let them reach the (slow) court; a pause, not a timing bound
    os.kill(gateway.pid, signal.SIGTERM)
    answers = await asyncio.gather(*in_flight)
    assert [a.status_code for a in answers] == [200] * 4
    assert gateway.process is not None and await asyncio.to_thread(gateway.process.wait, DEADLINE_S) == 0
    assert not any(alive(pid) for pid in workers)
    d.fault("粤0106", "ok")


async def test_a_killed_supervisor_leaves_no_worker_and_dying_workers_make_it_fail(tmp_path: Path) -> None:
    async with deployment() as d:
        gateway = Supervised(d, "orphans", tmp_path / "m1").start()
        workers = gateway.workers()
        os.kill(gateway.pid, signal.SIGKILL)
        assert gateway.process is not None
        gateway.process.wait(10)
        wait_for(lambda: not any(alive(pid) for pid in workers), "no worker left", gateway)
        assert not serves(gateway.url)

        gateway = Supervised(d, "failing", tmp_path / "m2").start()
        d.config.write_text("gateway: {state: [\n", encoding="utf-8")  # every replacement fails to start
        for pid in gateway.workers():
            os.kill(pid, signal.SIGKILL)
        assert gateway.process is not None
        status = await asyncio.to_thread(gateway.process.wait, 120)
        assert status != 0
        assert b"the supervisor stops" in gateway.log.read_bytes()


async def test_one_process_ops_listener_warning_and_audit_reopened_on_sighup() -> None:
    async with deployment() as d:
        plain = d.gateway(0)
        async with httpx.AsyncClient(timeout=30) as client:
            assert (await client.get(plain.url + "/metrics")).status_code == 200
            assert (await client.get(plain.url + "/readyz")).status_code == 200
        assert b"no operations listener" in plain.log.read_bytes()
        plain.stop()

        ops_port, audit = free_port(), d.directory / "audit" / "audit.jsonl"
        audit.parent.mkdir()
        document = yaml.safe_load(d.config.read_text(encoding="utf-8"))
        document["gateway"].update({"ops_listen": f"127.0.0.1:{ops_port}", "audit_log": str(audit)})
        d.config.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
        logged_before = plain.log.stat().st_size  # the same log file, appended to
        gateway = d.gateway(0)
        ops = f"http://127.0.0.1:{ops_port}"
        async with httpx.AsyncClient(timeout=30) as client:
            for path in ("/metrics", "/readyz"):
                assert (await client.get(gateway.url + path)).status_code == 404
                assert (await client.get(ops + path)).status_code == 200
            assert (await client.get(ops + "/healthz")).status_code == 200
            assert (await client.get(ops + "/api/v1/openapi.json")).status_code == 404
            assert b"no operations listener" not in gateway.log.read_bytes()[logged_before:]

            assert (await client.get(gateway.url + progress_path(), headers=d.headers())).status_code == 200
            assert b'"stream":"audit"' in audit.read_bytes()  # written at once, not batched
            audit.rename(audit.with_suffix(".1"))  # what logrotate does, then it sends SIGHUP
            os.kill(gateway.pid, signal.SIGHUP)
            wait_for(audit.exists, "the audit file opened again", gateway)
            assert (await client.get(gateway.url + progress_path(), headers=d.headers())).status_code == 200
            assert audit.read_bytes().count(b'"stream":"audit"') == 1
