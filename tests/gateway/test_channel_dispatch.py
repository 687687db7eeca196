"""Runtime.app_for: a channel's requests go straight to that channel's own app, answered exactly as
the whole app answers them (found, not found, method not allowed), and nothing else goes there."""

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
    """Per channel: an unknown path, the bare prefix, and each route's path with a method it refuses."""
    assert stack.host.runtime is not None
    probes: list[tuple[str, str]] = []
    for name, adapter in stack.host.runtime.adapters.items():
        prefix = f"/channels/{name}"
        probes += [("GET", f"{prefix}/no-such-route"), ("GET", prefix), ("GET", prefix + "/")]
        for route in adapter.routes():
            if isinstance(route, Route) and "{" not in route.path and route.methods and "DELETE" not in route.methods:
                probes.append(("DELETE", prefix + route.path))
    return probes


async def test_channel_requests_are_answered_as_the_whole_app_answers_them(stack: Stack) -> None:
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
    for path in (f"/channels/{name}", "/channels/no-such-channel/x", "/api/v1/openapi.json", "/healthz",
                 f"/console/channels/{name}/x"):
        assert runtime.app_for(path) is runtime.app, path
