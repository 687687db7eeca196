"""Console sessions: an encrypted cookie (JWE) with who signed in, what they may see, and a CSRF token.

The cookie is HttpOnly and SameSite=Lax, and Secure unless the config turns that off (``demo`` on
plain HTTP). Its key is derived from the gateway secret, so every instance accepts every other's
cookie and the session-token key never doubles as this one. A cookie that does not verify, has
expired or is for another purpose is no session at all: the console then answers 404.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from joserfc import jwe, jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "cg_console"
LOGIN_COOKIE = "cg_console_login"
LOGIN_TTL_S = 600  # a sign-in must come back from the identity provider within this time
#: encrypted and authenticated (JWE, direct key, AES-256-GCM): the login cookie holds the PKCE
#: verifier and the session cookie a name, which the browser stores but must not be able to read or change
_HEADER = {"alg": "dir", "enc": "A256GCM"}
_ALGORITHMS = ["dir", "A256GCM"]


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in staff member. ``subject`` is a pseudonym, never the person's ID number or name."""

    subject: str
    display_name: str
    court: str | None  # the court a court_staff member sees; None for an operator
    operator: bool
    csrf: str
    expires_at: int

    def may_see(self, court: str) -> bool:
        return self.operator or self.court == court

    def claims(self) -> dict[str, Any]:
        return {"use": "session", "sub": self.subject, "name": self.display_name, "court": self.court,
                "op": self.operator, "csrf": self.csrf, "exp": self.expires_at}


@dataclass(frozen=True)
class PendingSignIn:
    """What the callback needs to finish a sign-in it started (state, PKCE verifier, nonce)."""

    state: str
    code_verifier: str
    nonce: str


class CookieSigner:
    def __init__(self, gateway_secret: bytes, *, secure: bool, ttl_s: int) -> None:
        key = hmac.new(gateway_secret, b"court-gateway/console-cookie/v1", hashlib.sha256).digest()
        self._key = OctKey.import_key(key)
        self.secure = secure
        self.ttl_s = ttl_s

    def seal(self, claims: dict[str, Any]) -> str:
        return jwt.encode(_HEADER, claims, self._key, algorithms=_ALGORITHMS, registry=jwe.default_registry)

    def _read(self, raw: str | None, use: str) -> dict[str, Any] | None:
        if not raw:
            return None
        try:
            claims = dict(jwt.decode(raw, self._key, algorithms=_ALGORITHMS, registry=jwe.default_registry).claims)
        except (JoseError, ValueError):
            return None
        exp = claims.get("exp")
        if claims.get("use") != use or not isinstance(exp, int) or exp < time.time():
            return None
        return claims

    def new_session(self, subject: str, display_name: str, court: str | None, operator: bool) -> ConsoleSession:
        return ConsoleSession(subject, display_name, court, operator, secrets.token_urlsafe(24),
                              int(time.time()) + self.ttl_s)

    def session(self, request: Request) -> ConsoleSession | None:
        claims = self._read(request.cookies.get(SESSION_COOKIE), "session")
        if claims is None:
            return None
        court = claims.get("court")
        return ConsoleSession(str(claims.get("sub", "")), str(claims.get("name", "")),
                              str(court) if court else None, claims.get("op") is True, str(claims.get("csrf", "")),
                              int(claims["exp"]))

    def set_session(self, response: Response, session: ConsoleSession) -> None:
        self._set(response, SESSION_COOKIE, self.seal(session.claims()), self.ttl_s)

    def pending(self, request: Request) -> PendingSignIn | None:
        claims = self._read(request.cookies.get(LOGIN_COOKIE), "login")
        if claims is None:
            return None
        return PendingSignIn(str(claims.get("state", "")), str(claims.get("verifier", "")),
                             str(claims.get("nonce", "")))

    def set_pending(self, response: Response, pending: PendingSignIn) -> None:
        claims = {"use": "login", "state": pending.state, "verifier": pending.code_verifier,
                  "nonce": pending.nonce, "exp": int(time.time()) + LOGIN_TTL_S}
        self._set(response, LOGIN_COOKIE, self.seal(claims), LOGIN_TTL_S)

    def _set(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/console", httponly=True, secure=self.secure,
                            samesite="lax")

    def clear(self, response: Response, *names: str) -> None:
        for name in names or (SESSION_COOKIE, LOGIN_COOKIE):
            response.delete_cookie(name, path="/console", httponly=True, secure=self.secure, samesite="lax")


def csrf_ok(session: ConsoleSession, submitted: object) -> bool:
    return isinstance(submitted, str) and bool(submitted) and hmac.compare_digest(submitted, session.csrf)
