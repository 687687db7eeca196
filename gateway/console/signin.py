"""``/console/login`` and ``/console/callback``: staff sign-in with the court's identity provider.

The ID token decides what the person sees (docs/configuration.md, "console"): ``court_staff`` with a
``court`` the config knows, or the operator role. A citizen's token, an unknown court, a token that
does not verify, or a sign-in that was not started here all end in the same 404 and no session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.api import problem_response
from gateway.console.oidc import OidcSignIn, SignInFailed, unverified_claims
from gateway.console.session import LOGIN_COOKIE, ConsoleSession, CookieSigner
from gateway.errors import ErrorCode, GatewayError
from gateway.http_io import request_id_for
from gateway.issuers import IssuerVerifier, TrustedIssuer
from gateway.logs import get_logger

if TYPE_CHECKING:
    from gateway.app import Runtime

_log = get_logger("court_gateway.console")
CALLBACK_PATH = "/console/callback"
COURT_STAFF = "court_staff"
Audit = Callable[..., None]


class SignInRoutes:
    def __init__(self, runtime: Runtime, cookies: CookieSigner, audit: Audit) -> None:
        self._runtime = runtime
        self._cookies = cookies
        self._audit = audit
        gw = runtime.config.gateway
        issuer = gw.sign_in_issuer
        self._issuer = issuer
        self._oidc = OidcSignIn(issuer, runtime.gateway.http) if issuer else None
        self._verifier = IssuerVerifier(
            [TrustedIssuer(issuer.issuer, issuer.client_id or issuer.audience, str(issuer.jwks_url),
                           tuple(issuer.algorithms), issuer.staff_roles_claim)] if issuer else [],
            runtime.gateway.pseudonyms, runtime.gateway.http)

    def routes(self) -> list[BaseRoute]:
        return [Route("/login", self.start, methods=["GET"]), Route("/callback", self.finish, methods=["GET"])]

    def _redirect_uri(self, request: Request) -> str:
        public = self._runtime.config.gateway.console.public_url
        base = public.rstrip("/") if public else str(request.base_url).rstrip("/")
        return base + CALLBACK_PATH

    def _nothing(self, request: Request) -> Response:
        response = problem_response(GatewayError(ErrorCode.NOT_FOUND, "no such route"), request_id_for(request))
        self._cookies.clear(response)
        return response

    async def start(self, request: Request) -> Response:
        if self._oidc is None:  # no issuer offers sign-in: there is no console
            return self._nothing(request)
        try:
            url, pending = await self._oidc.start(self._redirect_uri(request))
        except SignInFailed as exc:
            _log.warning("console sign-in could not start", reason=str(exc))
            return problem_response(GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "identity provider unavailable"),
                                    request_id_for(request))
        response = RedirectResponse(url, status_code=303)
        self._cookies.set_pending(response, pending)
        return response

    async def finish(self, request: Request) -> Response:
        pending = self._cookies.pending(request)
        code, state = request.query_params.get("code"), request.query_params.get("state")
        if self._oidc is None or pending is None or not code or state != pending.state:
            self._audit(request, None, "console.sign_in", None, "NOT_FOUND", 404)
            return self._nothing(request)
        try:
            id_token = await self._oidc.finish(self._redirect_uri(request), code, pending)
            await self._verifier.actor(id_token)  # signature by the issuer's JWKS, iss, aud, exp
        except (SignInFailed, GatewayError) as exc:
            _log.warning("console sign-in refused", reason=str(exc))
            self._audit(request, None, "console.sign_in", None, "UNAUTHENTICATED", 404)
            return self._nothing(request)
        session = self._session_for(unverified_claims(id_token))  # verified just above
        if session is None:
            self._audit(request, None, "console.sign_in", None, "NOT_FOUND", 404)
            return self._nothing(request)
        self._audit(request, session, "console.sign_in", session.court)
        response = RedirectResponse("/console/", status_code=303)
        self._cookies.clear(response, LOGIN_COOKIE)
        self._cookies.set_session(response, session)
        return response

    def _session_for(self, claims: dict[str, Any]) -> ConsoleSession | None:
        """Court staff of a configured court, or an operator; anyone else gets no session."""
        assert self._issuer is not None
        roles = claims.get(self._issuer.staff_roles_claim) or []
        roles = roles if isinstance(roles, list) else []
        operator = self._runtime.config.gateway.console.operator_role in roles
        court = claims.get("court")
        staff_court = str(court) if COURT_STAFF in roles and court in self._runtime.transports else None
        if not operator and staff_court is None:
            return None
        subject = self._runtime.gateway.pseudonyms.account("console", f"{self._issuer.issuer}#{claims.get('sub', '')}")
        name = str(claims.get("name") or "工作人员")
        return self._cookies.new_session(subject, name, None if operator else staff_court, operator)
