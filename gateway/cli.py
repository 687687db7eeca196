"""The ``court-gateway`` command (CONTRACTS.md section 1)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any


def _version() -> str:
    try:
        return metadata.version("court-gateway")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _command(commands: Any, name: str, help_text: str, description: str | None = None) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=description or help_text,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="court-gateway", description="Multichannel litigation-service gateway "
                                     "for the courts of Guangzhou.")
    parser.add_argument("--version", action="version", version=f"court-gateway {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = _command(commands, "demo", "everything on one machine: gateway, reference court, stand-ins",
                    "Runs the gateway, the reference court and the channel-platform stand-ins on PORT, PORT+1 "
                    "and PORT+2, and prints (and saves) the URLs, secrets and sample logins.")
    demo.add_argument("--port", type=int, default=8080, help="the gateway's port (the court and stand-ins use the next two)")

    serve = _command(commands, "serve", "the production gateway")
    serve.add_argument("--config", type=Path, required=True, help="the config file (config/channels.yaml)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (above 1 needs a Redis state)")
    serve.add_argument("--ops-port", type=int, default=None,
                       help="serve /metrics and /readyz (and /healthz) on this port only "
                            "(overrides gateway.ops_listen); the public port answers 404 for them")
    serve.add_argument("--no-worker", action="store_true",
                       help="do not run background work (timers, queued deliveries) in this process")

    worker = _command(commands, "worker", "background work only: SLA timers, queued deliveries, notifications")
    worker.add_argument("--config", type=Path, required=True, help="the config file")

    check = _command(commands, "check-config", "validate a config file",
                     "Exit 0 if the file is valid; else print every problem as PATH:LINE: dotted.key: message.")
    check.add_argument("path", type=Path, help="the config file")

    _command(commands, "config-schema", "print the JSON Schema of the config file")

    init = _command(commands, "init-env", "generate the environment a new deployment needs",
                    "Writes every variable the config names and this environment lacks (signing key, secrets, "
                    "contact phones) to an env file with mode 0600, so that check-config passes.")
    init.add_argument("config", type=Path, help="the config file whose *_env variables to generate")
    init.add_argument("--out", type=Path, default=Path("gateway.env"), help="the env file to write (never overwritten)")
    init.add_argument("--contact-phone", default=None,
                      help="mobile number for every escalation contact the config names (correct them per role later)")

    court = _command(commands, "reference-court", "the reference court backend alone")
    court.add_argument("--port", type=int, required=True, help="port to listen on")
    court.add_argument("--host", default="127.0.0.1", help="address to listen on")
    court.add_argument("--data", type=Path, default=None, help="seed data file (default: the built-in demo data)")
    court.add_argument("--gateway", default=None, help="the gateway's URL (JWKS for actor tokens, events)")

    verify = _command(commands, "verify-backend", "run the court backend contract checks against a URL",
                      "Signs actor tokens with a temporary key it publishes at http://127.0.0.1:JWKS_PORT/"
                      ".well-known/jwks.json: the court under test must trust that JWKS for the duration (the "
                      "reference court: start it with --gateway http://127.0.0.1:JWKS_PORT). The participant "
                      "checks need a case of a test participant (--case-no, --name, --id-number).")
    verify.add_argument("url", help="the court system's base_url")
    verify.add_argument("--court", default=None,
                        help="court code the backend serves (default: read from its health answer)")
    verify.add_argument("--jwks-port", type=int, default=8765,
                        help="port of the temporary JWKS the checks sign with (point the court at it)")
    verify.add_argument("--case-no", default=None, help="a case of a test participant, for the participant checks")
    verify.add_argument("--name", default=None, help="the test participant's name")
    verify.add_argument("--id-number", default=None, help="the test participant's ID number")
    verify.add_argument("--password", default=None, help="that case's query password (12368), for the password checks")
    return parser


def _check_config(path: Path) -> int:
    from gateway.channels import discover_adapters
    from gateway.config import check_config

    problems = check_config(path, None, discover_adapters())
    for line in problems:
        print(line)
    if not problems:
        print(f"{path}: ok")
    return 1 if problems else 0


def _config_schema() -> int:
    from gateway.channels import discover_adapters
    from gateway.config import config_schema

    json.dump(config_schema(discover_adapters()), sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


def _init_env(config: Path, out: Path, contact_phone: str | None) -> int:
    from gateway.channels import discover_adapters
    from gateway.deploy_env import InitEnvError, needed_variables, write_env_file

    needed = needed_variables(config, discover_adapters(), os.environ)
    try:
        write_env_file(out, needed, contact_phone)
    except InitEnvError as exc:
        print(f"court-gateway init-env: {exc}", file=sys.stderr)
        return 1
    print(f"{out}: {len(needed)} variables (mode 0600). Load it and check:")
    shown = out if out.is_absolute() or "/" in str(out) else f"./{out}"
    print(f"  set -a; . {shown}; set +a; court-gateway check-config {config}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`config-schema | head`): not an error. Point stdout at /dev/null so
        # the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from gateway.demo import main as demo_main

        return demo_main(args.port)
    if args.command == "serve":
        from gateway.serve import serve

        return serve(args.config, args.host, args.port, args.workers, background=not args.no_worker,
                     ops_port=args.ops_port)
    if args.command == "worker":
        from gateway.serve import work

        return work(args.config)
    if args.command == "check-config":
        return _check_config(args.path)
    if args.command == "config-schema":
        return _config_schema()
    if args.command == "init-env":
        return _init_env(args.config, args.out, args.contact_phone)
    if args.command == "reference-court":
        from reference_court.app import run_reference_court

        run_reference_court(args.port, args.data, args.gateway, host=args.host)
        return 0
    if args.command == "verify-backend":
        from reference_court.verify import run_verify_backend_cli

        return run_verify_backend_cli(args.url, args.court, args.jwks_port, case_no=args.case_no, name=args.name,
                                      id_number=args.id_number, password=args.password)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
