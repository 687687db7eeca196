"""No personal data in any log line through any channel: two people's full runs per channel, then
search what was printed (the privacy check of ``court-gateway verify-adapter``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.channels.conformance import PRIVACY, pairs, run_check
from tests.drivers import installed_drivers
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack
from workbench.conformance import Check
from workbench.drivers import ChannelDriver

DRIVERS = installed_drivers()


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with channel_stack(DRIVERS) as running:
        yield running


@pytest.mark.parametrize(("driver", "check"), pairs(DRIVERS, PRIVACY))
async def test_channel_runs_print_no_personal_data(stack: Stack, driver: ChannelDriver, check: Check) -> None:
    await run_check(stack, driver, check)
