"""One driver per channel: how a test signs a person in and calls an operation through it.

The shared contract and parity tests (tests/channels/) run over every driver
whose adapter is installed, so a new adapter with a driver here is covered
by them automatically.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.channels import discover_adapters
from workbench.drivers import ChannelDriver


def _factories() -> dict[str, list[Callable[[], ChannelDriver]]]:
    from adapters.rcs5g.driver import Rcs5gDriver
    from tests.drivers.ivr12368 import Ivr12368Driver
    from tests.drivers.kiosk import EfatingDriver, YuezhizhuDriver
    from tests.drivers.suihaoban import SuihaobanDriver
    from tests.drivers.wechat import WechatDriver
    from tests.drivers.yueshengshi import YueshengshiDriver

    return {
        "wechat": [WechatDriver],
        "yueshengshi": [YueshengshiDriver],
        "suihaoban": [SuihaobanDriver],
        "kiosk": [EfatingDriver, YuezhizhuDriver],
        "ivr12368": [Ivr12368Driver],
        "rcs5g": [Rcs5gDriver],
    }


class MissingDriver(LookupError):
    """An installed adapter has no test driver, so the shared suites would silently not cover it."""


def adapters_without_driver() -> list[str]:
    return sorted(set(discover_adapters()) - set(_factories()))


def installed_drivers(*, exclude: tuple[str, ...] = ()) -> list[ChannelDriver]:
    """A fresh driver for every channel whose adapter is registered (entry points).

    An installed adapter without a driver is an error, never a silent skip.
    """
    adapters = discover_adapters()
    if missing := adapters_without_driver():
        raise MissingDriver(f"installed adapters without a test driver in tests/drivers: {', '.join(missing)}")
    drivers = []
    for adapter, factories in _factories().items():
        if adapter in adapters and adapter not in exclude:
            drivers += [factory() for factory in factories]
    return drivers
