"""``court-gateway demo``: the whole system on one machine, no other service.

One process runs three servers: the gateway (in-memory state, every channel
enabled), the reference court with seeded data for every Guangzhou court, and
the stand-ins for the channel platforms that adapters bring (WeChat login,
identity platforms, the SMS gateway, ...). Secrets and keys are generated
fresh on every start and printed, with sample logins, so a newcomer can try
every channel with curl.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from gateway.app import GatewayHost, HostOptions
from gateway.channels import Adapter, DemoKit, discover_adapters
from gateway.config import load_config
from gateway.console.pages import STATIC_DIR
from gateway.console.simulator import simulator_routes
from gateway.domain.courts import GUANGZHOU_COURTS, court_env_suffix
from gateway.http_limits import server_options
from gateway.logs import configure_logging
from gateway.notify.standin import SmsStandIn
from gateway.tokens import generate_ec_pem
from workbench.idp_standin import DemoIdentityProvider


@dataclass
class DemoPlan:
    port: int
    config_text: str
    env: dict[str, str]
    stand_in_routes: list[BaseRoute]
    notes: list[str] = field(default_factory=list)
    idp: DemoIdentityProvider | None = None
    panels: list[Any] = field(default_factory=list)  # each adapter's terminal in /console/simulator

    @property
    def court_port(self) -> int:
        return self.port + 1

    @property
    def stand_in_port(self) -> int:
        return self.port + 2


def _court_url(port: int, code: str) -> str:
    from reference_court.app import court_base_url

    return court_base_url(f"http://127.0.0.1:{port}", code)


def plan_demo(port: int, adapters: dict[str, type[Adapter]]) -> DemoPlan:
    env = {
        "GATEWAY_SECRET": secrets.token_urlsafe(32),
        "GATEWAY_SIGNING_KEY": generate_ec_pem().decode(),
        "SMS_ACCESS_KEY": secrets.token_urlsafe(16),
    }
    courts: dict[str, Any] = {}
    for code, name in GUANGZHOU_COURTS.items():
        variable = f"COURT_{court_env_suffix(code)}_EVENT_SECRET"
        env[variable] = secrets.token_urlsafe(32)
        courts[code] = {"name": name, "base_url": _court_url(port + 1, code), "event_secret_env": variable}
    channels: dict[str, Any] = {}
    # The SMS gateway stand-in belongs to no channel: notify.sms below points at it.
    routes: list[BaseRoute] = [Mount("/sms", routes=SmsStandIn(access_key=env["SMS_ACCESS_KEY"]).routes())]
    notes: list[str] = []
    panels: list[Any] = []
    stand_ins = f"http://127.0.0.1:{port + 2}"
    # Staff sign in to the console through it; it also hands out bearer tokens for the canonical API.
    idp = DemoIdentityProvider(f"{stand_ins}/idp", [f"http://127.0.0.1:{port}/console/callback",
                                                   f"http://localhost:{port}/console/callback"])
    routes += [Mount("/idp", routes=idp.routes()), Mount("/console/static", app=StaticFiles(directory=STATIC_DIR))]
    for name, adapter in sorted(adapters.items()):
        kit: DemoKit | None = adapter.demo_kit(f"{stand_ins}/{name}")
        if kit is None:
            continue
        channels.update(kit.channels)
        env.update(kit.env)
        if kit.stand_in_routes:
            routes.append(Mount(f"/{name}", routes=kit.stand_in_routes))
        notes.extend(kit.notes)
        if kit.simulator is not None:
            panels.append(kit.simulator)
    document = {
        "version": 1,
        "gateway": {"state": "memory", "secret_env": "GATEWAY_SECRET", "signing_key_env": "GATEWAY_SIGNING_KEY",
                    "default_court": "粤01", "trusted_issuers": [idp.trusted_issuer()],
                    # plain HTTP on loopback: a Secure cookie would never come back
                    "console": {"secure_cookies": False}},
        "courts": courts,
        "channels": channels,
        "notify": {"sms": {"base_url": f"{stand_ins}/sms", "sign_name": "广州法院", "access_key_env": "SMS_ACCESS_KEY"}},
    }
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return DemoPlan(port, text, env, routes, notes, idp, panels)


def _banner(plan: DemoPlan, config_path: Path) -> str:
    from reference_court.seed import demo_summary

    base = f"http://127.0.0.1:{plan.port}"
    court_root = f"http://127.0.0.1:{plan.court_port}"
    idp = f"http://127.0.0.1:{plan.stand_in_port}/idp"
    lines = [
        "court-gateway demo: gateway, reference court and channel-platform stand-ins are running.",
        f"  gateway            {base}/   (front page: console, API reference, health)",
        f"  API reference      {base}/api/v1/docs   (OpenAPI: {base}/api/v1/openapi.json)",
        f"  console            {base}/console/login   (sign in as a demo staff member or operator)",
        f"  channel simulator  {base}/console/simulator",
        f"  reference court    {court_root}/<court>   e.g. {_court_url(plan.court_port, '粤0106')}",
        f"  platform stand-ins http://127.0.0.1:{plan.stand_in_port}   (identity provider: {idp})",
        f"  config (generated) {config_path}",
        "",
        "Try:",
        f"  curl -s {base}/api/v1/courts",
        f"  curl -s '{base}/api/v1/templates?q=%E8%B5%B7%E8%AF%89'",
        "",
        ("Bearer tokens for the canonical API, from the demo identity provider "
        "(person: zhangwei, staff-tianhe, staff-zhongyuan, operator):"),
        f"  TOKEN=$(curl -s '{idp}/token?person=zhangwei')",
        f"  curl -s {base}/api/v1/cases -H \"Authorization: Bearer $TOKEN\"",
        f"  STAFF=$(curl -s '{idp}/token?person=staff-tianhe')",
        f"  curl -s {base}/api/v1/admin/sla -H \"Authorization: Bearer $STAFF\"",
        "",
        "The reference court's test hooks (what the court does later, faults, the request journal):",
        f"  curl -s {court_root}/_ref/journal                  what the gateway sent to the courts",
        f"  curl -s -X POST {court_root}/_ref/faults -d '{{\"court\":\"粤0106\",\"mode\":\"unavailable_503\"}}'",
        f"  curl -s -X POST {court_root}/_ref/faults -d '{{\"court\":null,\"mode\":\"ok\"}}'",
        "  Court events (docs/events.md) are signed with the COURT_*_EVENT_SECRET values below.",
        "",
        *plan.notes,
        "",
        demo_summary(),
        "",
        "Demo secrets (fresh each start; never use them elsewhere):",
        *(f"  {k}={v}" for k, v in sorted(plan.env.items()) if "SIGNING_KEY" not in k),
        "",
        "Stop with Ctrl-C.",
    ]
    return "\n".join(lines)


def busy_port(ports: list[int]) -> int | None:
    """The first of ``ports`` another process is listening on (checked before anything starts, so a
    busy port is one clear line instead of a server's traceback)."""
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return port
    return None


async def run_demo(port: int, *, announce: bool = True) -> None:
    busy = busy_port([port, port + 1, port + 2])
    if busy is not None:
        raise DemoError(f"court-gateway demo: port {busy} is in use (the demo needs {port}-{port + 2}); "
                        f"stop what uses it or pick others with --port")
    adapters = discover_adapters()
    plan = plan_demo(port, adapters)
    config_dir = Path(tempfile.mkdtemp(prefix="court-gateway-demo-"))
    try:
        await _run(plan, config_dir, adapters, announce)
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


async def _run(plan: DemoPlan, config_dir: Path, adapters: dict[str, type[Adapter]], announce: bool) -> None:
    from reference_court.app import create_reference_court
    from reference_court.seed import default_seed

    port = plan.port
    config_path = config_dir / "channels.yaml"
    config_path.write_text(plan.config_text, encoding="utf-8")
    config = load_config(config_path, env=plan.env, adapters=adapters)
    host = GatewayHost(config, HostOptions(adapters=adapters, extra_routes=simulator_routes(
        plan.panels, f"http://127.0.0.1:{port}", plan.env["GATEWAY_SECRET"].encode())))
    gateway_url = f"http://127.0.0.1:{port}"
    event_secrets = {code: plan.env[f"COURT_{court_env_suffix(code)}_EVENT_SECRET"] for code in GUANGZHOU_COURTS}
    court_app = create_reference_court(default_seed(), jwks_provider=None, gateway_url=gateway_url,
                                       event_secrets=event_secrets)
    stand_ins = Starlette(routes=plan.stand_in_routes)
    servers = [
        _server(host, port),
        _server(court_app, plan.court_port),
        _server(stand_ins, plan.stand_in_port),
    ]
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    while not all(server.started for server in servers):
        if any(task.done() for task in tasks):
            for server in servers:
                server.should_exit = True
            raise DemoError(f"court-gateway demo: could not start: is one of ports {port}-{port + 2} in use?")
        await asyncio.sleep(0.05)
    if announce:
        _announce(_banner(plan, config_path), config_dir / "banner.txt")
    await asyncio.gather(*tasks)


def _announce(banner: str, path: Path) -> None:
    """The banner on stderr and in a file (log lines on stdout push it off screen); the file's path last.
    The file holds the demo's secrets: mode 0600, and removed with the demo's folder on exit."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(banner + "\n")
    print(banner, file=sys.stderr, flush=True)
    print(f"\nThis banner is also in {path} (until the demo stops)", file=sys.stderr, flush=True)


class DemoError(Exception):
    """A problem a newcomer can fix, told in one line."""


def _server(app: Any, port: int) -> uvicorn.Server:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on",
                            server_header=False, **server_options())
    server = uvicorn.Server(config)
    return server


def main(port: int) -> int:
    configure_logging()
    try:
        asyncio.run(run_demo(port))
    except KeyboardInterrupt:
        pass
    except DemoError as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1
    return 0
