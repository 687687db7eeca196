"""Channel parity: the same citizen doing the same thing on every channel gets the same result,
the court receives the same canonical request every time, and writes are idempotent by the
channel's key.

Runs the parity and idempotency checks of ``verify-adapter`` (workbench/conformance/checks.py)
over every installed driver (entry point group ``court_gateway.adapter_drivers``). A channel
whose terminals cannot make a check's calls (the hotline's menu) skips that check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.channels.conformance import ERRORS, PARITY, PRIVACY, pairs, run_check
from tests.drivers import installed_drivers
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack
from workbench.conformance import CHECKS, Check
from workbench.drivers import ChannelDriver

DRIVERS = installed_drivers()


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with channel_stack(DRIVERS) as running:
        yield running


def test_the_channel_suites_run_every_check_of_verify_adapter() -> None:
    assert sorted(c.name for c in PARITY + ERRORS + PRIVACY) == sorted(c.name for c in CHECKS)


@pytest.mark.parametrize(("driver", "check"), pairs(DRIVERS, PARITY))
async def test_parity(stack: Stack, driver: ChannelDriver, check: Check) -> None:
    await run_check(stack, driver, check)
