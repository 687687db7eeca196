"""One round trip to the state store per call: the rate limits, the channel session and the
participant cache, read together. While the state store is down, a read goes on with what this
process can vouch for and a write is refused."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import orjson

from gateway.actor import Actor
from gateway.calls import Call, ChannelPolicy, Credential, SessionRef
from gateway.catalog import Access
from gateway.errors import ErrorCode, GatewayError
from gateway.logs import get_logger
from gateway.metrics import DEGRADED, STATE_FALLBACKS
from gateway.pipeline.routing import Target
from gateway.pipeline.unavailable import state_unavailable
from gateway.resilience.local_limits import LocalLimiter, SessionCache
from gateway.state import HotPath, RateCheck, RateDecision, StateStore, StateUnavailable
from gateway.state.layout import actor_tag, session_key

_log = get_logger("court_gateway.pipeline")

#: who the caller is, their rate decision, and whether the participant cache lists them on the case
#: (None: not asked, or not known)
HotPathAnswer = tuple[Actor | None, RateDecision | None, bool | None]


@dataclass
class StateRoundTrip:
    state: StateStore
    local_limits: LocalLimiter = field(default_factory=LocalLimiter)
    sessions: SessionCache = field(default_factory=SessionCache)
    _degraded: bool = field(default=False, init=False)

    async def read(self, call: Call, target: Target) -> HotPathAnswer:
        credential = call.credential
        sub = credential.sub if credential is not None else None
        checks = _rate_checks(call.channel, sub)
        fetch: list[str] = []
        touch: list[tuple[str, float]] = []
        if isinstance(credential, SessionRef):
            session = session_key(credential.sid, credential.sub)
            fetch.append(session)
            if credential.idle_timeout_s:
                touch.append((session, credential.idle_timeout_s))
        participant = None
        if sub and call.operation.access is Access.PARTICIPANT and target.case is not None:
            participant = participant_key(target.court, sub, target.case.text)
            fetch.append(participant)
        if not checks and not fetch:
            return as_actor(credential), None, None
        shared = True
        try:
            hot = await self.state.hot_path(checks, fetch, touch)
        except StateUnavailable:
            hot, shared = self._locally(call, checks, len(fetch)), False
        if shared and self._degraded:
            self._set_degraded(False)
        return self._answer(credential, hot, shared, participant is not None)

    def _answer(self, credential: Credential, hot: HotPath, shared: bool, asked_participant: bool) -> HotPathAnswer:
        if hot.rate is not None and not hot.rate.allowed:
            raise GatewayError(ErrorCode.RATE_LIMITED, "rate limit reached",
                               retry_after=max(1, int(hot.rate.retry_after_s + 0.999)))
        values = iter(hot.values)
        actor = as_actor(credential)
        if isinstance(credential, SessionRef):
            record = next(values)
            if record is None:
                self.sessions.forget(credential.sid)
                raise GatewayError(ErrorCode.SESSION_EXPIRED, "session ended or idled out")
            if shared and not credential.idle_timeout_s:
                self.sessions.keep(credential.sid, record)
            actor = Actor.from_record(orjson.loads(record))
        participant = None
        if asked_participant:
            cached = next(values)
            participant = None if cached is None else cached == b"1"
        return actor, hot.rate, participant

    def _locally(self, call: Call, checks: list[RateCheck], fetched: int) -> HotPath:
        """The state store is down: a read goes on with what this process can vouch for (its own
        rate limiter, its recently seen sessions; participant checks go to the court); a write
        cannot be made safe without the idempotency store and is refused."""
        if call.operation.is_write:
            STATE_FALLBACKS.labels("write").inc()
            raise state_unavailable()
        values: list[bytes | None] = []
        if isinstance(call.credential, SessionRef):
            values.append(self._cached_session(call.credential))
        values += [None] * (fetched - len(values))  # the participant cache: unknown, so the court is asked
        if not self._degraded:
            self._set_degraded(True)
        STATE_FALLBACKS.labels("rate_limit").inc()
        return HotPath(self.local_limits.check(checks) if checks else None, values)

    def _cached_session(self, ref: SessionRef) -> bytes:
        # Sessions with an idle timeout (a terminal's, which also ends when its card is taken out):
        # only the shared store can say they are still open, so they fail closed.
        record = None if ref.idle_timeout_s else self.sessions.get(ref.sid)
        if record is None:
            raise state_unavailable("state store unavailable: session cannot be checked")
        STATE_FALLBACKS.labels("session").inc()
        return record

    def _set_degraded(self, degraded: bool) -> None:
        self._degraded = degraded
        for part in ("rate_limit", "session"):
            DEGRADED.labels(part).set(1 if degraded else 0)
        if degraded:
            _log.warning("state store unreachable: reads on per-process rate limits and sessions, writes refused")
        else:
            _log.info("state store reachable again: shared rate limits and sessions restored")

    @property
    def degraded(self) -> bool:
        """True while reads run on this process's fallbacks (the state store was unreachable)."""
        return self._degraded


def participant_key(court: str, sub: str, case_no: str) -> str:
    """Where the court's answer "is this person on this case" is remembered briefly."""
    digest = hashlib.sha256(f"{court}\n{case_no}".encode()).hexdigest()[:24]
    return f"acc:{actor_tag(sub)}:{digest}"


def as_actor(credential: Credential) -> Actor | None:
    return credential if isinstance(credential, Actor) else None


def _rate_checks(channel: ChannelPolicy, sub: str | None) -> list[RateCheck]:
    checks = []
    if channel.per_channel:
        checks.append(RateCheck(f"rl:c:{channel.name}", channel.per_channel.count, channel.per_channel.period_s))
    if sub and channel.per_actor:
        checks.append(RateCheck(f"rl:a:{channel.name}:{actor_tag(sub)}", channel.per_actor.count,
                                channel.per_actor.period_s))
    return checks
