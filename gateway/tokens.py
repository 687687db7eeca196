"""Tokens the gateway issues: channel session tokens (HS256) and actor tokens for courts (ES256).

Both are hot-path costs, so verified session tokens are cached until they
expire and an actor token is reused for most of its 60 s life
(ARCHITECTURE.md: this took a prototype from 349 to 272 µs per request).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OctKey

from gateway.actor import Actor
from gateway.errors import ErrorCode, GatewayError

ACTOR_TOKEN_ISSUER = "court-gateway"
ACTOR_TOKEN_LIFETIME_S = 60
_ACTOR_TOKEN_REUSE_S = 45  # reuse while at least 15 s of life remain


class _BoundedCache(OrderedDict[str, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size

    def put(self, key: str, value: Any) -> None:
        self[key] = value
        if len(self) > self._size:
            self.popitem(last=False)


@dataclass(frozen=True)
class SessionClaims:
    sid: str
    sub: str
    channel: str
    exp: int
    binding: str | None = None  # e.g. the kiosk device that opened the session


class SessionTokens:
    """Opaque-to-clients session tokens; the person's data stays in the state store under ``sid``."""

    def __init__(self, secret: bytes, cache_size: int = 50_000) -> None:
        self._key = OctKey.import_key(secret)
        self._verified = _BoundedCache(cache_size)

    def issue(self, *, sid: str, sub: str, channel: str, ttl_s: int, binding: str | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"sid": sid, "sub": sub, "ch": channel, "iat": now, "exp": now + ttl_s,
                                  "typ": "session"}
        if binding is not None:
            claims["bnd"] = binding
        return jwt.encode({"alg": "HS256"}, claims, self._key, algorithms=["HS256"])

    def verify(self, token: str, channel: str, binding: str | None = None) -> SessionClaims:
        """UNAUTHENTICATED for malformed, tampered or foreign tokens (another channel, another
        binding); SESSION_EXPIRED after ``exp``."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            self._verified.put(token, claims)
        if claims.channel != channel or claims.binding != binding:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "session token of another channel or device")
        if claims.exp <= time.time():
            self._verified.pop(token, None)
            raise GatewayError(ErrorCode.SESSION_EXPIRED, "session expired")
        return claims

    def _decode(self, token: str) -> SessionClaims:
        if not token or len(token) > 4096:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "missing or oversized session token")
        try:
            decoded = jwt.decode(token, self._key, algorithms=["HS256"])
            c = decoded.claims
            binding = c.get("bnd")
            return SessionClaims(str(c["sid"]), str(c["sub"]), str(c["ch"]), int(c["exp"]),
                                 None if binding is None else str(binding))
        except (JoseError, KeyError, ValueError, TypeError):
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "malformed or tampered session token") from None


def load_ec_key(pem: bytes | str) -> ECKey:
    key = ECKey.import_key(pem if isinstance(pem, bytes) else pem.encode())
    return key


def generate_ec_pem() -> bytes:
    """A fresh P-256 key, for ``demo`` and tests."""
    from cryptography.hazmat.primitives import serialization

    private = ec.generate_private_key(ec.SECP256R1())
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class ActorTokenSigner:
    """Signs the actor tokens courts verify against ``/.well-known/jwks.json``."""

    def __init__(self, signing_pem: bytes | str, previous_pems: list[bytes | str] | None = None) -> None:
        self._key = load_ec_key(signing_pem)
        self._kid = self._key.thumbprint()
        self._previous = [load_ec_key(p) for p in previous_pems or []]
        self._cache = _BoundedCache(20_000)

    @property
    def kid(self) -> str:
        return self._kid

    def jwks(self) -> dict[str, Any]:
        """Public keys only; during a key change the previous keys are listed too."""
        keys = []
        for key in [self._key, *self._previous]:
            public = key.as_dict(private=False)
            public.update({"kid": key.thumbprint(), "use": "sig", "alg": "ES256"})
            keys.append(public)
        return {"keys": keys}

    def key_set(self) -> KeySet:
        return KeySet.import_key_set(self.jwks())  # type: ignore[arg-type]

    def token_for(self, actor: Actor | None, court: str) -> str:
        subject = actor.sub if actor else "anonymous"
        cache_key = f"{court}\n{subject}\n{actor.channel if actor else ''}\n{actor.assurance if actor else ''}"
        now = time.time()
        cached = self._cache.get(cache_key)
        if cached is not None and cached[1] > now:
            return str(cached[0])
        claims: dict[str, Any] = actor.court_claims() if actor else {"sub": "anonymous", "assurance": "none"}
        iat = int(now)
        claims.update({"iss": ACTOR_TOKEN_ISSUER, "aud": court, "iat": iat, "exp": iat + ACTOR_TOKEN_LIFETIME_S})
        token = jwt.encode({"alg": "ES256", "kid": self._kid}, claims, self._key, algorithms=["ES256"])
        self._cache.put(cache_key, (token, now + _ACTOR_TOKEN_REUSE_S))
        return token
