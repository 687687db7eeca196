"""A full stack with every installed channel: the gateway, the reference court, and each
channel's platform stand-ins, all real servers on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from tests.support.stack import Stack, free_port, running_stack, serving
from workbench.drivers import ChannelDriver


@contextlib.asynccontextmanager
async def channel_stack(drivers: Sequence[ChannelDriver], *, channel_overrides: dict[str, Any] | None = None,
                        **stack_options: Any) -> AsyncIterator[Stack]:
    """``channel_overrides`` are merged into every channel's mapping (services, rate_limits ...)."""
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
