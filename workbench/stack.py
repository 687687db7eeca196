"""Real servers on loopback for checks and tests: the gateway (in-memory state unless given a store),
the reference court, a token issuer, and a channel's platform stand-ins (:func:`channel_stack`).

Everything runs as it does in production (uvicorn, real sockets); only the ports are private and
free. ``court-gateway verify-adapter`` and the test suite (tests/support/stack.py) both start their
stacks here.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from gateway.app import GatewayHost, HostOptions
from gateway.channels import Adapter, discover_adapters
from gateway.config import GatewayConfig, load_config
from gateway.domain.courts import GUANGZHOU_COURTS, court_env_suffix
from gateway.state import StateStore
from gateway.tokens import generate_ec_pem
from workbench.drivers import ChannelDriver
from workbench.ports import free_port


@contextlib.asynccontextmanager
async def serving(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn in this event loop; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                            lifespan="on", server_header=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


class Issuer:
    """A trusted issuer for canonical API callers: an RSA key, its JWKS server, and token minting."""

    def __init__(self, issuer: str = "https://portal.test.invalid", audience: str = "court-gateway") -> None:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key = RSAKey.import_key(private)
        self.kid = self.key.thumbprint()
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = ""

    def jwks(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        public.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [public]}

    def app(self) -> Starlette:
        async def jwks(_request: Any) -> JSONResponse:
            return JSONResponse(self.jwks())

        return Starlette(routes=[Route("/jwks", jwks)])

    def mint(self, *, ttl_s: int = 300, header: dict[str, Any] | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": self.audience, "iat": now, "exp": now + ttl_s, "sub": "user-1"}
        body.update(claims)
        return jwt.encode(header or {"alg": "RS256", "kid": self.kid}, body, self.key, algorithms=["RS256"])

    def citizen(self, person: Mapping[str, str], acr: str = "L2", **extra: Any) -> str:
        claims: dict[str, Any] = {"sub": person["id_number"][-6:], "name": person["name"],
                                  "id_type": person.get("id_type", "ID_CARD"), "id_number": person["id_number"],
                                  "acr": acr}
        claims.update(extra)
        return self.mint(**claims)


@dataclass
class Stack:
    gateway_url: str
    court_root: str
    host: GatewayHost
    court_app: Any
    config: GatewayConfig
    env: dict[str, str]
    issuer: Issuer
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def journal(self) -> Any:
        return self.court_app.state.journal

    @property
    def state(self) -> StateStore:
        assert self.host.runtime is not None
        return self.host.runtime.gateway.state


def stack_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {"GATEWAY_SECRET": secrets.token_urlsafe(32), "GATEWAY_SIGNING_KEY": generate_ec_pem().decode(),
           "SMS_ACCESS_KEY": secrets.token_urlsafe(16)}
    for code in GUANGZHOU_COURTS:
        env[f"COURT_{court_env_suffix(code)}_EVENT_SECRET"] = secrets.token_urlsafe(32)
    env.update(extra or {})
    return env


#: the discard port: an SMS provider nobody listens on, for tests that send no SMS
NO_SMS_URL = "http://127.0.0.1:9/sms"


def merged(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in, mapping by mapping (a test's additions to the stack config)."""
    result = dict(base)
    for key, value in extra.items():
        current = result.get(key)
        result[key] = merged(current, value) if isinstance(current, dict) and isinstance(value, Mapping) else value
    return result


def stack_config(court_root: str, issuer: Issuer, *, state: str = "memory",
                 channels: Mapping[str, Any] | None = None, courts: Mapping[str, str] | None = None,
                 sms_url: str = NO_SMS_URL, extra: Mapping[str, Any] | None = None) -> str:
    from reference_court.app import court_base_url

    document = {
        "version": 1,
        "gateway": {
            "state": state, "secret_env": "GATEWAY_SECRET", "signing_key_env": "GATEWAY_SIGNING_KEY",
            "default_court": "粤01",
            "trusted_issuers": [{"issuer": issuer.issuer, "audience": issuer.audience, "jwks_url": issuer.jwks_url}],
        },
        "courts": {
            code: {"name": name, "base_url": court_base_url(court_root, code), "timeout_s": 5,
                   "event_secret_env": f"COURT_{court_env_suffix(code)}_EVENT_SECRET"}
            for code, name in (courts or GUANGZHOU_COURTS).items()
        },
        "channels": dict(channels or {}),
        "notify": {"sms": {"base_url": sms_url, "sign_name": "广州法院", "access_key_env": "SMS_ACCESS_KEY"}},
    }
    text: str = yaml.safe_dump(merged(document, extra or {}), allow_unicode=True, sort_keys=False)
    return text


@contextlib.asynccontextmanager
async def running_stack(
    *, state: str = "memory", channels: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
    adapters: Mapping[str, type[Adapter]] | None = None, extras: dict[str, dict[str, Any]] | None = None,
    state_store: StateStore | None = None, courts: Mapping[str, str] | None = None,
    court_events: bool = False, sms_url: str = NO_SMS_URL, config_extra: Mapping[str, Any] | None = None,
    background: bool = True,
) -> AsyncIterator[Stack]:
    """The gateway and the reference court as real servers on loopback.

    ``court_events``: the reference court signs and posts its events to the gateway (its /_ref hooks);
    ``sms_url``: where the gateway's SMS provider is; ``config_extra``: merged into the config file;
    ``background``: run the background jobs (a test that drives deliveries itself turns them off).
    """
    from reference_court.app import create_reference_court
    from reference_court.seed import default_seed

    issuer = Issuer()
    holder: dict[str, GatewayHost] = {}

    async def jwks() -> dict[str, Any]:
        runtime = holder["host"].runtime
        assert runtime is not None
        return runtime.signer.jwks()

    full_env = stack_env(env)
    # The court must know where to post events before either server starts: pick the port first.
    gateway_port = free_port()
    secrets_by_court = {code: full_env[f"COURT_{court_env_suffix(code)}_EVENT_SECRET"] for code in GUANGZHOU_COURTS}
    court_app = create_reference_court(
        default_seed(), jwks_provider=jwks, gateway_url=f"http://127.0.0.1:{gateway_port}" if court_events else None,
        event_secrets=secrets_by_court if court_events else None)
    async with serving(issuer.app()) as issuer_url, serving(court_app) as court_root:
        issuer.jwks_url = issuer_url + "/jwks"
        directory = Path(tempfile.mkdtemp(prefix="cg-stack-"))
        path = directory / "channels.yaml"
        document = stack_config(court_root, issuer, state=state, channels=channels, courts=courts,
                                sms_url=sms_url, extra=config_extra)
        path.write_text(document, encoding="utf-8")
        registry = adapters if adapters is not None else discover_adapters()
        config = load_config(path, env=full_env, adapters=registry)
        options = HostOptions(state=state_store, adapters=registry, extras=extras or {}, health_checks=False,
                              background=background)
        host = GatewayHost(config, options)
        holder["host"] = host
        async with serving(host, gateway_port) as gateway_url:
            yield Stack(gateway_url, court_root, host, court_app, config, full_env, issuer)
        shutil.rmtree(directory, ignore_errors=True)




@contextlib.asynccontextmanager
async def channel_stack(drivers: Sequence[ChannelDriver], *, channel_overrides: dict[str, Any] | None = None,
                        **stack_options: Any) -> AsyncIterator[Stack]:
    """:func:`running_stack` with the drivers' channels and their platform stand-ins on one more server.

    ``channel_overrides`` are merged into every channel's mapping (services, rate_limits ...).
    """
    port = free_port()
    stand_in_root = f"http://127.0.0.1:{port}"
    routes: list[BaseRoute] = []
    channels: dict[str, Any] = {}
    env: dict[str, str] = dict(stack_options.pop("env", {}))
    for driver in drivers:
        routes.append(Mount(f"/{driver.channel}", routes=driver.stand_in_routes()))
        channels[driver.channel] = {**driver.channel_config(f"{stand_in_root}/{driver.channel}"),
                                    **(channel_overrides or {})}
        env.update(driver.env())
    async with serving(Starlette(routes=routes), port), \
            running_stack(channels=channels, env=env, **stack_options) as stack:
        yield stack
