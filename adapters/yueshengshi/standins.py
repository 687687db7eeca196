"""A stand-in for the provincial identity platform, for ``court-gateway demo`` and the tests.

It behaves like the real platform as far as the gateway can tell: a real RSA
key, a JWKS with ``kid``, an OAuth token endpoint that checks the client's
credentials and answers ``invalid_grant`` for codes it does not know, and
RS256 id_tokens whose issuer is the platform's base URL. Demo codes name the
demo people of ``demo_data.DEMO_PEOPLE``::

    yss-demo-zhangwei       张伟, real-name verified (L2)
    yss-demo-zhangwei-l3    张伟 after a live face check (L3)
    yss-demo-<key>[-l3]     the same for every demo person (wangfang, chenjing, ...)
    yss-demo-l1             a platform account with a phone only (L1)
    yss-bad                 refused (400 invalid_grant)

Demo codes may be redeemed any number of times, so a newcomer can sign in
again with the same line; codes registered with :meth:`ProvincialIdp.register`
(the tests' own people) behave the same. :meth:`ProvincialIdp.rotate` signs
with a new key (new ``kid``) from then on, as the platform does when it
rotates keys; the JWKS can be made slow or unavailable to test the gateway's
handling of an identity platform in trouble.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from demo_data import DEMO_CASES, DEMO_PEOPLE
from gateway import DemoKit

DEMO_APP_ID = "yss-gz-court"
DEMO_CLIENT_ID = "gz-court"
DEMO_L1_CODE = "yss-demo-l1"
DEMO_BAD_CODE = "yss-bad"
ID_TOKEN_TTL_S = 600


@dataclass(frozen=True)
class Grant:
    """What a code stands for: the claims of the id_token the platform will issue."""

    acr: str
    sub: str
    phone: str | None = None
    name: str | None = None
    id_number: str | None = None

    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": self.sub, "acr": self.acr}
        if self.phone:
            claims["phone_number"] = self.phone
        if self.name and self.id_number:
            claims.update(name=self.name, id_number=self.id_number)
        return claims


def _new_key() -> tuple[str, RSAKey]:
    key = RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return key.thumbprint(), key


def demo_grants() -> dict[str, Grant]:
    grants = {DEMO_L1_CODE: Grant("L1", "yss-account-l1-demo", phone="13600000001")}
    for key, person in DEMO_PEOPLE.items():
        sub = "yss-" + key
        grants[f"yss-demo-{key}"] = Grant("L2", sub, person.phone, person.name, person.id_number)
        grants[f"yss-demo-{key}-l3"] = Grant("L3", sub, person.phone, person.name, person.id_number)
    return grants


class ProvincialIdp:
    """The fake platform; ``issuer`` defaults to the base URL the token endpoint was called at."""

    def __init__(self, *, client_id: str = DEMO_CLIENT_ID, client_secret: str, issuer: str | None = None,
                 with_demo_codes: bool = True) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.issuer = issuer
        self.grants: dict[str, Grant] = demo_grants() if with_demo_codes else {}
        self.keys: list[tuple[str, RSAKey]] = [_new_key()]
        # Observations and faults for tests.
        self.token_calls = 0
        self.jwks_calls = 0
        self.jwks_delay_s = 0.0
        self.jwks_available = True

    @property
    def kid(self) -> str:
        return self.keys[-1][0]

    def rotate(self, keep_previous: bool = True) -> str:
        """Sign with a fresh key from now on; the JWKS lists the previous one too unless told not to."""
        fresh = _new_key()
        self.keys = [*self.keys, fresh] if keep_previous else [fresh]
        return fresh[0]

    def register(self, code: str, grant: Grant) -> None:
        self.grants[code] = grant

    def routes(self) -> list[BaseRoute]:
        return [Route("/oauth2/token", self._token, methods=["POST"]),
                Route("/oauth2/jwks", self._jwks, methods=["GET"])]

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self.keys:
            public = key.as_dict(private=False)
            public.update({"kid": kid, "alg": "RS256", "use": "sig"})
            keys.append(public)
        return {"keys": keys}

    def id_token(self, issuer: str, grant: Grant) -> str:
        kid, key = self.keys[-1]
        now = int(time.time())
        claims = {**grant.claims(), "iss": issuer, "aud": self.client_id, "iat": now, "exp": now + ID_TOKEN_TTL_S}
        return jwt.encode({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims, key, algorithms=["RS256"])

    async def _token(self, request: Request) -> Response:
        self.token_calls += 1
        form = await request.form()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return _oauth_error("invalid_client", "client authentication failed", 401)
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "only authorization_code", 400)
        grant = self.grants.get(str(form.get("code") or ""))
        if grant is None:
            return _oauth_error("invalid_grant", "authorization code unknown, used or expired", 400)
        issuer = self.issuer or str(request.url).split("?", 1)[0].removesuffix("/oauth2/token")
        return JSONResponse({
            "access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": ID_TOKEN_TTL_S,
            "id_token": self.id_token(issuer, grant),
        }, headers={"Cache-Control": "no-store"})

    async def _jwks(self, request: Request) -> Response:
        self.jwks_calls += 1
        if self.jwks_delay_s:
            await asyncio.sleep(self.jwks_delay_s)
        if not self.jwks_available:
            return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
        return JSONResponse(self.jwks())


def _oauth_error(error: str, description: str, status: int) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def sample_case() -> str:
    """A demo case of 张伟's, for the printed sample lines."""
    return DEMO_CASES["zhangwei_yue0106_trial"]


def demo_kit(stand_in_url: str) -> DemoKit:
    app_secret = secrets.token_urlsafe(32)
    idp = ProvincialIdp(client_secret=secrets.token_urlsafe(24), issuer=stand_in_url)
    channel = {
        "app_id": DEMO_APP_ID, "app_secret_env": "YSS_APP_SECRET", "sign_algorithm": "hmac-sm3",
        "idp_base": stand_in_url, "client_id": idp.client_id, "client_secret_env": "YSS_CLIENT_SECRET",
    }
    client = (f"python -m adapters.yueshengshi.client --app {DEMO_APP_ID} --secret {app_secret} "
              "--gateway http://127.0.0.1:8080")
    notes = [
        "粤省事 (channel yueshengshi, requests signed with HMAC-SM3; the client below signs them):",
        (f"  login codes: yss-demo-zhangwei (L2), yss-demo-zhangwei-l3 (L3), {DEMO_L1_CODE} (L1), "
         f"{DEMO_BAD_CODE} (refused)"),
        f"  {client} login '{{\"code\": \"yss-demo-zhangwei\"}}'",
        (f"  {client} --user-token <user_token> gateway/cases.progress "
         f"'{{\"case_no\": \"{sample_case()}\"}}'"),
        "  (--gateway: the gateway's URL if not on port 8080)",
    ]
    return DemoKit(
        channels={"yueshengshi": channel},
        env={"YSS_APP_SECRET": app_secret, "YSS_CLIENT_SECRET": idp.client_secret},
        stand_in_routes=idp.routes(),
        notes=notes,
    )
