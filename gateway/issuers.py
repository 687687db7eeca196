"""Bearer JWTs from trusted issuers, for canonical HTTP callers (CONTRACTS.md section 3).

The issuer's signature is checked against its JWKS (fetched with httpx, cached,
fetched again for an unknown ``kid`` at most once a minute), with algorithms
pinned per issuer; ``iss``, ``aud`` and ``exp`` are required. Court staff
tokens carry ``roles: ["court_staff"]`` and ``court``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from gateway.actor import Actor, Pseudonyms
from gateway.domain.id_numbers import normalise_id_number
from gateway.errors import ErrorCode, GatewayError

API_CHANNEL = "api"  # the channel name canonical callers are recorded under
_REFETCH_INTERVAL_S = 60
_CLOCK_SKEW_S = 30
_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    audience: str
    jwks_url: str
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    roles_claim: str = "roles"


class _JwksCache:
    def __init__(self, issuer: TrustedIssuer, http: httpx.AsyncClient) -> None:
        self._issuer = issuer
        self._http = http
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def keys(self, kid: str | None) -> KeySet:
        if self._keys is not None and (kid is None or _has_kid(self._keys, kid)):
            return self._keys
        async with self._lock:
            stale = time.monotonic() - self._fetched_at > _REFETCH_INTERVAL_S
            if self._keys is None or (stale and not _has_kid(self._keys, kid)):
                await self._fetch()
        if self._keys is None:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "issuer keys unavailable")
        return self._keys

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            answer = await self._http.get(self._issuer.jwks_url, timeout=5.0)
            answer.raise_for_status()
            self._keys = KeySet.import_key_set(answer.json())
        except (httpx.HTTPError, ValueError, JoseError):
            if self._keys is None:
                raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "issuer keys unavailable") from None


def _has_kid(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(k.kid == kid for k in keys.keys)


class IssuerVerifier:
    def __init__(self, issuers: list[TrustedIssuer], pseudonyms: Pseudonyms, http: httpx.AsyncClient) -> None:
        self._issuers = {i.issuer: i for i in issuers}
        self._jwks = {i.issuer: _JwksCache(i, http) for i in issuers}
        self._pseudonyms = pseudonyms
        # Verified tokens are kept until they expire: first-party apps send the same token on
        # every request, and an RS256 verification costs more than the rest of the request.
        self._verified: OrderedDict[str, tuple[Actor, float]] = OrderedDict()

    async def actor(self, token: str) -> Actor:
        cached = self._verified.get(token)
        if cached is not None:
            if cached[1] > time.time():
                return cached[0]
            del self._verified[token]
        actor, expires_at = await self._verify(token)
        self._verified[token] = (actor, expires_at)
        if len(self._verified) > _CACHE_SIZE:
            self._verified.popitem(last=False)
        return actor

    async def _verify(self, token: str) -> tuple[Actor, float]:
        issuer, header = self._peek(token)
        keys = await self._jwks[issuer.issuer].keys(header.get("kid"))
        try:
            decoded = jwt.decode(token, keys, algorithms=list(issuer.algorithms))
        except (JoseError, ValueError):
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "token signature not valid") from None
        claims = decoded.claims
        self._check_claims(issuer, claims)
        return self._to_actor(issuer, claims), float(claims["exp"]) + _CLOCK_SKEW_S

    def _peek(self, token: str) -> tuple[TrustedIssuer, dict[str, Any]]:
        """Read (unverified) which issuer and key a token names, to pick the keys to verify with."""
        try:
            compact = extract_compact(token.encode())
            payload = orjson.loads(compact.payload)
        except (JoseError, ValueError, TypeError):
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "malformed token") from None
        header = dict(compact.protected)
        issuer = self._issuers.get(str(payload.get("iss"))) if isinstance(payload, dict) else None
        if issuer is None:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "token from an untrusted issuer")
        if header.get("alg") not in issuer.algorithms:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "token algorithm not allowed")
        return issuer, header

    @staticmethod
    def _check_claims(issuer: TrustedIssuer, claims: dict[str, Any]) -> None:
        now = time.time()
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if claims.get("iss") != issuer.issuer or issuer.audience not in audiences:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "token issuer or audience not accepted")
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)):
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "token without expiry")
        if exp + _CLOCK_SKEW_S < now:
            raise GatewayError(ErrorCode.SESSION_EXPIRED, "token expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, (int, float)) and nbf - _CLOCK_SKEW_S > now:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "token not yet valid")

    def _to_actor(self, issuer: TrustedIssuer, claims: dict[str, Any]) -> Actor:
        staff_court = str(claims["court"]) if STAFF_ROLE in _roles(claims.get(issuer.roles_claim)) \
            and claims.get("court") else None
        acr = str(claims.get("acr", "L1"))
        if acr not in ("L1", "L2", "L3"):
            acr = "L1"
        id_number = claims.get("id_number")
        id_type = str(claims.get("id_type") or "ID_CARD")
        if isinstance(id_number, str) and id_number and claims.get("name"):
            number = normalise_id_number(id_number)
            return Actor(sub=self._pseudonyms.person(id_type, number), assurance=acr, channel=API_CHANNEL,
                         name=str(claims["name"]), id_type=id_type, id_number=number, staff_court=staff_court)
        # Without a verified identity the caller is known only by its account at the issuer.
        account = f"{issuer.issuer}#{claims.get('sub', '')}"
        return Actor(sub=self._pseudonyms.account(API_CHANNEL, account), assurance="L1", channel=API_CHANNEL,
                     staff_court=staff_court)


STAFF_ROLE = "court_staff"


def _roles(claim: object) -> frozenset[str]:
    """The roles a claim names, each matched exactly: a list of strings, or one space-separated
    string (as some identity providers send scopes). ``"not_court_staff_member"`` is not
    ``court_staff`` (issue 14, finding 6: a substring test let it pass)."""
    if isinstance(claim, str):
        return frozenset(claim.split())
    if isinstance(claim, (list, tuple)):
        return frozenset(role for role in claim if isinstance(role, str))
    return frozenset()
