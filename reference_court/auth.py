"""Actor tokens from the gateway (CONTRACTS.md section 5).

The gateway signs a short-lived JWT (ES256, ``iss`` ``court-gateway``, ``aud``
the court code, ``exp`` at most 60 s ahead) for every call. We verify it
against the gateway's JWKS: a fixed key set, an async provider, or
``{gateway_url}/.well-known/jwks.json``, cached and fetched again when a token
names a ``kid`` we do not know (the gateway lists both keys during a key
change, so a fresh ``kid`` means a fresh JWKS).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from reference_court.problems import CourtError, unauthenticated

ISSUER = "court-gateway"
ALGORITHMS = ["ES256"]  # pinned: never taken from the token header
MAX_LIFETIME_S = 60
LEEWAY_S = 5
MAX_TOKEN_BYTES = 8192
ASSURANCE_LEVELS = frozenset({"none", "L1", "L2", "L3"})

JwksDocument = dict[str, Any]
JwksFetcher = Callable[[], Awaitable[JwksDocument]]


@dataclass(frozen=True)
class Actor:
    """Who the gateway says is asking; ``id_number`` is upper-cased for comparisons."""

    sub: str
    name: str | None
    id_type: str | None
    id_number: str | None
    assurance: str
    channel: str | None
    claims: dict[str, Any]

    @property
    def identity(self) -> tuple[str, str] | None:
        if self.id_type and self.id_number:
            return self.id_type, self.id_number
        return None

    def is_person(self, id_type: str, id_number: str) -> bool:
        return self.identity == (id_type, id_number.upper())


def import_jwks(document: JwksDocument) -> KeySet:
    """A key set from a JWKS document; an empty ``keys`` list is an empty set (every token refused)."""
    if not document.get("keys"):
        return KeySet([])
    return KeySet.import_key_set(document)  # type: ignore[arg-type]


class JwksSource:
    """The gateway's public keys, fixed or fetched (and re-fetched on an unknown ``kid``)."""

    #: a fetched key set is fetched again after this long even without an unknown kid
    MAX_AGE_S = 300.0
    #: an unknown kid triggers at most one fetch per this many seconds (a flood of junk kids
    #: must not turn into a flood of JWKS requests)
    MISS_INTERVAL_S = 10.0

    def __init__(self, fetch: JwksFetcher | None = None, static: JwksDocument | None = None) -> None:
        self._fetch = fetch
        self._keys = import_jwks(static) if static is not None else None
        self._fetched_at = 0.0
        self._misses: OrderedDict[str, float] = OrderedDict()
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def keys(self) -> KeySet:
        stale = time.monotonic() - self._fetched_at > self.MAX_AGE_S
        if self._keys is None or (self._fetch is not None and stale):
            return await self._refresh()
        return self._keys

    async def refresh_for_unknown(self, kid: str) -> KeySet | None:
        """A new key set if this kid may justify a fetch now, else ``None``."""
        if self._fetch is None:
            return None
        last = self._misses.get(kid)
        if last is not None and time.monotonic() - last < self.MISS_INTERVAL_S:
            return None
        self._misses[kid] = time.monotonic()
        while len(self._misses) > 1024:
            self._misses.popitem(last=False)
        return await self._refresh()

    def _loop_lock(self) -> asyncio.Lock:
        # One lock per event loop: the same app may be served again on a new loop (a test server
        # restarted), and an asyncio.Lock is bound to the loop it first waited on.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]

    async def _refresh(self) -> KeySet:
        if self._fetch is None:
            raise CourtError(503, "SERVICE_UNAVAILABLE", "no key set configured for actor tokens")
        async with self._loop_lock():
            try:
                document = await self._fetch()
                self._keys = import_jwks(document)
            except Exception as exc:  # any failure to get keys means we cannot authenticate anyone
                if self._keys is not None:
                    return self._keys
                raise CourtError(503, "SERVICE_UNAVAILABLE", "the gateway's key set is unavailable") from exc
            self._fetched_at = time.monotonic()
            return self._keys


def _header_kid(token: str) -> str:
    try:
        segment = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:
        return ""
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else ""


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise unauthenticated("an actor token is required (Authorization: Bearer ...)")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthenticated("the Authorization header must be 'Bearer <actor token>'")
    if len(token) > MAX_TOKEN_BYTES:
        raise unauthenticated("the actor token is too long")
    return token


def _optional_str(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise unauthenticated(f"claim '{name}' must be a string")
    return value


def actor_from_claims(claims: dict[str, Any]) -> Actor:
    sub = claims.get("sub")
    assurance = claims.get("assurance")
    if not isinstance(sub, str) or not sub:
        raise unauthenticated("claim 'sub' is missing")
    if assurance not in ASSURANCE_LEVELS:
        raise unauthenticated("claim 'assurance' must be none, L1, L2 or L3")
    id_number = _optional_str(claims, "id_number")
    return Actor(
        sub=sub,
        name=_optional_str(claims, "name"),
        id_type=_optional_str(claims, "id_type"),
        id_number=id_number.strip().upper() if id_number else None,
        assurance=str(assurance),
        channel=_optional_str(claims, "channel"),
        claims=dict(claims),
    )


class TokenVerifier:
    """Checks actor tokens for one court (its code is the audience)."""

    CACHE_SIZE = 4096

    def __init__(self, source: JwksSource, audience: str) -> None:
        self._source = source
        self._audience = audience
        # The gateway reuses an actor token for most of its life; verifying ES256 once per
        # token instead of once per request keeps the reference court cheap as a bench upstream.
        self._cache: OrderedDict[str, tuple[Actor, float]] = OrderedDict()

    async def verify(self, authorization: str | None) -> Actor:
        token = _bearer(authorization)
        cached = self._cache.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        claims = await self._decode(token)
        self._check_claims(claims)
        actor = actor_from_claims(claims)
        self._remember(token, actor, float(claims["exp"]))
        return actor

    async def _decode(self, token: str) -> dict[str, Any]:
        keys = await self._source.keys()
        try:
            return jwt.decode(token, keys, algorithms=ALGORITHMS).claims
        except InvalidKeyIdError:
            fresh = await self._source.refresh_for_unknown(_header_kid(token))
            if fresh is None:
                raise unauthenticated("the actor token's key is unknown") from None
            return self._decode_with(token, fresh)
        except (JoseError, ValueError, TypeError):
            raise unauthenticated("the actor token is malformed or its signature is invalid") from None

    @staticmethod
    def _decode_with(token: str, keys: KeySet) -> dict[str, Any]:
        try:
            return jwt.decode(token, keys, algorithms=ALGORITHMS).claims
        except (JoseError, ValueError, TypeError):
            raise unauthenticated("the actor token is malformed or its signature is invalid") from None

    def _check_claims(self, claims: dict[str, Any]) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(time.time()),
            leeway=LEEWAY_S,
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": self._audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise unauthenticated(f"the actor token was refused ({exc.error})") from None
        self._check_lifetime(claims)

    @staticmethod
    def _check_lifetime(claims: dict[str, Any]) -> None:
        # The contract caps actor tokens at 60 s: a longer-lived token was not made by a gateway
        # that follows it, and accepting it would widen the window of a stolen token.
        exp = float(claims["exp"])
        iat = claims.get("iat")
        issued = float(iat) if isinstance(iat, (int, float)) and not isinstance(iat, bool) else time.time()
        if exp - issued > MAX_LIFETIME_S + LEEWAY_S or exp - time.time() > MAX_LIFETIME_S + LEEWAY_S:
            raise unauthenticated("the actor token lives longer than 60 s")

    def _remember(self, token: str, actor: Actor, exp: float) -> None:
        self._cache[token] = (actor, exp)
        while len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
