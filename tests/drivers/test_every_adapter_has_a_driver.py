"""Every installed adapter has a test driver: the parity and contract suites must not skip one silently."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.channels import discover_adapters
from tests import drivers


def test_every_installed_adapter_has_a_driver() -> None:
    assert drivers.adapters_without_driver() == []
    assert {d.adapter for d in drivers.installed_drivers()} == set(discover_adapters())


@pytest.fixture
def one_more_adapter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An adapter registered as an outside package would be, with no driver written for it."""
    installed = discover_adapters()
    extra: dict[str, Any] = {**installed, "telegraph": next(iter(installed.values()))}
    monkeypatch.setattr(drivers, "discover_adapters", lambda: extra)
    yield


@pytest.mark.usefixtures("one_more_adapter")
def test_an_adapter_without_a_driver_is_an_error_not_a_skip() -> None:
    assert drivers.adapters_without_driver() == ["telegraph"]
    with pytest.raises(drivers.MissingDriver, match="telegraph"):
        drivers.installed_drivers()
