"""The provincial identity platform, as the gateway talks to it: redeem a code, verify the id_token.

``POST {idp_base}/oauth2/token`` redeems the citizen's authorization code
(form, client_secret_post); the answer's ``id_token`` is an RS256 JWT checked
against ``{idp_base}/oauth2/jwks``. Keys are cached for ``jwks_cache_s`` and
fetched again when a token names a ``kid`` the cache does not hold, at most
once a minute, so forged key ids cannot make the gateway hammer the platform.

A plain form POST on the gateway's shared httpx client does the OAuth part:
authlib's ``AsyncOAuth2Client`` keeps the last token on the client object
(shared by every citizen logging in at once) and opens a pool of its own,
while what is needed is one stateless POST. joserfc does the JWT part, with
the algorithm pinned to RS256 (``alg: none`` and HS256 tokens never verify).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from adapters.yueshengshi import protocol
from gateway import ErrorCode, GatewayError

ALGORITHMS = ["RS256"]
REFETCH_INTERVAL_S = 60.0


@dataclass(frozen=True)
class IdpSettings:
    base: str
    client_id: str
    client_secret: str
    jwks_cache_s: float
    timeout_s: float

    @property
    def token_url(self) -> str:
        return self.base + "/oauth2/token"

    @property
    def jwks_url(self) -> str:
        return self.base + "/oauth2/jwks"


class JwksCache:
    """The platform's public keys: cached, refetched on expiry or (rate-limited) on an unknown kid."""

    def __init__(self, settings: IdpSettings, http: httpx.AsyncClient,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._http = http
        self._monotonic = monotonic
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()

    async def keys_for(self, kid: str | None) -> KeySet:
        keys = self._usable(kid)
        if keys is not None:
            return keys
        async with self._lock:  # one fetch at a time; the others use its result
            keys = self._usable(kid)
            if keys is None:
                keys = await self._refresh(kid)
        return keys

    def _fresh(self) -> bool:
        return self._monotonic() - self._fetched_at < self._settings.jwks_cache_s

    def _usable(self, kid: str | None) -> KeySet | None:
        if self._keys is not None and self._fresh() and _holds(self._keys, kid):
            return self._keys
        return None

    async def _refresh(self, kid: str | None) -> KeySet:
        now = self._monotonic()
        if self._keys is not None and self._fresh() and now - self._attempted_at < REFETCH_INTERVAL_S:
            # An unknown kid so soon after a fetch is not a rotation the platform has published.
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "id_token signed with an unknown key")
        self._attempted_at = now
        self._keys = await self._fetch()
        self._fetched_at = self._monotonic()
        if not _holds(self._keys, kid):
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "id_token signed with an unknown key")
        return self._keys

    async def _fetch(self) -> KeySet:
        try:
            answer = await self._http.get(self._settings.jwks_url, timeout=self._settings.timeout_s)
        except httpx.HTTPError:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "identity platform keys unreachable",
                               retry_after=5) from None
        if answer.status_code != 200:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, f"identity platform keys: HTTP {answer.status_code}",
                               retry_after=5)
        try:
            return KeySet.import_key_set(answer.json())
        except (ValueError, TypeError, KeyError, JoseError):
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "identity platform keys malformed") from None


def _holds(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(key.kid == kid for key in keys.keys)


class IdentityPlatform:
    def __init__(self, settings: IdpSettings, http: httpx.AsyncClient,
                 monotonic: Callable[[], float] = time.monotonic, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self.jwks = JwksCache(settings, http, monotonic)

    async def identity(self, code: str) -> protocol.Identity:
        """Redeem the code and return whom the verified id_token names."""
        id_token = await self._redeem(code)
        claims = await self._verify(id_token)
        return protocol.identity_of(claims)

    async def _redeem(self, code: str) -> str:
        s = self._settings
        form = protocol.token_request(code, s.client_id, s.client_secret)
        try:
            answer = await self._http.post(s.token_url, data=form, timeout=s.timeout_s,
                                           headers={"Accept": "application/json"})
        except httpx.HTTPError:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "identity platform unreachable", retry_after=5) from None
        try:
            body: Any = orjson.loads(answer.content)
        except orjson.JSONDecodeError:
            body = None
        return protocol.id_token_of(answer.status_code, body)

    async def _verify(self, id_token: str) -> dict[str, Any]:
        header = _header(id_token)
        if header.get("alg") not in ALGORITHMS:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "id_token algorithm not allowed")
        kid = header.get("kid")
        keys = await self.jwks.keys_for(kid if isinstance(kid, str) else None)
        try:
            claims = dict(jwt.decode(id_token, keys, algorithms=ALGORITHMS).claims)
        except (JoseError, ValueError, TypeError):
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "id_token signature not valid") from None
        protocol.check_id_token_claims(claims, issuer=self._settings.base, audience=self._settings.client_id,
                                       now=self._clock())
        return claims


def _header(token: str) -> dict[str, Any]:
    try:
        return dict(extract_compact(token.encode("ascii")).protected)
    except (JoseError, ValueError, TypeError, UnicodeEncodeError):
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "malformed id_token") from None
