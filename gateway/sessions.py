"""Channel sessions: a signed token for the client, the person's data in the state store.

The token (HS256, CONTRACTS.md section 2 ``gateway.secret_env``) carries only
a session id, the pseudonym and the channel; names and ID numbers stay in the
state store under the session id, so ending a session (logout, a kiosk card
taken out) removes them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import orjson

from gateway.actor import Actor
from gateway.calls import SessionRef
from gateway.errors import ErrorCode, GatewayError
from gateway.resilience.local_limits import SessionCache
from gateway.state import StateStore, StateUnavailable
from gateway.state.layout import session_key
from gateway.tokens import SessionTokens

DEFAULT_SESSION_TTL_S = 7200


@dataclass(frozen=True)
class IssuedSession:
    token: str
    sid: str
    expires_in: int


class SessionStore:
    def __init__(self, state: StateStore, tokens: SessionTokens, cache: SessionCache | None = None) -> None:
        self._state = state
        self._tokens = tokens
        #: the pipeline's per-process copy of recently seen sessions (it serves reads while the state
        #: store is down): a session ended here must leave it at once
        self._cache = cache

    async def open(
        self, actor: Actor, *, ttl_s: int = DEFAULT_SESSION_TTL_S, idle_timeout_s: int | None = None,
        binding: str | None = None,
    ) -> IssuedSession:
        """A new session; ``binding`` ties the token to one device (kiosks) so no other device can use it."""
        sid = secrets.token_urlsafe(18)
        record = orjson.dumps(actor.to_record())
        try:
            await self._state.set(session_key(sid, actor.sub), record, idle_timeout_s or ttl_s)
        except StateUnavailable:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None
        token = self._tokens.issue(sid=sid, sub=actor.sub, channel=actor.channel, ttl_s=ttl_s, binding=binding)
        return IssuedSession(token, sid, ttl_s)

    def credential(self, token: str | None, channel: str, idle_timeout_s: int | None = None,
                   binding: str | None = None) -> SessionRef:
        """Check the token's signature, channel, binding and expiry; the record itself is fetched in
        the pipeline's one round trip (which also extends an idle timeout)."""
        if not token:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "no session token")
        claims = self._tokens.verify(token, channel, binding)
        return SessionRef(claims.sid, claims.sub, idle_timeout_s)

    async def actor(self, ref: SessionRef) -> Actor:
        try:
            raw = await self._state.get(session_key(ref.sid, ref.sub))
        except StateUnavailable:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None
        if raw is None:
            raise GatewayError(ErrorCode.SESSION_EXPIRED, "session ended or idled out")
        return Actor.from_record(orjson.loads(raw))

    async def end(self, ref: SessionRef) -> None:
        # First, and whatever the state store says: a logged-out session must not come back from this
        # process's copy while the store is down (issue 14, finding 5).
        if self._cache is not None:
            self._cache.forget(ref.sid)
        try:
            await self._state.delete(session_key(ref.sid, ref.sub))
        except StateUnavailable:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None
