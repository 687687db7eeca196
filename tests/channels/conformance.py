"""The shared channel suites run the conformance checks of ``court-gateway verify-adapter``
(workbench/conformance/) over every installed driver, one test per (channel, check)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest

from workbench.conformance import CHECKS, Check, Probe
from workbench.drivers import CannotExpress, ChannelDriver
from workbench.stack import Stack

#: which suite runs which checks (together: every check verify-adapter runs)
PARITY = [check for check in CHECKS if check.name.startswith(("parity", "idempotency"))]
ERRORS = [check for check in CHECKS if check.name.startswith("error")]
PRIVACY = [check for check in CHECKS if check.name == "no personal data in logs"]


def pairs(drivers: Sequence[ChannelDriver], checks: Sequence[Check]) -> list[object]:
    """(driver, check) for every check a driver's channel can express, named ``channel-check``."""
    return [pytest.param(driver, check, id=f"{driver.channel}-{check.name}")
            for driver in drivers for check in checks if check.applies_to(driver)]


async def run_check(stack: Stack, driver: ChannelDriver, check: Check) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        try:
            await check.run(Probe(stack, driver, client))
        except CannotExpress as impossible:
            pytest.skip(f"{driver.channel}: {impossible}")
