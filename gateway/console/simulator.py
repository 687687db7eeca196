"""``/console/simulator`` in ``demo``: each channel's terminal in the browser, driving the gateway over
that channel's real wire protocol (signed kiosk requests, the WeChat login and API, the 12368 JSON
dialect), so an operator sees what a citizen sees: screens, receipts, spoken prompts as text.

The gateway names no channel: each adapter brings its own panel (``DemoKit.simulator``), a
:class:`SimulatorPanel` that acts on a button press and describes what its terminal shows as a
:class:`PanelView`; this module renders every panel the same way. A new terminal (the 5G phone) is
one more panel in its adapter. Pages are server-rendered forms (they work without JavaScript and
with the keyboard), behind a console sign-in, with the session's CSRF token on every form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.console.render import page
from gateway.console.session import ConsoleSession, CookieSigner, csrf_ok
from gateway.errors import ErrorCode, GatewayError
from gateway.http_io import request_id_for

MAX_VISITORS = 200  # simulator states kept (demo only; the oldest go first)


@dataclass(frozen=True)
class Control:
    """One input of a panel's form."""

    name: str
    label: str
    kind: Literal["select", "text", "keypad"] = "text"
    options: Sequence[tuple[str, str]] = ()  # (value, label) for a select
    value: str = ""


@dataclass(frozen=True)
class Action:
    """A button of a panel: ``id`` is passed to :meth:`SimulatorPanel.act`."""

    id: str
    label: str


@dataclass
class PanelView:
    """What the terminal shows now."""

    screen_title: str
    screen_lines: list[str] = field(default_factory=list)
    printout: list[str] | None = None  # a printed receipt
    spoken: list[str] = field(default_factory=list)  # prompts a voice would speak, newest last
    controls: list[Control] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    wire: str = ""  # the last exchange on the wire (method, path, status), for the curious


class SimulatorPanel(Protocol):
    key: str  # unique among panels; used in URLs
    title: str

    def fresh(self) -> dict[str, Any]:
        """The state of a terminal nobody has used yet."""

    async def act(self, http: httpx.AsyncClient, state: dict[str, Any], action: str, form: Mapping[str, str]) -> None:
        """Do what the button ``action`` does, over the channel's wire protocol, updating ``state``."""

    def view(self, state: dict[str, Any]) -> PanelView:
        """What the terminal shows in ``state``."""


def not_found(request: Request) -> Response:
    from gateway.api import problem_response

    return problem_response(GatewayError(ErrorCode.NOT_FOUND, "no such route"), request_id_for(request))


class Simulator:
    def __init__(self, panels: Sequence[SimulatorPanel], gateway_url: str, cookies: CookieSigner) -> None:
        self.panels = {panel.key: panel for panel in panels}
        self._gateway_url = gateway_url
        self._cookies = cookies
        self._states: dict[str, dict[str, dict[str, Any]]] = {}

    def routes(self) -> list[BaseRoute]:
        return [Route("/console/simulator", self.show, methods=["GET"]),
                Route("/console/simulator/{panel}/{action}", self.press, methods=["POST"])]

    def _state(self, session: ConsoleSession) -> dict[str, dict[str, Any]]:
        key = session.csrf  # one simulator per console session
        if key not in self._states:
            if len(self._states) >= MAX_VISITORS:
                self._states.pop(next(iter(self._states)))
            self._states[key] = {name: panel.fresh() for name, panel in self.panels.items()}
        return self._states[key]

    async def show(self, request: Request) -> Response:
        session = self._cookies.session(request)
        if session is None:
            return not_found(request)
        states = self._state(session)
        views = [(panel, panel.view(states[name])) for name, panel in self.panels.items()]
        return page("simulator.html", session=session, court_names={}, views=views)

    async def press(self, request: Request) -> Response:
        session = self._cookies.session(request)
        panel = self.panels.get(request.path_params["panel"])
        if session is None or panel is None:
            return not_found(request)
        form = await request.form()
        if not csrf_ok(session, form.get("csrf")):
            return not_found(request)
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        async with httpx.AsyncClient(base_url=self._gateway_url, timeout=20.0) as http:
            await panel.act(http, self._state(session)[panel.key], request.path_params["action"], values)
        return RedirectResponse(f"/console/simulator#{panel.key}", status_code=303)


def simulator_routes(panels: Sequence[SimulatorPanel], gateway_url: str, gateway_secret: bytes) -> list[BaseRoute]:
    """The simulator's routes; the cookie signer only reads console sessions (the same key as the console)."""
    cookies = CookieSigner(gateway_secret, secure=False, ttl_s=3600)
    return Simulator(panels, gateway_url, cookies).routes()
