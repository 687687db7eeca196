"""The ``court-gateway`` command (CONTRACTS.md section 1)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

COMMAND_GROUP = "court_gateway.commands"


class Command(Protocol):
    """A command another package adds to ``court-gateway`` (entry point group ``court_gateway.commands``).

    ``demo``, ``reference-court``, ``verify-backend`` and ``verify-adapter`` arrive this way: they
    need the reference court, which the gateway itself never imports.
    """

    name: str
    help: str
    description: str | None

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _plugins() -> dict[str, Command]:
    found: dict[str, Command] = {}
    for entry in sorted(metadata.entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        command: Command = entry.load()
        if command.name != entry.name:
            raise RuntimeError(f"command entry point {entry.name!r} loads a command named {command.name!r}")
        found[entry.name] = command
    return found


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

    for plugin in _plugins().values():
        plugin.configure(_command(commands, plugin.name, plugin.help, plugin.description))
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
    if (plugin := _plugins().get(args.command)) is not None:
        return plugin.run(args)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
