"""Every installed adapter has a test driver: the parity and contract suites must not skip one silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.channels import discover_adapters
from tests import drivers
from tests.support.distributions import write_distribution


def test_every_installed_adapter_has_a_driver() -> None:
    assert drivers.adapters_without_driver() == []
    assert {d.adapter for d in drivers.installed_drivers()} == set(discover_adapters())


def test_the_kiosk_adapter_brings_a_driver_per_profile() -> None:
    assert [(d.channel, d.adapter) for d in drivers.drivers_of("kiosk")] == [("efating", "kiosk"),
                                                                            ("yuezhizhu", "kiosk")]


def test_an_adapter_without_a_driver_is_an_error_not_a_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An outside package registers an adapter (any loadable object will do) and no driver."""
    write_distribution(tmp_path, "telegraph-adapter",
                       {"court_gateway.adapters": {"telegraph": "adapters.kiosk:ADAPTER"}})
    monkeypatch.syspath_prepend(str(tmp_path))
    assert drivers.adapters_without_driver() == ["telegraph"]
    with pytest.raises(drivers.MissingDriver, match="telegraph"):
        drivers.installed_drivers()
    with pytest.raises(drivers.MissingDriver, match="telegraph"):
        drivers.drivers_of("telegraph")
