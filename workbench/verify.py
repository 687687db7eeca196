"""``court-gateway verify-adapter NAME``: the conformance checks of CONTRACTS.md 4.6 for one installed adapter.

The adapter is found under ``court_gateway.adapters`` and its driver under
``court_gateway.adapter_drivers``; every channel profile the driver returns is checked on a
stack of real servers on loopback (workbench/stack.py), and a table says what passed.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from workbench.conformance import CheckResult, run_checks
from workbench.conformance.logs import captured_log
from workbench.drivers import DRIVER_GROUP, MissingDriver, drivers_of, installed_adapter_names

#: exit status of a run that could not start: unknown adapter, no driver
USAGE_ERROR = 2


def table(results: Sequence[CheckResult]) -> str:
    """One line per (channel, check): result, and for a failure or a skip, why."""
    channel_width = max([len("channel"), *(len(r.channel) for r in results)])
    check_width = max([len("check"), *(len(r.check) for r in results)])
    lines = [f"{'channel':<{channel_width}}  {'check':<{check_width}}  result"]
    for result in results:
        line = f"{result.channel:<{channel_width}}  {result.check:<{check_width}}  {result.outcome}"
        lines.append(f"{line}  {result.detail}" if result.detail else line)
    return "\n".join(lines)


def summary(results: Sequence[CheckResult]) -> str:
    counts = {outcome: sum(r.outcome == outcome for r in results) for outcome in ("PASS", "FAIL", "SKIP")}
    verdict = "FAILED" if counts["FAIL"] else "passed"
    return f"{verdict}: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped"


def verify_adapter(name: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if name not in installed_adapter_names():
        known = ", ".join(sorted(installed_adapter_names())) or "none"
        print(f"court-gateway verify-adapter: no adapter named {name!r} is installed "
              f"(entry point group court_gateway.adapters; installed: {known})", file=err)
        return USAGE_ERROR
    try:
        drivers = drivers_of(name)
    except MissingDriver as missing:
        print(f"court-gateway verify-adapter: {missing}. An adapter registers its test driver under "
              f"{DRIVER_GROUP} (see docs/adapters.md, \"The test driver\").", file=err)
        return USAGE_ERROR
    from gateway.logs import configure_logging

    configure_logging()  # the production log set-up: the privacy check reads what it prints
    channels = ", ".join(d.channel for d in drivers)
    print(f"verify-adapter {name}: channels {channels}", file=out, flush=True)
    # What the servers print would bury the table: it goes to a file, kept for reading a failure.
    with captured_log() as printed:
        results = asyncio.run(run_checks(drivers))
    log = Path(tempfile.mkstemp(prefix=f"verify-adapter-{name}-", suffix=".log")[1])
    log.write_text(printed(), encoding="utf-8")
    print(table(results), file=out)
    print(f"what the gateway, court and stand-ins printed: {log}", file=out)
    print(summary(results), file=out, flush=True)
    return 1 if any(r.outcome == "FAIL" for r in results) else 0
