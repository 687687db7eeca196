"""A second gateway process for the hotline's multi-instance tests: ``python -m ... CONFIG PORT``.

It is what ``court-gateway serve`` runs, with the adapter passed in explicitly
(the tests do not depend on the package's entry points being installed).
Secrets come from the environment, as in production.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from adapters.ivr12368 import ADAPTER
from gateway.app import GatewayHost, HostOptions
from gateway.config import load_config
from gateway.logs import configure_logging


def main(config_path: str, port: int) -> None:
    configure_logging()
    adapters = {ADAPTER.name: ADAPTER}
    config = load_config(Path(config_path), adapters=adapters)
    host = GatewayHost(config, HostOptions(adapters=adapters, health_checks=False))
    uvicorn.run(host, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
