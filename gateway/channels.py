"""The extension point for channels: what an adapter is and what it gets.

An adapter knows one channel's wire protocol and nothing about courts. It is
a class with a ``name`` (= its folder under ``adapters/`` = the YAML
``adapter:`` value), a ``settings_model`` (its YAML keys), and four methods:

    authenticate(request)            -> Credential (Actor, SessionRef or None)
    decode(request, credential)      -> Decoded (operation, arguments, idempotency key)
    encode(outcome, request_id)      -> Response in the channel's envelope
    encode_error(error, request_id)  -> Response in the channel's error format

plus ``routes()`` for anything else the channel needs (login, sessions, IVR
steps). :meth:`Adapter.handle` runs the four methods around the gateway's one
pipeline; an adapter never catches a GatewayError itself, and nothing it
raises becomes a 500: unexpected exceptions are logged and rendered as
``INTERNAL`` in the channel's format.

Adapters are found through the entry point group ``court_gateway.adapters``
(the built-in ones are registered the same way in pyproject.toml), so a
package installed from elsewhere adds a terminal without touching the gateway.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.actor import Actor
from gateway.calls import Call, ChannelPolicy, Credential, Decoded, Outcome
from gateway.catalog import Operation
from gateway.config import ChannelSettings
from gateway.core import Gateway, operation_or_404
from gateway.errors import ErrorCode, GatewayError
from gateway.http_io import request_id_for, set_outcome_headers  # noqa: F401 (adapters use it)
from gateway.logs import get_logger

ENTRY_POINT_GROUP = "court_gateway.adapters"
_log = get_logger("court_gateway.channel")


@dataclass
class ChannelContext:
    """Everything an adapter instance may use: its own settings and the gateway."""

    name: str  # the channel's name in the config (mount point /channels/{name})
    settings: Any  # the adapter's settings model instance
    policy: ChannelPolicy
    gateway: Gateway
    extras: dict[str, Any] = field(default_factory=dict)  # test and demo hooks (fake clocks, URLs)


@dataclass
class DemoKit:
    """What an adapter brings to ``court-gateway demo``: channel entries, secrets, platform stand-ins."""

    channels: dict[str, dict[str, Any]]  # channel name -> its YAML mapping
    env: dict[str, str] = field(default_factory=dict)  # demo secrets its *_env keys name
    stand_in_routes: list[BaseRoute] = field(default_factory=list)  # mounted at /{adapter name} on the stand-ins
    notes: list[str] = field(default_factory=list)  # printed: sample logins, device keys, curl lines
    #: the channel's terminal in /console/simulator (a gateway.console.simulator.SimulatorPanel)
    simulator: Any = None


class Adapter(ABC):
    name: ClassVar[str]
    settings_model: ClassVar[type[ChannelSettings]]
    #: the name of the field or header that carries the idempotency key, for error messages
    idempotency_field: ClassVar[str] = "Idempotency-Key"

    def __init__(self, context: ChannelContext) -> None:
        self.context = context

    @property
    def gateway(self) -> Gateway:
        return self.context.gateway

    # --- the four methods ---------------------------------------------------------------------

    @abstractmethod
    async def authenticate(self, request: Request) -> Credential: ...

    @abstractmethod
    async def decode(self, request: Request, credential: Credential) -> Decoded: ...

    @abstractmethod
    def encode(self, outcome: Outcome, request_id: str) -> Response: ...

    @abstractmethod
    def encode_error(self, error: GatewayError, request_id: str) -> Response: ...

    # --- routes -------------------------------------------------------------------------------

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """Routes relative to the channel's mount point ``/channels/{name}``."""

    @classmethod
    def demo_kit(cls, stand_in_url: str) -> DemoKit | None:
        """Channels, secrets and platform stand-ins for ``demo``; ``stand_in_url`` is where the
        stand-in routes will be served."""
        return None

    async def notify(self, actor: Actor, event: str, data: dict[str, Any]) -> bool:
        """Tell a person something on this channel's own push service (a WeChat subscribe message).

        Returns False when the channel has no push service or cannot reach this person; the
        gateway then falls back to SMS when it has a phone number.
        """
        return False

    async def startup(self) -> None:
        """Open clients, warm caches; called once in the app's lifespan."""

    async def shutdown(self) -> None:
        """Close what startup opened."""

    # --- the standard flow --------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        """authenticate -> decode -> pipeline -> encode, errors in the channel's format."""
        return await self.guarded(request, self._run_operation)

    async def _run_operation(self, request: Request) -> Response:
        request_id = request_id_for(request)
        credential = await self.authenticate(request)
        decoded = await self.decode(request, credential)
        outcome = await self.run(decoded, credential, request_id)
        return self.encode(outcome, request_id)

    async def run(self, decoded: Decoded, credential: Credential, request_id: str, **extra: Any) -> Outcome:
        call = Call(
            operation=decoded.operation, channel=self.context.policy, credential=credential, args=decoded.args,
            request_id=request_id, idempotency_key=decoded.idempotency_key,
            idempotency_field=self.idempotency_field, **extra,
        )
        return await self.gateway.execute(call)

    async def guarded(self, request: Request, handler: Callable[[Request], Awaitable[Response]]) -> Response:
        """Run any handler so that every failure leaves in the channel's own format, never as a 500."""
        request_id = request_id_for(request)
        try:
            response = await handler(request)
        except GatewayError as exc:
            response = self.encode_error(exc, request_id)
            if exc.retry_after is not None:
                response.headers["Retry-After"] = str(exc.retry_after)
        except Exception:  # noqa: BLE001 - the boundary: log it, answer in the channel's format
            _log.exception("unhandled", request_id=request_id, channel=self.context.name)
            response = self.encode_error(GatewayError(ErrorCode.INTERNAL, "internal error"), request_id)
        response.headers["X-Request-Id"] = request_id
        return response

    def route(self, path: str, endpoint: Callable[[Request], Awaitable[Response]], methods: list[str]) -> Route:
        """A route whose errors are rendered by this adapter."""

        async def guarded_endpoint(request: Request) -> Response:
            return await self.guarded(request, endpoint)

        return Route(path, guarded_endpoint, methods=methods)

    @staticmethod
    def operation(op_id: str) -> Operation:
        return operation_or_404(op_id)


def discover_adapters() -> dict[str, type[Adapter]]:
    """Every adapter registered under ``court_gateway.adapters``; a broken one is a start-up error."""
    found: dict[str, type[Adapter]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        adapter = entry.load()
        if getattr(adapter, "name", None) != entry.name:
            raise RuntimeError(f"adapter entry point {entry.name!r} loads an adapter named "
                               f"{getattr(adapter, 'name', None)!r}")
        found[entry.name] = adapter
    return found
