"""Staff sign-in: OpenID Connect authorization code with PKCE (S256), through authlib's client.

The issuer is a ``trusted_issuers`` entry with ``authorization_endpoint``/``token_endpoint`` or a
``discovery_url``. The ID token that comes back is checked like every bearer token from that issuer
(signature by its JWKS, ``iss``, ``aud``, ``exp``: gateway/issuers.py), and its ``nonce`` must be
the one this sign-in sent.
"""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from gateway.config.models import TrustedIssuer
from gateway.console.session import PendingSignIn

with warnings.catch_warnings():
    # authlib 1.7+ warns on import that its httpx integration will move to "httpx2"; the client works
    # as documented, and the warning would greet every newcomer starting the demo.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

SCOPE = "openid profile"


class SignInFailed(Exception):
    """The identity provider did not give a usable ID token (the reason goes to the log, never a token)."""


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str


class OidcSignIn:
    def __init__(self, issuer: TrustedIssuer, http: httpx.AsyncClient) -> None:
        self.issuer = issuer
        self._http = http
        self._discovered: Endpoints | None = None

    async def endpoints(self) -> Endpoints:
        issuer = self.issuer
        if issuer.authorization_endpoint and issuer.token_endpoint:
            return Endpoints(issuer.authorization_endpoint, issuer.token_endpoint)
        if self._discovered is None:
            assert issuer.discovery_url is not None  # offers_sign_in was checked when this was built
            try:
                answer = await self._http.get(issuer.discovery_url, timeout=5.0)
                answer.raise_for_status()
                document = answer.json()
                self._discovered = Endpoints(str(document["authorization_endpoint"]),
                                             str(document["token_endpoint"]))
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                raise SignInFailed(f"discovery document unusable: {type(exc).__name__}") from None
        return self._discovered

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        secret = self.issuer.client_secret_env.value if self.issuer.client_secret_env else None
        return AsyncOAuth2Client(client_id=self.issuer.client_id or self.issuer.audience, client_secret=secret,
                                 scope=SCOPE, redirect_uri=redirect_uri, code_challenge_method="S256",
                                 token_endpoint_auth_method="client_secret_basic" if secret else "none",
                                 timeout=10.0, follow_redirects=False)

    async def start(self, redirect_uri: str) -> tuple[str, PendingSignIn]:
        """The URL to send the browser to, and what the callback must find in the login cookie."""
        pending = PendingSignIn(secrets.token_urlsafe(24), secrets.token_urlsafe(48), secrets.token_urlsafe(24))
        endpoints = await self.endpoints()
        async with self._client(redirect_uri) as client:
            url, _state = client.create_authorization_url(endpoints.authorization, state=pending.state,
                                                          code_verifier=pending.code_verifier, nonce=pending.nonce)
        return str(url), pending

    async def finish(self, redirect_uri: str, code: str, pending: PendingSignIn) -> str:
        """Exchange the code (with the PKCE verifier) for tokens; returns the ID token, nonce checked."""
        endpoints = await self.endpoints()
        try:
            async with self._client(redirect_uri) as client:
                token: dict[str, Any] = dict(await client.fetch_token(endpoints.token, code=code,
                                                                      code_verifier=pending.code_verifier))
        except (OAuth2Error, httpx.HTTPError, ValueError) as exc:
            raise SignInFailed(f"token exchange failed: {type(exc).__name__}") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise SignInFailed("no id_token in the token answer")
        if unverified_claims(id_token).get("nonce") != pending.nonce:
            raise SignInFailed("id_token nonce does not match this sign-in")
        return id_token


def unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's claims without checking them: only for a token that is (or is then) verified."""
    try:
        claims = orjson.loads(extract_compact(token.encode()).payload)
    except (JoseError, ValueError, TypeError):
        return {}
    return claims if isinstance(claims, dict) else {}
