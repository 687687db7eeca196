"""Per-channel bench drivers: how to sign in once and build one ``cases.progress`` request.

Each entry adds its channel to the bench config and, once the gateway runs,
returns a request factory. Channels without an entry here are not measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHANNEL_BENCHES: dict[str, Any] = {}


def prepare(directory: Path, env: dict[str, str]) -> tuple[dict[str, Any], list[Any]]:
    """Channel config entries (and their env) for every registered bench driver."""
    channels: dict[str, Any] = {}
    prepared = []
    for driver in CHANNEL_BENCHES.values():
        entry, extra_env = driver.config(directory)
        channels.update(entry)
        env.update(extra_env)
        prepared.append(driver)
    return channels, prepared


async def targets(gateway: Any, prepared: list[Any]) -> list[Any]:
    return [await driver.target(gateway) for driver in prepared]
