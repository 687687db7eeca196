"""One stack with every channel for the security suite (memory state: the attacks are on the gateway's
request handling; the Redis-backed paths are covered by the reliability and resilience suites)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.drivers import installed_drivers
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack
from workbench.drivers import ChannelDriver

DRIVERS: list[ChannelDriver] = installed_drivers()
#: adapters whose menus offer fixed operations and answer in words (the 12368 hotline, the 5G chatbot): the
#: table-driven checks leave them out; their own suites cover the same attacks (a case behind its password,
#: lockouts, arguments built by the adapter, per-person limits)
MENU_BOUND = ("ivr12368", "rcs5g")


def driver(channel: str) -> ChannelDriver:
    return next(d for d in DRIVERS if d.channel == channel)


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with channel_stack(DRIVERS) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as http:
        yield http
