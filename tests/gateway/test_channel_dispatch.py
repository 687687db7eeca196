"""Runtime.app_for (gateway/dispatch.py): channel and API requests go straight to an app of the
routes that can answer them, answered exactly as the whole app answers them (found, not found,
method not allowed); nothing else goes there, and a route that could intrude closes the short way."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.routing import Route

from tests.drivers import installed_drivers
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with channel_stack(installed_drivers()) as running:
        yield running


def _probes(stack: Stack) -> list[tuple[str, str]]:
    """The API's routes found, missing, refused; per channel: an unknown path, the bare prefix, and
    each route's path with a method it refuses."""
    assert stack.host.runtime is not None
    probes: list[tuple[str, str]] = [("GET", "/api/v1/openapi.json"), ("DELETE", "/api/v1/openapi.json"),
                                     ("GET", "/api/v1/no-such-route"), ("GET", "/api/v1/admin/sla"),
                                     ("GET", "/api/v1/cases/x/progress")]
    for name, adapter in stack.host.runtime.adapters.items():
        prefix = f"/channels/{name}"
        probes += [("GET", f"{prefix}/no-such-route"), ("GET", prefix), ("GET", prefix + "/")]
        for route in adapter.routes():
            if isinstance(route, Route) and "{" not in route.path and route.methods and "DELETE" not in route.methods:
                probes.append(("DELETE", prefix + route.path))
    return probes


async def test_channel_and_api_requests_are_answered_as_the_whole_app_answers_them(stack: Stack) -> None:
    runtime = stack.host.runtime
    assert runtime is not None and runtime.adapters
    whole = httpx.AsyncClient(transport=httpx.ASGITransport(app=runtime.app), base_url="http://gateway")
    async with whole, httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as served:
        probes = _probes(stack)
        assert any(method == "DELETE" for method, _ in probes)
        for method, path in probes:
            expected = await whole.request(method, path)
            answer = await served.request(method, path)
            assert (answer.status_code, answer.headers.get("content-type")) == (
                expected.status_code, expected.headers.get("content-type")), (method, path)
            if expected.headers.get("content-type", "").endswith("json"):
                assert answer.json().get("code") == expected.json().get("code"), (method, path)


def test_only_paths_below_a_configured_channel_take_the_short_way(stack: Stack) -> None:
    runtime = stack.host.runtime
    assert runtime is not None
    name = next(iter(runtime.adapters))
    assert runtime.app_for(f"/channels/{name}/anything") is not runtime.app
    assert runtime.app_for(f"/channels/{name}/a") is runtime.app_for(f"/channels/{name}/b")
    assert runtime.app_for("/api/v1/openapi.json") is not runtime.app
    for path in (f"/channels/{name}", "/channels/no-such-channel/x", "/api/v1", "/api/v1x/y", "/healthz",
                 f"/console/channels/{name}/x"):
        assert runtime.app_for(path) is runtime.app, path


def test_a_route_that_could_match_under_a_prefix_closes_its_short_way() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount

    from gateway.dispatch import ShortWays

    async def endpoint(request: object) -> PlainTextResponse:
        return PlainTextResponse("x")

    own = [Mount("/api/v1", routes=[Route("/a", endpoint)]), Mount("/channels", routes=[Mount("/c", routes=[])])]
    assert ShortWays(Starlette(routes=own), {"c": []}, {}).app_for("/api/v1/a") is not None
    for intruder in (Route("/{anything}/v1/a", endpoint), Mount("/api", routes=[]), Mount("", routes=[])):
        whole = Starlette(routes=[intruder, *own])
        ways = ShortWays(whole, {"c": []}, {})
        assert ways.app_for("/api/v1/a") is whole, intruder
    clear = Starlette(routes=[Route("/api", endpoint), Route("/", endpoint), *own])
    ways = ShortWays(clear, {"c": []}, {})
    assert ways.app_for("/api/v1/a") is not clear and ways.app_for("/channels/c/x") is not clear
    crowded = Starlette(routes=[Mount("/channels/c/extra", routes=[]), *own])
    assert ShortWays(crowded, {"c": []}, {}).app_for("/channels/c/x") is crowded
