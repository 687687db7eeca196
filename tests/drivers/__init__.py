"""The test drivers, found through the entry point group ``court_gateway.adapter_drivers``.

Every adapter registers its driver beside itself (the built-in ones in pyproject.toml,
``adapters/<name>/driver.py``; an outside package in its own), so the shared contract
and parity suites (tests/channels/) cover it with no change here. An installed adapter
without a driver is an error (``MissingDriver``), never a silent skip.
"""

from __future__ import annotations

from workbench.drivers import MissingDriver, adapters_without_driver, drivers_of, installed_drivers

__all__ = ["MissingDriver", "adapters_without_driver", "drivers_of", "installed_drivers"]
