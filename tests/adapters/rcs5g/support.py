"""A running stack for the 5G channel's tests: gateway, reference court (posting its events), the carrier's
MaaP stand-in and the SMS gateway stand-in, all real servers on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from adapters.rcs5g.adapter import Rcs5gAdapter
from adapters.rcs5g.driver import Rcs5gDriver
from adapters.rcs5g.phone import Phone
from adapters.rcs5g.standins import FakeMaap
from gateway import ErrorCode, GatewayError
from gateway.notify.standin import SmsStandIn
from tests.support.stack import Stack, free_port, running_stack, serving, stack_env

CHANNEL = "rcs5g"
#: 张伟 and his case at 粤0106, with its case query password
NUMBER = "13631415926"
CASE_NO = "（2026）粤0106民初22468号"
PASSWORD = "260615"


@dataclass
class RcsWorld:
    stack: Stack
    maap: FakeMaap
    sms: SmsStandIn
    driver: Rcs5gDriver
    client: httpx.AsyncClient

    def phone(self, number: str = NUMBER) -> Phone:
        return self.driver.phone(self.client, self.stack.gateway_url, number)

    @property
    def adapter(self) -> Rcs5gAdapter:
        runtime = self.stack.host.runtime
        assert runtime is not None
        adapter = runtime.adapters[CHANNEL]
        assert isinstance(adapter, Rcs5gAdapter)
        return adapter

    def journal_mark(self) -> int:
        entries = self.stack.journal.entries()
        return int(entries[-1]["seq"]) if entries else 0

    def court_requests(self, path_end: str, since: int = 0) -> list[dict[str, Any]]:
        return [e for e in self.stack.journal.entries(since=since) if e["path"].split("?")[0].endswith(path_end)]


@contextlib.asynccontextmanager
async def rcs_world(*, state: str = "memory", settings: Mapping[str, Any] | None = None,
                    driver: Rcs5gDriver | None = None, env: Mapping[str, str] | None = None,
                    config_extra: Mapping[str, Any] | None = None) -> AsyncIterator[RcsWorld]:
    """``driver`` and ``env`` again: the same channel and secrets, e.g. for a restarted gateway."""
    driver = driver or Rcs5gDriver(CHANNEL)
    env = stack_env({**driver.env(), **(env or {})})
    sms = SmsStandIn(access_key=env["SMS_ACCESS_KEY"])
    port = free_port()
    maap_url = f"http://127.0.0.1:{port}/{CHANNEL}"
    channels = {CHANNEL: {**driver.channel_config(maap_url), **(settings or {})}}
    platform = Starlette(routes=[Mount(f"/{CHANNEL}", routes=driver.stand_in_routes())])
    async with serving(platform, port), serving(Starlette(routes=sms.routes())) as sms_url, \
            running_stack(state=state, channels=channels, env=env, sms_url=sms_url, court_events=True,
                          config_extra=config_extra,
                          extras={CHANNEL: {"retry_pauses_s": (0.05, 0.1, 0.2)}}) as stack, \
            httpx.AsyncClient(timeout=30) as client:
        driver.maap.gateway_url = stack.gateway_url
        yield RcsWorld(stack, driver.maap, sms, driver, client)


def in_words(code: ErrorCode, said: str) -> str:
    """An error as the chatbot writes it (CONTRACTS.md 4.7): the code's Chinese message, then what exactly."""
    return f"{GatewayError(code).message}\n{said}"


async def wait_for(condition: Callable[[], Any], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
