"""The HTTP servers the gateway can be measured under (``cpu_per_request.py --servers``).

``serve`` is what operators run (``court-gateway serve``); the others serve the
same app (``gateway.serve:worker_app``, which reads its config from the
environment) under another server or protocol stack, each with its own
request-head limits switched on, so that a choice between them is made by
measurement, in one run, beside the same floor. granian and hypercorn are not
dependencies of the project: ``pip install granian hypercorn`` to measure them.
"""

from __future__ import annotations

import sys
from pathlib import Path

BIN = Path(sys.executable).parent
FACTORY = "gateway.serve:worker_app"
UVICORN = [sys.executable, "-m", "uvicorn", "--factory", FACTORY, "--loop", "uvloop", "--no-access-log",
           "--no-server-header", "--lifespan", "on", "--log-level", "warning", "--ws", "none"]


def server_command(server: str, config: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and extra environment that serve the gateway of ``config`` on ``port``.

    ``serve@DIR`` runs ``serve`` from another checkout of the project (an A/B of two builds in one run).
    """
    env = {"COURT_GATEWAY_CONFIG": str(config), "COURT_GATEWAY_BACKGROUND": "1"}
    if server.startswith("serve@"):
        checkout = str(Path(server.removeprefix("serve@")).resolve())
        run_from_checkout = (f"import runpy, sys; sys.path.insert(0, {checkout!r}); "
                             "runpy.run_module('gateway.cli', run_name='__main__')")
        return [sys.executable, "-c", run_from_checkout, "serve", "--config", str(config), "--port", str(port)], env
    commands = {
        "serve": [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config), "--port", str(port)],
        "uvicorn-httptools": [*UVICORN, "--http", "httptools", "--port", str(port)],
        "uvicorn-h11": [*UVICORN, "--http", "h11", "--h11-max-incomplete-event-size", str(64 * 1024),
                        "--port", str(port)],
        "granian": [str(BIN / "granian"), "--interface", "asgi", "--factory", "--loop", "uvloop", "--http", "1",
                    "--no-ws", "--http1-buffer-size", str(64 * 1024), "--log-level", "warning",
                    "--port", str(port), FACTORY],
        "hypercorn": [str(BIN / "hypercorn"), "--worker-class", "uvloop", "--log-level", "warning",
                      "--bind", f"127.0.0.1:{port}", FACTORY + "()"],
    }
    return commands[server], env
