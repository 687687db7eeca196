"""Subscribe messages (订阅消息): the app's access_token, shared by every instance, and the sender.

WeChat allows a limited number of ``cgi-bin/token`` calls a day and every
fetch starts to retire the previous token, so instances must not each fetch
their own. The token lives in the shared state store until shortly before its
``expires_in``; a short lock key lets one instance refresh while the others
wait for its result. When WeChat says a token is invalid (40001, 40014,
42001: revoked, or replaced by a fetch elsewhere), it is refreshed once and
the message sent again.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import httpx

from adapters.wechat import protocol
from adapters.wechat.protocol import AccessToken, SendOutcome, WeChatApiError
from adapters.wechat.upstream import UpstreamSettings
from gateway import ErrorCode, GatewayError, StateStore, StateUnavailable

REFRESH_EARLY_S = 300  # a cached token is dropped 5 minutes before WeChat expires it
_WAIT_STEP_S = 0.05
T = TypeVar("T")


def _unavailable(detail: str) -> GatewayError:
    return GatewayError(ErrorCode.SERVICE_UNAVAILABLE, detail, retry_after=30)


def cache_ttl(expires_in: int, early_s: int = REFRESH_EARLY_S) -> int:
    """How long a token may stay cached: until ``early_s`` before it expires (half its life if shorter)."""
    return max(1, expires_in - min(early_s, expires_in // 2))


class AccessTokens:
    """``cgi-bin/token`` with a cache and a refresh lock in the shared state store."""

    def __init__(self, state: StateStore, http: httpx.AsyncClient, app: UpstreamSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._state = state
        self._http = http
        self._app = app
        self._clock = clock
        self._key = f"wx:at:{app.app_id}"
        self._lock_key = f"wx:at-lock:{app.app_id}"
        # Longer than a fetch can take, so a lock is never released on behalf of a later holder.
        self._lock_ttl_s = 4 * app.timeout_s + 2

    async def current(self) -> str:
        cached = await self._cached()
        return cached if cached is not None else await self._renew(stale=None)

    async def refresh(self, stale: str) -> str:
        """A token other than ``stale``: another instance's fresh one, or a new fetch."""
        return await self._renew(stale)

    async def _renew(self, stale: str | None) -> str:
        owner = secrets.token_hex(8)
        deadline = self._clock() + self._lock_ttl_s + 1
        while self._clock() < deadline:
            if await self._claim(owner):
                try:
                    cached = await self._cached()
                    if cached is not None and cached != stale:
                        return cached
                    return await self._fetch_and_store()
                finally:
                    await self._release(owner)
            cached = await self._cached()
            if cached is not None and cached != stale:
                return cached
            await asyncio.sleep(_WAIT_STEP_S)
        # The holder vanished without storing a token and its lock has not expired yet: fetch anyway.
        return await self._fetch_and_store()

    async def _fetch_and_store(self) -> str:
        token = await self._fetch()
        await self._guard(self._state.set(self._key, token.token.encode(), cache_ttl(token.expires_in)))
        return token.token

    async def _fetch(self) -> AccessToken:
        app = self._app
        try:
            response = await self._http.get(f"{app.api_base}/cgi-bin/token",
                                            params=protocol.token_params(app.app_id, app.app_secret),
                                            timeout=app.timeout_s)
        except httpx.HTTPError as exc:
            raise _unavailable(f"WeChat cgi-bin/token unreachable ({type(exc).__name__})") from None
        try:
            return protocol.parse_access_token(response.status_code, response.content)
        except WeChatApiError as exc:
            raise _unavailable(exc.detail) from None

    async def _cached(self) -> str | None:
        raw = await self._guard(self._state.get(self._key))
        return raw.decode() if raw else None

    async def _claim(self, owner: str) -> bool:
        return await self._guard(self._state.set(self._lock_key, owner.encode(), self._lock_ttl_s,
                                                 only_if_absent=True))

    async def _release(self, owner: str) -> None:
        if await self._guard(self._state.get(self._lock_key)) == owner.encode():
            await self._guard(self._state.delete(self._lock_key))

    @staticmethod
    async def _guard(awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except StateUnavailable:
            raise _unavailable("state store unavailable: the shared access token cannot be used") from None


class SubscribeSender:
    """``subscribe/send``: one message to one openid, with one token refresh if WeChat asks for it."""

    def __init__(self, http: httpx.AsyncClient, tokens: AccessTokens, app: UpstreamSettings,
                 miniprogram_state: str = "formal") -> None:
        self._http = http
        self._tokens = tokens
        self._app = app
        self._miniprogram_state = miniprogram_state

    async def send(self, openid: str, template_id: str, page: str | None,
                   data: Mapping[str, Mapping[str, str]]) -> bool:
        """True when WeChat accepted the message; False when this person cannot be reached this way
        (43101: no subscription accepted or left for this template); GatewayError when WeChat fails."""
        body = protocol.subscribe_body(openid, template_id, page, data, self._miniprogram_state)
        token = await self._tokens.current()
        outcome = await self._post(token, body)
        if outcome is SendOutcome.TOKEN_INVALID:
            outcome = await self._post(await self._tokens.refresh(stale=token), body)
        if outcome is SendOutcome.TOKEN_INVALID:
            raise _unavailable("WeChat refused a freshly fetched access token")
        return outcome is SendOutcome.SENT

    async def _post(self, token: str, body: dict[str, object]) -> SendOutcome:
        try:
            response = await self._http.post(f"{self._app.api_base}/cgi-bin/message/subscribe/send",
                                              params={"access_token": token}, json=body,
                                              timeout=self._app.timeout_s)
        except httpx.HTTPError as exc:
            raise _unavailable(f"WeChat subscribe/send unreachable ({type(exc).__name__})") from None
        try:
            return protocol.parse_send_answer(response.status_code, response.content)
        except WeChatApiError as exc:
            raise _unavailable(exc.detail) from None
