"""``court-gateway demo`` (entry point group ``court_gateway.commands``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoCommand:
    name: str = "demo"
    help: str = "everything on one machine: gateway, reference court, stand-ins"
    description: str | None = ("Runs the gateway, the reference court and the channel-platform stand-ins on PORT, "
                               "PORT+1 and PORT+2, and prints (and saves) the URLs, secrets and sample logins.")

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=8080,
                            help="the gateway's port (the court and stand-ins use the next two)")

    def run(self, args: argparse.Namespace) -> int:
        from workbench.demo import main

        return main(args.port)


DEMO = DemoCommand()
