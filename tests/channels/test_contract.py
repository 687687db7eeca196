"""The table-driven contract every channel keeps, whatever its wire format.

For each installed channel (every driver of the entry point group
``court_gateway.adapter_drivers``), each failure of the table of
``workbench.conformance.error_cases`` comes back in the channel's own format,
with the stable code and the HTTP status the channel's contract gives it, never
a 500: the error checks of ``court-gateway verify-adapter``. Signature, replay
and session details are channel-specific and tested in each adapter's own tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from reference_court.seed import DEMO_PEOPLE
from tests.channels.conformance import ERRORS, pairs, run_check
from tests.drivers import installed_drivers
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack
from workbench.conformance import Check, conformance_overrides
from workbench.drivers import ChannelDriver, Person

DRIVERS = installed_drivers()
# Every channel may offer everything but hearings.join (as verify-adapter configures it); the
# per-person limit is small so that the rate-limit test can reach it.
OVERRIDES = {**conformance_overrides(), "rate_limits": {"per_actor": "12/minute", "per_channel": "2000/second"}}


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with channel_stack(DRIVERS, channel_overrides=OVERRIDES) as running:
        yield running


@pytest.mark.parametrize(("driver", "check"), pairs(DRIVERS, ERRORS))
async def test_failures_come_back_in_the_channels_format(stack: Stack, driver: ChannelDriver, check: Check) -> None:
    await run_check(stack, driver, check)


@pytest.mark.parametrize("driver", [d for d in DRIVERS if d.offers("courts.list")], ids=lambda d: d.channel)
async def test_the_per_person_rate_limit(stack: Stack, driver: ChannelDriver) -> None:
    person = Person(DEMO_PEOPLE["liuyang"].name, DEMO_PEOPLE["liuyang"].id_number, phone=DEMO_PEOPLE["liuyang"].phone)
    codes = []
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        session = await driver.sign_in(client, stack.gateway_url, person)
        for _ in range(14):
            answer = await driver.call(client, stack.gateway_url, session, "courts.list", {})
            codes.append(answer.code)
    assert codes[-1] == "RATE_LIMITED" and codes.count("RATE_LIMITED") <= 3
