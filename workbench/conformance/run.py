"""Run the checks against one or more channels on a stack of real servers on loopback."""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from workbench.conformance.checks import CHECKS, Check, CheckFailed, Probe
from workbench.drivers import CannotExpress, ChannelDriver
from workbench.stack import Stack, channel_stack


@dataclass(frozen=True)
class CheckResult:
    channel: str
    check: str
    outcome: str  # PASS, FAIL or SKIP
    detail: str = ""


def conformance_overrides() -> dict[str, Any]:
    """What every channel under check is configured with: every operation but hearings.join (so that
    "service not offered" can be reached), and limits no check will meet."""
    from gateway.catalog import BY_ID

    return {"services": [op for op in BY_ID if op != "hearings.join"],
            "rate_limits": {"per_actor": "1000/minute", "per_channel": "2000/second"}}


async def run_one(stack: Stack, driver: ChannelDriver, check: Check) -> CheckResult:
    if not check.applies_to(driver):
        missing = ", ".join(sorted(check.needs - (driver.offered_operations or frozenset())))
        return CheckResult(driver.channel, check.name, "SKIP", f"the channel offers no {missing}")
    async with httpx.AsyncClient(timeout=30) as client:
        try:
            await check.run(Probe(stack, driver, client))
        except CannotExpress as impossible:
            return CheckResult(driver.channel, check.name, "SKIP", str(impossible))
        except CheckFailed as failed:
            return CheckResult(driver.channel, check.name, "FAIL", str(failed))
        except Exception as error:  # noqa: BLE001 - a crash in the adapter or its driver is a failed check
            where = traceback.extract_tb(error.__traceback__)[-1]
            return CheckResult(driver.channel, check.name, "FAIL",
                               f"{type(error).__name__}: {str(error)[:200]} ({where.filename}:{where.lineno})")
    return CheckResult(driver.channel, check.name, "PASS")


async def run_checks(drivers: Sequence[ChannelDriver], checks: Sequence[Check] = CHECKS) -> list[CheckResult]:
    """Start the gateway (in-memory state), the reference court and the drivers' stand-ins, run every
    check for every driver in turn, and stop them."""
    results = []
    async with channel_stack(drivers, channel_overrides=conformance_overrides()) as stack:
        for driver in drivers:
            for check in checks:
                results.append(await run_one(stack, driver, check))
    return results
