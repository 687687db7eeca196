"""A running stack for the hotline's tests: gateway + reference court + the SMS gateway stand-in."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.ivr12368 import ADAPTER
from adapters.ivr12368.driver import Ivr12368Driver, JsonPhone, VoiceXmlBrowser
from gateway.app import GatewayHost, HostOptions
from gateway.config import load_config
from gateway.notify.standin import SmsStandIn
from tests.support.stack import Issuer, Stack, serving, stack_config, stack_env

CHANNEL = "ivr12368"
#: 张伟, his case at 粤0106 with an online hearing ahead and a fee to pay, and its password
CALLER = "13631415926"
CASE_NO = "（2026）粤0106民初22468号"
COURT_DIGITS = "0106"
SERIAL = "22468"  # the digits before 号
PASSWORD = "260615"


@dataclass
class IvrStack:
    stack: Stack
    sms: SmsStandIn
    driver: Ivr12368Driver
    config_text: str

    @property
    def gateway_url(self) -> str:
        return self.stack.gateway_url

    @property
    def token(self) -> str:
        return self.driver.token

    def phone(self, client: httpx.AsyncClient, caller: str = CALLER, gateway_url: str | None = None) -> JsonPhone:
        return self.driver.phone(client, gateway_url or self.gateway_url, caller)

    def browser(self, client: httpx.AsyncClient, caller: str = CALLER) -> VoiceXmlBrowser:
        return VoiceXmlBrowser(client, self.gateway_url, f"/channels/{CHANNEL}/vxml", self.token, caller)


@contextlib.asynccontextmanager
async def ivr_stack(*, state: str = "memory", settings: Mapping[str, Any] | None = None,
                    sms: SmsStandIn | None = None, config_extra: Mapping[str, Any] | None = None,
                    env_extra: Mapping[str, str] | None = None) -> AsyncIterator[IvrStack]:
    """Like tests.support.stack.running_stack, with notify.sms pointing at a live SMS stand-in;
    ``config_extra`` is merged into the config file, ``env_extra`` into its environment."""
    from reference_court.app import create_reference_court
    from reference_court.seed import default_seed

    driver = Ivr12368Driver(CHANNEL)
    env = stack_env({**driver.env(), **(env_extra or {})})
    sms = sms or SmsStandIn(access_key=env["SMS_ACCESS_KEY"])
    issuer = Issuer()
    holder: dict[str, GatewayHost] = {}

    async def jwks() -> dict[str, Any]:
        runtime = holder["host"].runtime
        assert runtime is not None
        return runtime.signer.jwks()

    court_app = create_reference_court(default_seed(), jwks_provider=jwks)
    channels = {CHANNEL: {**driver.channel_config(""), **(settings or {})}}
    async with serving(issuer.app()) as issuer_url, serving(court_app) as court_root, \
            serving(Starlette(routes=sms.routes())) as sms_url:
        issuer.jwks_url = issuer_url + "/jwks"
        directory = Path(tempfile.mkdtemp(prefix="cg-ivr-"))
        path = directory / "channels.yaml"
        text = stack_config(court_root, issuer, state=state, channels=channels, sms_url=sms_url, extra=config_extra)
        path.write_text(text, encoding="utf-8")
        registry = {CHANNEL: ADAPTER}
        config = load_config(path, env=env, adapters=registry)
        host = GatewayHost(config, HostOptions(adapters=registry, health_checks=False))
        holder["host"] = host
        try:
            async with serving(host) as gateway_url:
                yield IvrStack(Stack(gateway_url, court_root, host, court_app, config, env, issuer), sms, driver,
                               text)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
