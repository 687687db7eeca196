"""``court-gateway demo`` and ``verify-adapter`` (entry point group ``court_gateway.commands``)."""

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


@dataclass(frozen=True)
class VerifyAdapterCommand:
    name: str = "verify-adapter"
    help: str = "run the adapter conformance checks against an installed adapter"
    description: str | None = (
        "Starts the gateway (in-memory state), the reference court and the adapter's platform stand-ins on "
        "loopback, runs the conformance checks of CONTRACTS.md 4.6 through the adapter's test driver "
        "(entry point group court_gateway.adapter_drivers) for each of its channels, and prints a pass/fail "
        "table. Exit 0 only if every check passes; 1 if one fails; 2 for an unknown adapter or one "
        "without a driver.")

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("adapter", metavar="NAME", help="the adapter's entry point name (wechat, kiosk ...)")

    def run(self, args: argparse.Namespace) -> int:
        from workbench.verify import verify_adapter

        return verify_adapter(args.adapter)


VERIFY_ADAPTER = VerifyAdapterCommand()
