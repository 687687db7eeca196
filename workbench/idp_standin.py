"""The demo's stand-in identity provider (OpenID Connect) for court staff and citizens.

What a court's real identity provider does, in the smallest honest form: a discovery document, a
JWKS, an authorization endpoint where a demo person is picked (no password: this is a demo), and a
token endpoint that checks the PKCE verifier (S256) and the redirect URI before it issues an ES256
ID token. ``/idp/token?person=KEY`` gives a ready bearer token for the canonical API, so the README's
tour can call ``/api/v1/...`` and ``/api/v1/admin/sla`` with curl. Never used outside ``demo`` and tests.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from demo_data import DEMO_PEOPLE, DEMO_STAFF, DemoStaff
from gateway.console.render import page

AUDIENCE = "court-gateway"
TOKEN_TTL_S = 3600
CODE_TTL_S = 120


@dataclass(frozen=True)
class DemoIdentity:
    key: str
    label: str
    claims: dict[str, Any]


def _staff_identity(staff: DemoStaff, operator_role: str) -> DemoIdentity:
    if staff.court is None:
        return DemoIdentity(staff.key, staff.label, {"name": staff.name, "roles": [operator_role]})
    return DemoIdentity(staff.key, staff.label, {"name": staff.name, "roles": ["court_staff"], "court": staff.court})


def demo_identities(operator_role: str = "gateway_operator") -> dict[str, DemoIdentity]:
    zhang = DEMO_PEOPLE["zhangwei"]
    people = [_staff_identity(staff, operator_role) for staff in DEMO_STAFF.values()]
    people.append(DemoIdentity("zhangwei", f"{zhang.name}（市民，已实名）",
                               {"name": zhang.name, "id_type": zhang.id_type, "id_number": zhang.id_number,
                                "acr": "L2"}))
    return {person.key: person for person in people}


@dataclass
class _Grant:
    person: str
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str
    expires_at: float


@dataclass
class DemoIdentityProvider:
    issuer: str  # its own URL, e.g. http://127.0.0.1:8082/idp
    redirect_uris: list[str]
    operator_role: str = "gateway_operator"
    key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", private=True))
    _grants: dict[str, _Grant] = field(default_factory=dict)

    @property
    def people(self) -> dict[str, DemoIdentity]:
        return demo_identities(self.operator_role)

    def trusted_issuer(self) -> dict[str, Any]:
        """Its ``gateway.trusted_issuers`` entry."""
        return {"issuer": self.issuer, "audience": AUDIENCE, "jwks_url": f"{self.issuer}/jwks",
                "algorithms": ["ES256"], "discovery_url": f"{self.issuer}/.well-known/openid-configuration"}

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route("/jwks", self.jwks, methods=["GET"]),
            Route("/authorize", self.authorize, methods=["GET", "POST"]),
            Route("/token", self.token_endpoint, methods=["POST"]),
            Route("/token", self.bearer_for_curl, methods=["GET"]),
        ]

    def mint(self, person: str, *, nonce: str | None = None) -> str:
        identity = self.people[person]
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": AUDIENCE, "sub": f"demo-{person}", "iat": now, "exp": now + TOKEN_TTL_S,
                  **identity.claims}
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode({"alg": "ES256", "kid": self.key.thumbprint()}, claims, self.key, algorithms=["ES256"])

    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["ES256"], "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": ["none"],
        })

    async def jwks(self, request: Request) -> Response:
        public = self.key.as_dict(private=False)
        public.update({"kid": self.key.thumbprint(), "alg": "ES256", "use": "sig"})
        return JSONResponse({"keys": [public]})

    async def authorize(self, request: Request) -> Response:
        params = dict(await request.form()) if request.method == "POST" else dict(request.query_params)
        problem = self._bad_request(params)
        if problem:
            return PlainTextResponse(problem, status_code=400)
        person = str(params.get("person") or "")
        if request.method == "GET" or person not in self.people:
            hidden = {k: str(v) for k, v in params.items() if k != "person"}
            response = page("idp_pick.html", session=None, people=self.people.values(), hidden=hidden)
            # Its form's answer redirects to the gateway: another origin, which form-action 'self' would block.
            response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
            return response
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(person, str(params["client_id"]), str(params["redirect_uri"]),
                                    str(params.get("nonce") or "") or None, str(params["code_challenge"]),
                                    time.time() + CODE_TTL_S)
        query = urlencode({"code": code, "state": str(params.get("state") or "")})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=303)

    def _bad_request(self, params: dict[str, Any]) -> str | None:
        if params.get("response_type") != "code":
            return "response_type must be code"
        if params.get("redirect_uri") not in self.redirect_uris:
            return "redirect_uri is not registered"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "PKCE with S256 is required"
        return None

    async def token_endpoint(self, request: Request) -> Response:
        form = await request.form()
        grant = self._grants.pop(str(form.get("code") or ""), None)
        verifier = str(form.get("code_verifier") or "")
        if (form.get("grant_type") != "authorization_code" or grant is None or grant.expires_at < time.time()
                or form.get("redirect_uri") != grant.redirect_uri or form.get("client_id") != grant.client_id
                or create_s256_code_challenge(verifier) != grant.challenge):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        id_token = self.mint(grant.person, nonce=grant.nonce)
        return JSONResponse({"access_token": self.mint(grant.person), "id_token": id_token, "token_type": "Bearer",
                             "expires_in": TOKEN_TTL_S}, headers={"Cache-Control": "no-store"})

    async def bearer_for_curl(self, request: Request) -> Response:
        person = request.query_params.get("person", "")
        if person not in self.people:
            known = ", ".join(self.people)
            return PlainTextResponse(f"person must be one of: {known}\n", status_code=400)
        return PlainTextResponse(self.mint(person) + "\n")
