"""Real processes for the reliability tests of QUALITY.md: gateways, workers, a court, a Redis.

- the gateway runs as ``python -m gateway.cli serve --config ...`` (and ``worker``), as in
  production, in its own operating-system process that a test can SIGKILL;
- the reference court runs in this process on its own thread and event loop
  (:class:`BackgroundServer`), so it can be stopped and started again on the same port while its
  records (and its idempotency store) survive, as a real court's database would;
- Redis is a private ``redis-server`` with AOF on (``appendfsync always``), SIGKILLed and started
  again on the same port and directory, as an operator's Redis would be.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import yaml

from gateway.domain.courts import GUANGZHOU_COURTS
from reference_court.app import create_reference_court
from reference_court.routing import court_slug
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE, DemoPerson, default_seed
from tests.support.redis_servers import RedisClusterNodes, SentinelSet
from tests.support.servers import BackgroundServer
from tests.support.stack import Issuer, RedisServer, free_port, stack_config, stack_env

ROOT = Path(__file__).resolve().parents[2]
#: the courts these tests use (the default court first); fewer courts, less start-up work
COURTS = {code: GUANGZHOU_COURTS[code] for code in ("粤01", "粤0106", "粤0192")}
ZW = DEMO_PEOPLE["zhangwei"]
TRIAL = DEMO_CASES["zhangwei_yue0106_trial"]


class RedisProcess(RedisServer):
    """A private redis-server with the persistence docs/deployment.md asks for."""

    def __init__(self) -> None:
        super().__init__(durable=True)


class RedisDeployment(Protocol):
    """One Redis or a cluster: started, killed (SIGKILL, data kept) and started again, stopped."""

    @property
    def url(self) -> str: ...

    def start(self) -> None: ...

    def kill(self) -> None: ...

    def stop(self) -> None: ...


#: where the state lives: one Redis, or a cluster of 3 primaries (AOF on every node)
TOPOLOGIES = ("single", "cluster")


def redis_for(topology: str) -> RedisDeployment:
    if topology == "cluster":
        return RedisClusterNodes(durable=True)
    if topology == "sentinel":
        return SentinelSet()
    return RedisProcess()


class GatewayProcess:
    """``python -m gateway.cli serve|worker --config ...``, stopped or killed by its own pid."""

    def __init__(self, config: Path, env: Mapping[str, str], log: Path, *, command: str = "serve",
                 port: int | None = None, no_worker: bool = False) -> None:
        self.config = config
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.log = log
        self.command = command
        self.port = port or free_port()
        self.no_worker = no_worker
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> GatewayProcess:
        args = [sys.executable, "-m", "gateway.cli", self.command, "--config", str(self.config)]
        if self.command == "serve":
            args += ["--port", str(self.port)] + (["--no-worker"] if self.no_worker else [])
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_started()
        return self

    def _wait_started(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.command} exited with {self._process.returncode}:\n{self.tail()}")
            if self._started():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.command} did not start:\n{self.tail()}")

    def _started(self) -> bool:
        if self.command == "worker":
            return b"worker started" in self.log.read_bytes()
        try:
            return httpx.get(self.url + "/healthz", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait(10)
            self._process = None

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()
        self._process = None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Deployment:
    court: BackgroundServer
    issuer: Issuer
    redis: RedisDeployment
    config: Path
    env: dict[str, str]
    directory: Path
    gateway_ports: list[int]
    processes: list[GatewayProcess] = field(default_factory=list)

    @property
    def court_root(self) -> str:
        return self.court.url

    @property
    def court_app(self) -> Any:
        return self.court.app

    def gateway(self, index: int = 0, *, no_worker: bool = False) -> GatewayProcess:
        """Start the gateway on its reserved port ``index``."""
        process = GatewayProcess(self.config, self.env, self.directory / f"gateway-{index}.log",
                                 port=self.gateway_ports[index], no_worker=no_worker)
        self.processes.append(process)
        return process.start()

    def worker(self, name: str) -> GatewayProcess:
        process = GatewayProcess(self.config, self.env, self.directory / f"worker-{name}.log", command="worker")
        self.processes.append(process)
        return process.start()

    def logs(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.tail()}" for p in self.processes)

    def headers(self, person: DemoPerson = ZW, *, key: str | None = None, acr: str = "L2",
                sub: str | None = None) -> dict[str, str]:
        token = self.issuer.citizen({"name": person.name, "id_number": person.id_number}, acr=acr,
                                    sub=sub or secrets.token_hex(4))
        headers = {"Authorization": f"Bearer {token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def fault(self, court: str | None, mode: str, **extra: Any) -> None:
        answer = httpx.post(self.court_root + "/_ref/faults", json={"court": court, "mode": mode, **extra}, timeout=5)
        answer.raise_for_status()

    def records(self, court: str) -> dict[str, Any]:
        answer = httpx.get(f"{self.court_root}/_ref/{court_slug(court)}/records", timeout=10)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def journal(self, since: int = 0) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.court_app.state.journal.entries(since=since)
        return entries

    def last_seq(self) -> int:
        entries = self.journal()
        return int(entries[-1]["seq"]) if entries else 0


def config_text(court_root: str, issuer: Issuer, redis_url: str, *, channels: Mapping[str, Any] | None = None,
                per_actor: str = "100000/minute", per_channel: str = "100000/second",
                timeout_s: float = 3.0) -> str:
    document = yaml.safe_load(stack_config(court_root, issuer, state=redis_url, channels=channels, courts=COURTS))
    document["gateway"]["api_rate_limits"] = {"per_actor": per_actor, "per_channel": per_channel}
    for court in document["courts"].values():
        court["timeout_s"] = timeout_s
        court["connect_timeout_s"] = min(1.0, timeout_s)
    text: str = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return text


@contextlib.asynccontextmanager
async def deployment(*, topology: str = "single", gateways: int = 1, channels: Mapping[str, Any] | None = None,
                     env: Mapping[str, str] | None = None, **config: Any) -> AsyncIterator[Deployment]:
    """A court, a trusted issuer and a Redis, a config for them; gateways are started by the test."""
    directory = Path(tempfile.mkdtemp(prefix="cg-reliability-"))
    ports = [free_port() for _ in range(gateways)]
    issuer = Issuer()
    issuer_server = BackgroundServer(issuer.app()).start()
    issuer.jwks_url = issuer_server.url + "/jwks"
    court_app = create_reference_court(default_seed(), jwks_provider=None, gateway_url=f"http://127.0.0.1:{ports[0]}")
    court = BackgroundServer(court_app).start()
    redis = redis_for(topology)
    redis.start()
    path = directory / "channels.yaml"
    path.write_text(config_text(court.url, issuer, redis.url, channels=channels, **config), encoding="utf-8")
    running = Deployment(court, issuer, redis, path, stack_env(env), directory, ports)
    failed = True
    try:
        yield running
        failed = False
    finally:
        for process in running.processes:
            process.stop()
        court.stop()
        issuer_server.stop()
        redis.stop()
        if failed:
            print(running.logs())  # shown by pytest for the failing test only
        shutil.rmtree(directory, ignore_errors=True)


def progress_path(case_no: str = TRIAL) -> str:
    return f"/api/v1/cases/{quote(case_no, safe='')}/progress"


def filing_args(person: DemoPerson = ZW, court: str = "粤0106", **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "court": court, "case_type": "民初", "cause": "民间借贷纠纷",
        "plaintiffs": [{"kind": "person", "name": person.name, "id_type": "ID_CARD", "id_number": person.id_number,
                        "phone": person.phone}],
        "defendants": [{"kind": "person", "name": "刘洋", "id_type": "ID_CARD",
                        "id_number": DEMO_PEOPLE["liuyang"].id_number}],
        "claims": "判令被告偿还借款本金50000元及利息", "facts": "2025年3月被告向原告借款50000元，到期未还。",
        "amount": "50000.00", "documents": [],
    }
    args.update(extra)
    return args


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of a Prometheus metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total
