"""The carrier platform's API (MaaP): the access token, shared by every instance, and outbound messages.

    POST {maap_base}/oauth/token {"appId", "appKey"} -> {"accessToken", "expiresIn"}
    POST {maap_base}/messaging/v1/outbound/{chatbot_id}/requests (Bearer) {"outboundIMMessage": ...} -> 201

The token lives in the shared state store until shortly before it expires, so
instances do not each buy their own; a 401 on a send means the platform
retired it (or another instance replaced it): the token is fetched again, once,
unless the store already holds a newer one. Nothing here logs a token, a
number or a message text.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from adapters.rcs5g.protocol import parse_token, token_cache_ttl, token_request
from gateway import ErrorCode, GatewayError, StateStore, StateUnavailable


@dataclass(frozen=True)
class Platform:
    maap_base: str
    chatbot_id: str
    app_id: str
    app_key: str
    timeout_s: float


class SendRefused(Exception):
    """The platform refused the message for good (a 4xx other than 401): sending it again would not help."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the platform refused the message with HTTP {status}")
        self.status = status


def _unavailable(detail: str) -> GatewayError:
    return GatewayError(ErrorCode.SERVICE_UNAVAILABLE, detail, retry_after=30)


class MaapClient:
    def __init__(self, http: httpx.AsyncClient, state: StateStore, platform: Platform) -> None:
        self._http = http
        self._state = state
        self._platform = platform
        base = platform.maap_base.rstrip("/")
        self._token_url = f"{base}/oauth/token"
        self._send_url = f"{base}/messaging/v1/outbound/{quote(platform.chatbot_id, safe=':@.')}/requests"
        # One token per platform account, whichever channel entry (and instance) uses it.
        self._key = "rcs5g:token:" + hashlib.sha256(f"{base}\n{platform.app_id}".encode()).hexdigest()[:24]
        self._fetching = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        """Deliver one outbound message; GatewayError (retry later) or SendRefused (never)."""
        token = await self._token()
        status = await self._post(token, message)
        if status == 401:
            status = await self._post(await self._token(stale=token), message)
        if status in (200, 201, 202):
            return
        if status == 401 or status == 429 or status >= 500:
            raise _unavailable(f"the platform answered HTTP {status} to an outbound message")
        raise SendRefused(status)

    async def _post(self, token: str, message: dict[str, Any]) -> int:
        try:
            response = await self._http.post(self._send_url, json=message, timeout=self._platform.timeout_s,
                                             headers={"Authorization": f"Bearer {token}"}, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise _unavailable(f"the platform is unreachable ({type(exc).__name__})") from None
        return response.status_code

    async def _token(self, stale: str | None = None) -> str:
        cached = await self._cached()
        if cached is not None and cached != stale:
            return cached
        async with self._fetching:  # one fetch per instance at a time; the others use its result
            cached = await self._cached()
            if cached is not None and cached != stale:
                return cached
            return await self._fetch()

    async def _fetch(self) -> str:
        platform = self._platform
        try:
            response = await self._http.post(self._token_url, json=token_request(platform.app_id, platform.app_key),
                                             timeout=platform.timeout_s, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise _unavailable(f"the platform's token endpoint is unreachable ({type(exc).__name__})") from None
        token = parse_token(response.status_code, response.content)
        try:
            await self._state.set(self._key, token.token.encode(), token_cache_ttl(token.expires_in))
        except StateUnavailable:
            pass  # this instance still has a working token; the others fetch their own meanwhile
        return token.token

    async def _cached(self) -> str | None:
        try:
            raw = await self._state.get(self._key)
        except StateUnavailable:
            return None
        return raw.decode() if raw else None
