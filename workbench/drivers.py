"""The test driver interface: how a check signs a person in and calls one operation through a channel.

Every adapter brings one (entry point group ``court_gateway.adapter_drivers``); the shared channel
suites and ``court-gateway verify-adapter`` run over every installed driver.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.routing import BaseRoute


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
