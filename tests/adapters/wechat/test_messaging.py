"""adapters.wechat.messaging: one shared access token for all instances, and subscribe/send with one refresh."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
import respx

from adapters.wechat.messaging import AccessTokens, SubscribeSender, cache_ttl
from adapters.wechat.upstream import UpstreamSettings
from gateway.errors import ErrorCode, GatewayError
from gateway.state.memory import MemoryState

API = "https://wx.test.invalid"
APP = UpstreamSettings("wx00000000000000a1", "app-secret", API, "https://realname.test.invalid", 2.0)
TOKEN_KEY = f"wx:at:{APP.app_id}"
LOCK_KEY = f"wx:at-lock:{APP.app_id}"
DATA = {"thing1": {"value": "（2026）粤0106民初22468号"}}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def token_answers(*tokens: str) -> list[httpx.Response]:
    return [httpx.Response(200, json={"access_token": t, "expires_in": 7200}) for t in tokens]


def test_tokens_are_dropped_five_minutes_early_or_at_half_life() -> None:
    assert cache_ttl(7200) == 6900
    assert cache_ttl(100) == 50


async def test_instances_sharing_the_state_store_fetch_one_token(http: httpx.AsyncClient) -> None:
    state = MemoryState()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{API}/cgi-bin/token").mock(side_effect=token_answers("T1", "T2"))
        first, second = AccessTokens(state, http, APP), AccessTokens(state, http, APP)
        tokens = await asyncio.gather(first.current(), second.current(), first.current())
    assert list(tokens) == ["T1", "T1", "T1"]
    assert route.call_count == 1
    request = route.calls[0].request
    assert dict(request.url.params) == {"grant_type": "client_credential", "appid": APP.app_id,
                                        "secret": "app-secret"}
    assert await state.get(LOCK_KEY) is None  # released after the fetch


async def test_an_instance_waits_for_the_lock_holder_instead_of_fetching(http: httpx.AsyncClient) -> None:
    state = MemoryState()
    await state.set(LOCK_KEY, b"another-instance", 10, only_if_absent=True)

    async def other_instance_finishes() -> None:
        await asyncio.sleep(0.15)
        await state.set(TOKEN_KEY, b"FROM-OTHER", 600)

    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(f"{API}/cgi-bin/token").mock(side_effect=token_answers("OWN"))
        finisher = asyncio.create_task(other_instance_finishes())
        token = await AccessTokens(state, http, APP).current()
        await finisher
    assert token == "FROM-OTHER"
    assert route.call_count == 0


async def test_refresh_replaces_only_the_stale_token(http: httpx.AsyncClient) -> None:
    state = MemoryState()
    await state.set(TOKEN_KEY, b"STALE", 600)
    with respx.mock() as mock:
        route = mock.get(f"{API}/cgi-bin/token").mock(side_effect=token_answers("NEW"))
        tokens = AccessTokens(state, http, APP)
        assert await tokens.refresh(stale="STALE") == "NEW"
        # Another instance already refreshed: its token is used, WeChat is not asked again.
        assert await tokens.refresh(stale="OLDER") == "NEW"
    assert route.call_count == 1
    assert await state.get(TOKEN_KEY) == b"NEW"


async def test_a_refused_token_fetch_is_service_unavailable(http: httpx.AsyncClient) -> None:
    with respx.mock() as mock:
        mock.get(f"{API}/cgi-bin/token").mock(return_value=httpx.Response(200, json={"errcode": 40125,
                                                                                     "errmsg": "invalid appsecret"}))
        with pytest.raises(GatewayError) as caught:
            await AccessTokens(MemoryState(), http, APP).current()
    assert caught.value.code is ErrorCode.SERVICE_UNAVAILABLE
    assert "40125" in caught.value.detail


async def test_send_refreshes_once_on_an_invalid_token_and_sends_again(http: httpx.AsyncClient) -> None:
    state = MemoryState()
    with respx.mock() as mock:
        fetch = mock.get(f"{API}/cgi-bin/token").mock(side_effect=token_answers("OLD", "NEW"))
        send = mock.post(f"{API}/cgi-bin/message/subscribe/send").mock(side_effect=[
            httpx.Response(200, json={"errcode": 40001, "errmsg": "invalid credential"}),
            httpx.Response(200, json={"errcode": 0, "errmsg": "ok", "msgid": 1}),
        ])
        sender = SubscribeSender(http, AccessTokens(state, http, APP), APP)
        assert await sender.send("oUser", "TPL-1", "pages/case/detail", DATA) is True
    assert fetch.call_count == 2
    assert [c.request.url.params["access_token"] for c in send.calls] == ["OLD", "NEW"]
    assert orjson.loads(send.calls[1].request.content) == {
        "touser": "oUser", "template_id": "TPL-1", "page": "pages/case/detail", "data": DATA,
        "miniprogram_state": "formal", "lang": "zh_CN"}


async def test_a_token_refused_twice_is_an_error_not_a_loop(http: httpx.AsyncClient) -> None:
    with respx.mock() as mock:
        mock.get(f"{API}/cgi-bin/token").mock(side_effect=token_answers("A", "B", "C"))
        send = mock.post(f"{API}/cgi-bin/message/subscribe/send").mock(
            return_value=httpx.Response(200, json={"errcode": 42001, "errmsg": "access_token expired"}))
        sender = SubscribeSender(http, AccessTokens(MemoryState(), http, APP), APP)
        with pytest.raises(GatewayError) as caught:
            await sender.send("oUser", "TPL-1", None, DATA)
    assert caught.value.code is ErrorCode.SERVICE_UNAVAILABLE
    assert send.call_count == 2


async def test_a_person_who_refused_the_subscription_is_unreachable(http: httpx.AsyncClient) -> None:
    with respx.mock() as mock:
        mock.get(f"{API}/cgi-bin/token").mock(side_effect=token_answers("T"))
        mock.post(f"{API}/cgi-bin/message/subscribe/send").mock(
            return_value=httpx.Response(200, json={"errcode": 43101, "errmsg": "user refuse to accept the msg"}))
        sender = SubscribeSender(http, AccessTokens(MemoryState(), http, APP), APP)
        assert await sender.send("oUser", "TPL-1", None, DATA) is False


async def test_wechat_unreachable_on_send_is_service_unavailable(http: httpx.AsyncClient) -> None:
    with respx.mock() as mock:
        mock.get(f"{API}/cgi-bin/token").mock(side_effect=token_answers("T"))
        mock.post(f"{API}/cgi-bin/message/subscribe/send").mock(side_effect=httpx.ConnectError("refused"))
        sender = SubscribeSender(http, AccessTokens(MemoryState(), http, APP), APP)
        with pytest.raises(GatewayError) as caught:
            await sender.send("oUser", "TPL-1", None, DATA)
    assert caught.value.code is ErrorCode.SERVICE_UNAVAILABLE
