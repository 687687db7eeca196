"""The shortest way to the routes that answer a request, with the same answer as the whole app.

Starlette matches a request against every public route in turn, then through
each mount: for a channel request that is a dozen routes and two mounts, about
20 µs (README, "Speed"). A request under ``/channels/NAME/`` or ``/api/v1/`` is
instead handed to an app holding only the routes that can match it, in their
order, with the same exception handlers, so found, 404 and 405 come out as the
whole app gives them. That holds only while no other public route can match
under those prefixes (a route whose first segment is a parameter could, or a
mount above them): if one exists, that prefix's short way is not taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp

API_PREFIX = "/api/v1"
CHANNELS_PREFIX = "/channels/"


def _may_match_under(route: BaseRoute, prefix: str, *, own_is_exact: bool) -> bool:
    """Whether ``route``, not one of the routes the short way holds, could match a path below ``prefix``.

    The short way holds every route whose path starts with ``prefix``, or (``own_is_exact``) only
    the one whose path is ``prefix`` itself (the /channels mount, whose channels it splits up).
    """
    path = getattr(route, "path", None)
    if path is None:
        return True  # a Host or a custom route: cannot tell, so assume it could
    if path == prefix or (path.startswith(prefix) and not own_is_exact):
        return False  # held by the short way
    if path.startswith(prefix):
        return True
    first = path.split("/")[1] if path.count("/") else path
    if path == "" or "{" in first:
        return True
    return isinstance(route, Mount) and (prefix + "/").startswith(path + "/")  # a mount above the prefix


class ShortWays:
    """``app_for(path)``: a channel's own app, the API's own app, or the whole app."""

    def __init__(self, whole: Starlette, channel_routes: Mapping[str, list[BaseRoute]],
                 handlers: Mapping[Any, Any]) -> None:
        self.whole = whole
        public = whole.routes
        self._channels: dict[str, Starlette] = {}
        if not any(_may_match_under(route, CHANNELS_PREFIX.rstrip("/"), own_is_exact=True) for route in public):
            self._channels = {name: Starlette(routes=[Mount(f"{CHANNELS_PREFIX}{name}", routes=routes)],
                                              exception_handlers=dict(handlers))
                              for name, routes in channel_routes.items()}
        self._api: Starlette | None = None
        if not any(_may_match_under(route, API_PREFIX, own_is_exact=False) for route in public):
            api_routes = [route for route in public if getattr(route, "path", "").startswith(API_PREFIX)]
            self._api = Starlette(routes=api_routes, exception_handlers=dict(handlers))

    def app_for(self, path: str) -> ASGIApp:
        if path.startswith(CHANNELS_PREFIX):
            name, slash, _ = path[len(CHANNELS_PREFIX):].partition("/")
            channel = self._channels.get(name) if slash else None
            if channel is not None:
                return channel
        elif path.startswith(API_PREFIX + "/") and self._api is not None:
            return self._api
        return self.whole
