"""A running stack with 穗好办 channels whose user-center stand-ins are real HTTP servers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.applications import Starlette

from adapters.suihaoban import ADAPTER
from adapters.suihaoban.driver import SuihaobanDriver
from tests.support.stack import Stack, running_stack, serving

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@contextlib.asynccontextmanager
async def shb_stack(drivers: list[SuihaobanDriver], *, state: str = "memory",
                    channels: Mapping[str, dict[str, Any]] | None = None,
                    env: Mapping[str, str] | None = None) -> AsyncIterator[Stack]:
    """Each driver's user center served on its own port, every channel in one gateway."""
    async with contextlib.AsyncExitStack() as exits:
        all_channels = dict(channels or {})
        all_env = dict(env or {})
        for driver in drivers:
            center_url = await exits.enter_async_context(serving(Starlette(routes=driver.stand_in_routes())))
            all_channels[driver.channel] = driver.channel_config(center_url)
            all_env.update(driver.env())
        stack = await exits.enter_async_context(running_stack(
            state=state, channels=all_channels, env=all_env, adapters={"suihaoban": ADAPTER}))
        yield stack
