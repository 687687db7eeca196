"""The reference court's commands for ``court-gateway`` (entry point group ``court_gateway.commands``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReferenceCourtCommand:
    name: str = "reference-court"
    help: str = "the reference court backend alone"
    description: str | None = None

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", type=int, required=True, help="port to listen on")
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--data", type=Path, default=None, help="seed data file (default: the built-in demo data)")
        parser.add_argument("--gateway", default=None, help="the gateway's URL (JWKS for actor tokens, events)")

    def run(self, args: argparse.Namespace) -> int:
        from reference_court.app import run_reference_court

        run_reference_court(args.port, args.data, args.gateway, host=args.host)
        return 0


@dataclass(frozen=True)
class VerifyBackendCommand:
    name: str = "verify-backend"
    help: str = "run the court backend contract checks against a URL"
    description: str | None = (
        "Signs actor tokens with a temporary key it publishes at http://127.0.0.1:JWKS_PORT/"
        ".well-known/jwks.json: the court under test must trust that JWKS for the duration (the "
        "reference court: start it with --gateway http://127.0.0.1:JWKS_PORT). The participant "
        "checks need a case of a test participant (--case-no, --name, --id-number).")

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("url", help="the court system's base_url")
        parser.add_argument("--court", default=None,
                            help="court code the backend serves (default: read from its health answer)")
        parser.add_argument("--jwks-port", type=int, default=8765,
                            help="port of the temporary JWKS the checks sign with (point the court at it)")
        parser.add_argument("--case-no", default=None, help="a case of a test participant, for the participant checks")
        parser.add_argument("--name", default=None, help="the test participant's name")
        parser.add_argument("--id-number", default=None, help="the test participant's ID number")
        parser.add_argument("--password", default=None,
                            help="that case's query password (12368), for the password checks")

    def run(self, args: argparse.Namespace) -> int:
        from reference_court.verify import run_verify_backend_cli

        return run_verify_backend_cli(args.url, args.court, args.jwks_port, case_no=args.case_no, name=args.name,
                                      id_number=args.id_number, password=args.password)


REFERENCE_COURT = ReferenceCourtCommand()
VERIFY_BACKEND = VerifyBackendCommand()
