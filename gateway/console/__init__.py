"""The web console for court staff and operators, the API reference page and the front page
(CONTRACTS.md section 9). ``console_routes`` is what gateway/app.py mounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from gateway.app import Runtime


def console_routes(runtime: Runtime) -> list[BaseRoute]:
    from gateway.console.pages import Console
    from gateway.console.public import public_routes

    return [*public_routes(), *Console(runtime).routes()]


__all__ = ["console_routes"]
