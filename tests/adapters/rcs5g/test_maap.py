"""The platform client (adapters/rcs5g/maap.py) against the MaaP stand-in on loopback: one token for every
instance, fetched again once after a 401, and what a refusal means."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from adapters.rcs5g.maap import MaapClient, Platform, SendRefused
from adapters.rcs5g.protocol import Reply, outbound_message
from adapters.rcs5g.standins import CARRIERS, FakeMaap
from gateway import ErrorCode, GatewayError
from gateway.state.memory import MemoryState
from tests.support.stack import serving

CARRIER = CARRIERS[0]


def message(n: int) -> dict[str, object]:
    return outbound_message(Reply(f"第{n}条"), message_id=f"cg-{n}", to="tel:+8613800138000",
                            chatbot_id=CARRIER.chatbot_id)


def clients(http: httpx.AsyncClient, url: str, state: MemoryState, key: str = "app-key") -> list[MaapClient]:
    """Two gateway instances sharing one state store."""
    platform = Platform(url, CARRIER.chatbot_id, CARRIER.app_id, key, 5.0)
    return [MaapClient(http, state, platform), MaapClient(http, state, platform)]


async def test_every_instance_uses_one_token_and_one_refetch_after_a_401() -> None:
    maap = FakeMaap(CARRIER, "app-key", b"t" * 32)
    async with serving(Starlette(routes=maap.routes())) as url, httpx.AsyncClient() as http:
        first, second = clients(http, url, MemoryState())
        await first.send(message(1))
        await second.send(message(2))
        assert maap.token_fetches == 1
        await http.post(f"{url}/_stand_in/revoke")
        await first.send(message(3))  # 401, a new token, sent
        await second.send(message(4))  # the new token from the store: no fetch of its own
        assert maap.token_fetches == 2
    assert [m["messageId"] for m in maap.sent] == ["cg-1", "cg-2", "cg-3", "cg-4"]


async def test_a_down_platform_is_retryable_and_a_refusal_is_final() -> None:
    maap = FakeMaap(CARRIER, "app-key", b"t" * 32)
    async with serving(Starlette(routes=maap.routes())) as url, httpx.AsyncClient() as http:
        client = clients(http, url, MemoryState())[0]
        maap.fail_next[:] = [503]
        with pytest.raises(GatewayError) as caught:
            await client.send(message(1))
        assert caught.value.code is ErrorCode.SERVICE_UNAVAILABLE
        maap.fail_next[:] = [400]
        with pytest.raises(SendRefused):
            await client.send(message(2))
        await client.send(message(3))
    assert [m["messageId"] for m in maap.sent] == ["cg-3"]


async def test_a_refused_app_key_is_service_unavailable_and_never_shown() -> None:
    maap = FakeMaap(CARRIER, "app-key", b"t" * 32)
    async with serving(Starlette(routes=maap.routes())) as url, httpx.AsyncClient() as http:
        client = clients(http, url, MemoryState(), key="wrong-app-key")[0]
        with pytest.raises(GatewayError) as caught:
            await client.send(message(1))
    assert caught.value.code is ErrorCode.SERVICE_UNAVAILABLE and "wrong-app-key" not in str(caught.value)
    assert maap.sent == []


async def test_an_unreachable_platform_is_service_unavailable() -> None:
    async with httpx.AsyncClient() as http:
        client = clients(http, "http://127.0.0.1:9", MemoryState())[0]
        with pytest.raises(GatewayError) as caught:
            await client.send(message(1))
    assert caught.value.code is ErrorCode.SERVICE_UNAVAILABLE
