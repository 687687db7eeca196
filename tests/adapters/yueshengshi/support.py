"""A running stack with 粤省事 channels whose identity-platform stand-ins are real HTTP servers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.applications import Starlette

from adapters.yueshengshi import ADAPTER
from adapters.yueshengshi.driver import YueshengshiDriver
from tests.support.stack import Stack, running_stack, serving

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


class FakeClock:
    """A clock tests move by hand (wall or monotonic)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def yss_stack(drivers: list[YueshengshiDriver], *, state: str = "memory",
                    channels: Mapping[str, dict[str, Any]] | None = None, env: Mapping[str, str] | None = None,
                    extras: dict[str, dict[str, Any]] | None = None) -> AsyncIterator[Stack]:
    """Each driver's IdP served on its own port, every channel in one gateway."""
    async with contextlib.AsyncExitStack() as exits:
        all_channels = dict(channels or {})
        all_env = dict(env or {})
        for driver in drivers:
            idp_url = await exits.enter_async_context(serving(Starlette(routes=driver.stand_in_routes())))
            all_channels[driver.channel] = driver.channel_config(idp_url)
            all_env.update(driver.env())
        stack = await exits.enter_async_context(running_stack(
            state=state, channels=all_channels, env=all_env, adapters={"yueshengshi": ADAPTER},
            extras=extras or {}))
        yield stack
