"""Run any ASGI app as a real uvicorn server on loopback, for tests.

The server runs in a background thread with its own event loop, so tests may
call it with sync or async clients, block, or stop and restart it on the same
port (to play a court going down and coming back)::

    with BackgroundServer(app) as server:          # sync tests
        httpx.get(server.url + "/api/v1/health")

    async with serve(app) as url:                  # async tests and fixtures
        ...

    server = BackgroundServer(app).start()         # kill / restart on the same port
    server.stop(); server.start(); server.stop()

The port is bound before uvicorn starts (no race for a "free" port), startup
waits until uvicorn reports it is serving (lifespan included) and fails loudly
if it does not, and shutdown is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Literal, Self

import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT_S = 15.0
SHUTDOWN_TIMEOUT_S = 10.0


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


class BackgroundServer:
    """One ASGI app on ``host``; ``port`` 0 picks a free port on first start and keeps it on restarts."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *,
                 lifespan: Literal["auto", "on", "off"] = "on",
                 log_level: str = "warning") -> None:
        self.app = app
        self.host = host
        self.port = port
        self.lifespan = lifespan
        self.log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("server not started yet")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        if self.running:
            return self
        self._socket = _listening_socket(self.host, self.port)
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level=self.log_level, access_log=False, lifespan=self.lifespan,
                                timeout_graceful_shutdown=2, timeout_keep_alive=5)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, args=(self._server, self._socket),
                                        name=f"uvicorn-{self.port}", daemon=True)
        self._thread.start()
        self._wait_started()
        return self

    @staticmethod
    def _run(server: uvicorn.Server, sock: socket.socket) -> None:
        # uvicorn calls sys.exit() when the app's lifespan startup fails; in a thread that would
        # surface as an unhandled-thread warning instead of the clear error _wait_started raises.
        with contextlib.suppress(SystemExit):
            server.run(sockets=[sock])

    def _wait_started(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        assert self._server is not None and self._thread is not None
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"uvicorn did not start on {self.host}:{self.port}")
            time.sleep(0.005)

    def stop(self) -> None:
        """Shut down (lifespan shutdown included); the port stays reserved for :meth:`start`."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(SHUTDOWN_TIMEOUT_S)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(SHUTDOWN_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *,
                lifespan: Literal["auto", "on", "off"] = "on", log_level: str = "warning") -> AsyncIterator[str]:
    """Async form of :class:`BackgroundServer`: yields the base URL; start and stop don't block the loop."""
    server = BackgroundServer(app, host, port, lifespan=lifespan, log_level=log_level)
    await asyncio.to_thread(server.start)
    try:
        yield server.url
    finally:
        await asyncio.to_thread(server.stop)
