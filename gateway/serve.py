"""Running the gateway: one process, or uvicorn's supervisor over N worker processes.

``serve --workers N`` is uvicorn's own multiprocess supervisor: it binds the
listening sockets once, spawns N workers that share them, replaces a worker
that died (within about half a second, then the new one starts up), and on
SIGTERM stops every worker, each of which stops accepting, lets in-flight
requests finish and exits. :class:`Supervisor` adds only what uvicorn cannot:

- SIGHUP validates the config once, and only then lets uvicorn replace every
  live worker one by one (each replacement reads the file afresh and reopens
  the audit file); a config that does not validate is logged and nothing
  restarts, so a bad edit can never take the service down;
- each death is logged with its exit code, its metrics files are marked dead,
  and a supervisor whose workers keep dying (or fail to start) gives up with a
  non-zero exit status instead of restarting forever;
- every worker asks the kernel for SIGTERM when the supervisor dies
  (PR_SET_PDEATHSIG), so even a SIGKILLed supervisor leaves no worker serving.

``PROMETHEUS_MULTIPROC_DIR`` is set before anything imports prometheus_client
in the supervisor and so in every (spawned, not forked) worker: /metrics adds
up every worker. ``state: memory`` with more than one worker is refused:
workers must share state.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from gateway.logs import configure_logging, get_logger

if TYPE_CHECKING:
    from gateway.app import GatewayHost
    from gateway.config import GatewayConfig

_log = get_logger("court_gateway.serve")
#: what the supervisor hands its workers (spawned processes read the environment, not arguments)
CONFIG_ENV = "COURT_GATEWAY_CONFIG"
BACKGROUND_ENV = "COURT_GATEWAY_BACKGROUND"
OPS_PORT_ENV = "COURT_GATEWAY_OPS_PORT"
SUPERVISOR_ENV = "COURT_GATEWAY_SUPERVISOR_PID"
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: more deaths than this within the window and the supervisor gives up (exit status 1)
CRASH_LIMIT = 5
CRASH_WINDOW_S = 60.0
#: uvicorn's one health-check timeout: how long a new worker may take to start serving during a reload
#: before the reload is abandoned, and how long a live worker may leave a ping unanswered (hung)
WORKER_READY_S = 15
DRAIN_S = 20  # in-flight requests get this long after SIGTERM


@dataclass(frozen=True)
class Listen:
    """Where to listen: the public address, and the operations listener if any."""

    host: str
    port: int
    ops: tuple[str, int] | None = None


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """uvloop where available: its transports cost a fraction of asyncio's per request (bench/)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


def load_or_exit(path: Path) -> GatewayConfig:
    from gateway.channels import discover_adapters
    from gateway.config import ConfigError, load_config

    try:
        return load_config(path, adapters=discover_adapters())
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise SystemExit(1) from None


def warn_plain_http(config: GatewayConfig) -> None:
    for code, court in config.courts.items():
        if court.enabled and not court.is_https:
            _log.warning("court reached over plain http; use https with a CA file (and mTLS) in production",
                         court=code)


def ops_address(config: GatewayConfig, public_host: str, ops_port: int | None) -> tuple[str, int] | None:
    """``serve --ops-port`` (on the public host) wins over ``gateway.ops_listen``."""
    from gateway.config.models import split_host_port

    if ops_port is not None:
        return public_host, ops_port
    listen = config.gateway.ops_listen
    return split_host_port(listen) if listen else None


def uvicorn_config(app: Any, listen: Listen, config: GatewayConfig, **extra: Any) -> uvicorn.Config:
    from gateway.http_limits import server_options

    # Forwarded headers are believed only from the proxies the config names (OWASP API8).
    proxies = [str(network) for network in config.gateway.trusted_proxies]
    return uvicorn.Config(app, host=listen.host, port=listen.port, log_config=None, access_log=False,
                          lifespan="on", server_header=False, ws="none", **server_options(),
                          proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
                          timeout_graceful_shutdown=DRAIN_S, **extra)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(config_path: Path, bind_host: str, port: int, workers: int, background: bool = True,
          ops_port: int | None = None) -> int:
    multi = workers > 1
    own_metrics_dir = _prepare_metrics_dir() if multi else False  # before adapters import prometheus_client
    configure_logging()
    config = load_or_exit(config_path)
    if multi and config.gateway.state == "memory":
        print(f"{config_path}: gateway.state: --workers {workers} needs a shared state store (redis://...), "
              "not memory", file=sys.stderr)
        return 1
    listen = Listen(bind_host, port, ops_address(config, bind_host, ops_port))
    if listen.ops is not None and listen.ops[1] == port:
        print(f"--ops-port {port}: the operations listener needs a port of its own", file=sys.stderr)
        return 1
    warn_plain_http(config)
    if listen.ops is None:
        _log.warning("no operations listener: /metrics and /readyz are served on the public port; "
                     "set gateway.ops_listen or serve --ops-port to keep them private")
    if not multi:
        run_loop(_serve_one(config_path, config, listen, background))
        return 0
    try:
        return _supervise(config_path, config, listen, workers, background)
    finally:
        if own_metrics_dir:
            shutil.rmtree(os.environ[METRICS_ENV], ignore_errors=True)


async def _serve_one(config_path: Path, config: GatewayConfig, listen: Listen, background: bool) -> None:
    from gateway.app import GatewayHost, HostOptions

    host = GatewayHost(config, HostOptions(background=background, ops_port=listen.ops[1] if listen.ops else None,
                                           freeze_heap=True))
    sockets = [bind(listen.host, listen.port)] + ([bind(*listen.ops)] if listen.ops else [])
    server = uvicorn.Server(uvicorn_config(host, listen, config))
    loop = asyncio.get_running_loop()
    # One process: reload in place (validate, build, swap; the audit file is reopened).
    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(host.reload(config_path)))
    await server.serve(sockets=sockets)


# --------------------------------------------------------------------------- several workers


def _prepare_metrics_dir() -> bool:
    """The operator's metrics directory, emptied as prometheus_client asks, or a new one of this run's
    own (True: removed at exit)."""
    directory = os.environ.get(METRICS_ENV)
    if not directory:
        os.environ[METRICS_ENV] = tempfile.mkdtemp(prefix="court-gateway-metrics-")
        return True
    Path(directory).mkdir(parents=True, exist_ok=True)
    for stale in Path(directory).glob("*.db"):
        stale.unlink()
    return False


def _supervise(config_path: Path, config: GatewayConfig, listen: Listen, workers: int, background: bool) -> int:
    os.environ.update({CONFIG_ENV: str(config_path.resolve()), BACKGROUND_ENV: "1" if background else "0",
                       SUPERVISOR_ENV: str(os.getpid())})
    if listen.ops is not None:
        os.environ[OPS_PORT_ENV] = str(listen.ops[1])
    sockets = [bind(listen.host, listen.port)] + ([bind(*listen.ops)] if listen.ops else [])
    settings = uvicorn_config("gateway.serve:worker_app", listen, config, factory=True, workers=workers,
                              timeout_worker_healthcheck=WORKER_READY_S)
    supervisor = Supervisor(settings, sockets, config_path)
    _log.info("supervisor started", workers=workers, port=listen.port, ops_port=listen.ops[1] if listen.ops else None)
    supervisor.run()
    _log.info("supervisor stopped", exit_status=supervisor.exit_status)
    return supervisor.exit_status


class Supervisor(Multiprocess):
    """uvicorn's supervisor plus config validation before a reload, death records and a crash limit."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket], config_path: Path) -> None:
        super().__init__(config, sockets)
        self.config_path = config_path
        self.exit_status = 0
        self._deaths: deque[float] = deque()

    def handle_hup(self) -> None:
        from gateway.channels import discover_adapters
        from gateway.config import ConfigError, load_config

        try:
            load_config(self.config_path, adapters=discover_adapters())
        except ConfigError as exc:
            _log.error("config reload rejected; workers keep the running config",
                       problems=[str(p) for p in exc.problems])
            return
        _log.info("config valid; replacing every worker, one at a time", workers=len(self.processes))
        super().handle_hup()

    def keep_subprocess_alive(self) -> None:
        before = list(self.processes)
        stopping = self.should_exit.is_set()
        super().keep_subprocess_alive()
        if self.should_exit.is_set() and not stopping:
            self.exit_status = 1  # uvicorn gave up: a worker failed before serving
            _log.error("a worker failed to start; the supervisor stops", exit_status=1)
        for process in before:
            if process not in self.processes:
                self._record_death(process.pid, process.exitcode)

    def _record_death(self, pid: int | None, exitcode: int | None) -> None:
        from prometheus_client import multiprocess

        if pid is not None:
            multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
        now = time.monotonic()
        self._deaths.append(now)
        while self._deaths and now - self._deaths[0] > CRASH_WINDOW_S:
            self._deaths.popleft()
        _log.error("worker died and was replaced", pid=pid, exit_code=exitcode, recent_deaths=len(self._deaths))
        if len(self._deaths) > CRASH_LIMIT and not self.should_exit.is_set():
            _log.error("workers keep dying; the supervisor stops", deaths=len(self._deaths),
                       window_s=CRASH_WINDOW_S)
            self.exit_status = 1
            self.should_exit.set()


_PR_SET_PDEATHSIG = 1


def _die_with_supervisor() -> None:
    """Ask the kernel for SIGTERM when the supervisor dies, however it dies (Linux prctl)."""
    supervisor = int(os.environ.get(SUPERVISOR_ENV, "0"))
    if not supervisor or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        _log.warning("PR_SET_PDEATHSIG refused; this worker may outlive its supervisor",
                     errno=ctypes.get_errno())
    if os.getppid() != supervisor:
        os.kill(os.getpid(), signal.SIGTERM)  # the supervisor died before we asked: stop now


def worker_app() -> GatewayHost:
    """The app of one supervised worker (uvicorn's factory, called in the spawned process)."""
    from gateway.app import GatewayHost, HostOptions

    _die_with_supervisor()
    configure_logging()
    config = load_or_exit(Path(os.environ[CONFIG_ENV]))
    ops = os.environ.get(OPS_PORT_ENV)
    return GatewayHost(config, HostOptions(background=os.environ.get(BACKGROUND_ENV) == "1",
                                           ops_port=int(ops) if ops else None, freeze_heap=True))


# --------------------------------------------------------------------------- background work only


async def _work(config_path: Path, config: GatewayConfig) -> None:
    from gateway.app import GatewayHost, HostOptions

    host = GatewayHost(config, HostOptions(background=True, health_checks=False))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(host.reload(config_path)))
    await host.start()
    _log.info("worker started", jobs=[job.name for job in host.runtime.jobs] if host.runtime else [])
    try:
        await stop.wait()
    finally:
        await host.stop()


def work(config_path: Path) -> int:
    """``court-gateway worker``: the background jobs alone, no HTTP server."""
    configure_logging()
    config = load_or_exit(config_path)
    run_loop(_work(config_path, config))
    return 0
