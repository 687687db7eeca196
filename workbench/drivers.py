"""The test driver interface: how a check signs a person in and calls one operation through a channel.

Every adapter brings one (entry point group ``court_gateway.adapter_drivers``); the shared channel
suites and ``court-gateway verify-adapter`` run over every installed driver.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import httpx
from starlette.routing import BaseRoute

#: where adapters are registered (as gateway/channels.py discovers them) and where their drivers are
ADAPTER_GROUP = "court_gateway.adapters"
DRIVER_GROUP = "court_gateway.adapter_drivers"


class CannotExpress(ValueError):
    """Raised by ``ChannelDriver.call`` for a call the channel's terminals have no way to make (an
    operation its menu lacks, arguments its keypad cannot enter); a check that needs it is skipped."""


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    id_type: str = "ID_CARD"
    phone: str | None = None


@dataclass
class ChannelAnswer:
    """A channel's answer, decoded back into canonical terms by the driver."""

    http_status: int
    body: Any
    headers: httpx.Headers
    ok: bool
    code: str | None  # canonical error code name (VALIDATION_FAILED ...) when not ok
    data: Any = None  # the canonical result inside the envelope when ok


@dataclass
class Session:
    """Whatever the channel needs to act for a signed-in person (token, session id, user ticket)."""

    person: Person
    assurance: str
    values: dict[str, Any] = field(default_factory=dict)


class ChannelDriver(ABC):
    #: the channel's name in the test config (its mount point)
    channel: str
    #: the adapter it uses
    adapter: str
    #: the operations a person can reach on this channel (None: every operation of the catalog); a
    #: conformance check that needs another is skipped for this channel, not failed
    offered_operations: frozenset[str] | None = None
    #: whether a write key used again with other arguments is deduplicated (answered as the first write,
    #: flagged as a replay) rather than refused with IDEMPOTENCY_KEY_REUSED: a channel whose key is the
    #: platform's own message id, which its contract says is acknowledged and not processed again
    reused_key_is_deduplicated: bool = False

    def offers(self, operation: str) -> bool:
        return self.offered_operations is None or operation in self.offered_operations

    def error_http_status(self, code: str) -> int | None:
        """The HTTP status the channel's wire contract gives an error with this canonical code.

        None (the default) only requires what every channel owes: a caller's mistake is never a 5xx.
        """
        return None

    def expected_data(self, operation: str, args: dict[str, Any], result: Any) -> Any:
        """What ``ChannelAnswer.data`` must be when the canonical API answers ``result`` to the same call.

        The default is the canonical result unchanged (a channel that carries it in its envelope). A channel
        whose format has no place for it (a chatbot answering in words) returns what its adapter renders
        from ``result``: parity then means the same facts in the same words, rendered by the adapter's own
        code from the canonical result.
        """
        return result

    @abstractmethod
    def channel_config(self, stand_in_url: str) -> dict[str, Any]:
        """The channel's YAML mapping for a test stack (platform URLs point at ``stand_in_url``)."""

    def env(self) -> dict[str, str]:
        """Secrets the channel config names."""
        return {}

    def stand_in_routes(self) -> list[BaseRoute]:
        """Fake platform endpoints (login service, user center...) served at ``stand_in_url``."""
        return []

    @abstractmethod
    async def sign_in(self, client: httpx.AsyncClient, gateway_url: str, person: Person,
                      assurance: str = "L2") -> Session:
        """Sign the person in through the channel's own login flow."""

    @abstractmethod
    async def call(self, client: httpx.AsyncClient, gateway_url: str, session: Session | None, operation: str,
                   args: dict[str, Any], idempotency_key: str | None = None) -> ChannelAnswer:
        """Call one canonical operation through the channel, signed as the channel signs."""


# --- discovery (entry point group court_gateway.adapter_drivers) -------------------------------------


class MissingDriver(LookupError):
    """An installed adapter has no test driver, so the shared suites would silently not cover it."""


DriverFactory = Callable[[], list[ChannelDriver]]


def installed_adapter_names() -> set[str]:
    """Every adapter registered under ``court_gateway.adapters`` (by name: nothing is imported)."""
    return {entry.name for entry in metadata.entry_points(group=ADAPTER_GROUP)}


def driver_factories() -> dict[str, DriverFactory]:
    """adapter name -> its registered driver factory (a zero-argument callable returning drivers)."""
    return {entry.name: entry.load() for entry in metadata.entry_points(group=DRIVER_GROUP)}


def adapters_without_driver() -> list[str]:
    return sorted(installed_adapter_names() - {entry.name for entry in metadata.entry_points(group=DRIVER_GROUP)})


def drivers_of(adapter: str) -> list[ChannelDriver]:
    """Fresh drivers for one adapter's channel profiles; ``MissingDriver`` when it registered none."""
    factory = driver_factories().get(adapter)
    if factory is None:
        raise MissingDriver(f"adapter {adapter!r} registered no driver under {DRIVER_GROUP}")
    made = factory()
    if not made or any(not isinstance(d, ChannelDriver) or d.adapter != adapter for d in made):
        raise MissingDriver(f"the {DRIVER_GROUP} entry {adapter!r} must return ChannelDriver instances "
                            f"of adapter {adapter!r}")
    return made


def installed_drivers(*, exclude: tuple[str, ...] = ()) -> list[ChannelDriver]:
    """A fresh driver for every channel profile of every installed adapter, in adapter-name order.

    An installed adapter without a driver is an error, never a silent skip.
    """
    if missing := adapters_without_driver():
        raise MissingDriver(f"installed adapters without a test driver (entry point group {DRIVER_GROUP}): "
                            f"{', '.join(missing)}")
    return [driver for adapter in sorted(installed_adapter_names()) if adapter not in exclude
            for driver in drivers_of(adapter)]
