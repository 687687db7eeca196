"""The ``court-gateway`` command (CONTRACTS.md section 1)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="court-gateway", description="Multichannel litigation-service gateway "
                                     "for the courts of Guangzhou.")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="everything on one machine: gateway, reference court, stand-ins")
    demo.add_argument("--port", type=int, default=8080)

    serve = commands.add_parser("serve", help="the production gateway")
    serve.add_argument("--config", type=Path, required=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--ops-port", type=int, help="serve /metrics and /readyz (and /healthz) on this port only "
                       "(overrides gateway.ops_listen); the public port answers 404 for them")
    serve.add_argument("--no-worker", action="store_true",
                       help="do not run background work (timers, queued deliveries) in this process")

    worker = commands.add_parser("worker", help="background work only: SLA timers, queued deliveries, notifications")
    worker.add_argument("--config", type=Path, required=True)

    check = commands.add_parser("check-config", help="validate a config file")
    check.add_argument("path", type=Path)

    commands.add_parser("config-schema", help="print the JSON Schema of the config file")

    court = commands.add_parser("reference-court", help="the reference court backend alone")
    court.add_argument("--port", type=int, required=True)
    court.add_argument("--host", default="127.0.0.1")
    court.add_argument("--data", type=Path)
    court.add_argument("--gateway", help="the gateway's URL (JWKS for actor tokens, events)")

    verify = commands.add_parser("verify-backend", help="run the court backend contract checks against a URL")
    verify.add_argument("url")
    verify.add_argument("--court", help="court code the backend serves (default: read from its health answer)")
    verify.add_argument("--jwks-port", type=int, default=8765,
                        help="port of the temporary JWKS the checks sign with (point the court at it)")
    verify.add_argument("--case-no", help="a case of a test participant, for the participant checks")
    verify.add_argument("--name", help="the test participant's name")
    verify.add_argument("--id-number", help="the test participant's ID number")
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


def main(argv: Sequence[str] | None = None) -> int:
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
    if args.command == "reference-court":
        from reference_court.app import run_reference_court

        run_reference_court(args.port, args.data, args.gateway, host=args.host)
        return 0
    if args.command == "verify-backend":
        from reference_court.verify import run_verify_backend_cli

        return run_verify_backend_cli(args.url, args.court, args.jwks_port, case_no=args.case_no, name=args.name,
                                      id_number=args.id_number)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
