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
import secrets
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from gateway.app import GatewayHost, HostOptions
from gateway.channels import Adapter, DemoKit, discover_adapters
from gateway.config import load_config
from gateway.domain.courts import GUANGZHOU_COURTS, court_env_suffix
from gateway.http_limits import HeadLimitedProtocol
from gateway.logs import configure_logging
from gateway.notify.standin import SmsStandIn
from gateway.tokens import generate_ec_pem


@dataclass
class DemoPlan:
    port: int
    config_text: str
    env: dict[str, str]
    stand_in_routes: list[BaseRoute]
    notes: list[str] = field(default_factory=list)

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
    stand_ins = f"http://127.0.0.1:{port + 2}"
    for name, adapter in sorted(adapters.items()):
        kit: DemoKit | None = adapter.demo_kit(f"{stand_ins}/{name}")
        if kit is None:
            continue
        channels.update(kit.channels)
        env.update(kit.env)
        if kit.stand_in_routes:
            routes.append(Mount(f"/{name}", routes=kit.stand_in_routes))
        notes.extend(kit.notes)
    document = {
        "version": 1,
        "gateway": {"state": "memory", "secret_env": "GATEWAY_SECRET", "signing_key_env": "GATEWAY_SIGNING_KEY",
                    "default_court": "粤01"},
        "courts": courts,
        "channels": channels,
        "notify": {"sms": {"base_url": f"{stand_ins}/sms", "sign_name": "广州法院", "access_key_env": "SMS_ACCESS_KEY"}},
    }
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return DemoPlan(port, text, env, routes, notes)


def _banner(plan: DemoPlan, config_path: Path) -> str:
    from reference_court.seed import demo_summary

    base = f"http://127.0.0.1:{plan.port}"
    lines = [
        "court-gateway demo: gateway, reference court and channel-platform stand-ins are running.",
        f"  gateway            {base}   (OpenAPI: {base}/api/v1/openapi.json)",
        (f"  reference court    http://127.0.0.1:{plan.court_port}/<court>   e.g. "
         f"{_court_url(plan.court_port, '粤0106')}"),
        f"  platform stand-ins http://127.0.0.1:{plan.stand_in_port}",
        f"  config (generated) {config_path}",
        "",
        "Try:",
        f"  curl -s {base}/api/v1/courts",
        f"  curl -s '{base}/api/v1/templates?q=%E8%B5%B7%E8%AF%89'",
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


async def run_demo(port: int, *, announce: bool = True) -> None:
    from reference_court.app import create_reference_court
    from reference_court.seed import default_seed

    adapters = discover_adapters()
    plan = plan_demo(port, adapters)
    config_dir = Path(tempfile.mkdtemp(prefix="court-gateway-demo-"))
    config_path = config_dir / "channels.yaml"
    config_path.write_text(plan.config_text, encoding="utf-8")
    config = load_config(config_path, env=plan.env, adapters=adapters)
    host = GatewayHost(config, HostOptions(adapters=adapters))
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
            raise SystemExit(f"could not start the demo: is one of ports {port}-{port + 2} in use?")
        await asyncio.sleep(0.05)
    if announce:
        print(_banner(plan, config_path), file=sys.stderr, flush=True)
    await asyncio.gather(*tasks)


def _server(app: Any, port: int) -> uvicorn.Server:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on",
                            server_header=False, http=HeadLimitedProtocol)
    server = uvicorn.Server(config)
    return server


def main(port: int) -> int:
    configure_logging()
    try:
        asyncio.run(run_demo(port))
    except KeyboardInterrupt:
        pass
    return 0
