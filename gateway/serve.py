"""Running the gateway: one process, or a small supervisor over N worker processes.

With ``--workers N`` the supervisor binds the socket once and forks N workers
that share it (as uvicorn does), but it handles SIGHUP itself: it validates
the new config first and only then tells every worker to reload in place. A
config that does not validate is logged and the workers never notice, so a bad
edit can never take the service down. ``state: memory`` with more than one
worker is refused: workers must share state.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import uvicorn

from gateway.app import GatewayHost, HostOptions
from gateway.channels import discover_adapters
from gateway.config import ConfigError, GatewayConfig, load_config
from gateway.corked import CorkedHttpToolsProtocol
from gateway.logs import configure_logging, get_logger

_log = get_logger("court_gateway.serve")


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """uvloop where available: its transports cost a fraction of asyncio's per request (bench/)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


def load_or_exit(path: Path) -> GatewayConfig:
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


def _uvicorn_config(host: GatewayHost, bind_host: str, port: int) -> uvicorn.Config:
    # Forwarded headers are believed only from the proxies the config names (OWASP API8).
    proxies = [str(network) for network in host.config.gateway.trusted_proxies]
    return uvicorn.Config(host, host=bind_host, port=port, log_config=None, access_log=False, lifespan="on",
                          server_header=False, http=CorkedHttpToolsProtocol, proxy_headers=bool(proxies),
                          forwarded_allow_ips=proxies or None, timeout_graceful_shutdown=20)


async def _serve_one(config_path: Path, config: GatewayConfig, bind_host: str, port: int,
                     sock: socket.socket | None, background: bool = True) -> None:
    host = GatewayHost(config, HostOptions(background=background))
    server = uvicorn.Server(_uvicorn_config(host, bind_host, port))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(host.reload(config_path)))
    await server.serve(sockets=[sock] if sock else None)


def serve(config_path: Path, bind_host: str, port: int, workers: int, background: bool = True) -> int:
    configure_logging()
    config = load_or_exit(config_path)
    if workers > 1 and config.gateway.state == "memory":
        print(f"{config_path}: gateway.state: --workers {workers} needs a shared state store (redis://...), "
              "not memory", file=sys.stderr)
        return 1
    warn_plain_http(config)
    if workers <= 1:
        run_loop(_serve_one(config_path, config, bind_host, port, None, background))
        return 0
    return _supervise(config_path, config, bind_host, port, workers, background)


def _worker_main(config_path: str, bind_host: str, port: int, fd: int, metrics_dir: str, background: bool) -> None:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    configure_logging()
    sock = socket.socket(fileno=fd)
    config = load_or_exit(Path(config_path))
    run_loop(_serve_one(Path(config_path), config, bind_host, port, sock, background))


def _supervise(config_path: Path, config: GatewayConfig, bind_host: str, port: int, workers: int,
               background: bool) -> int:
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="court-gateway-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    sock = socket.socket(socket.AF_INET6 if ":" in bind_host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((bind_host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_worker_main,
                        args=(str(config_path), bind_host, port, sock.fileno(), metrics_dir, background))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    _log.info("supervisor started", workers=workers, port=port)

    def on_hup(_signum: int, _frame: object) -> None:
        try:
            load_config(config_path, adapters=discover_adapters())
        except ConfigError as exc:
            _log.error("config reload rejected; workers keep the running config",
                       problems=[str(p) for p in exc.problems])
            return
        for process in processes:
            if process.pid:
                os.kill(process.pid, signal.SIGHUP)

    def on_stop(_signum: int, _frame: object) -> None:
        for process in processes:
            if process.is_alive() and process.pid:
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    for process in processes:
        process.join()
    return 0


async def _work(config_path: Path, config: GatewayConfig) -> None:
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
