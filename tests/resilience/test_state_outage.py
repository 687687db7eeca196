"""When the state store cannot be reached: reads go on with per-process fallbacks, writes are refused.

The state store here is the in-memory one behind a switch that makes every call fail the way an
unreachable Redis does; the real Redis outage, with real processes, is in tests/reliability.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pytest

from gateway.calls import ChannelPolicy, RateLimit, SessionRef
from gateway.errors import ErrorCode, GatewayError
from gateway.resilience.local_limits import LocalLimiter, SessionCache
from gateway.state import HotPath, RateCheck, StateUnavailable
from gateway.state.layout import session_key
from gateway.state.memory import MemoryState
from tests.resilience.harness import CASE_NO, call, citizen, consultation, pipeline_for, submit
from tests.resilience.support import Behaviour, stand_in


class SwitchedState(MemoryState):
    """MemoryState that raises StateUnavailable for everything while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise StateUnavailable("ConnectionError")

    async def get(self, key: str) -> bytes | None:
        self._check()
        return await super().get(key)

    async def set(self, key: str, value: bytes, ttl_s: float | None = None, *, only_if_absent: bool = False) -> bool:
        self._check()
        return await super().set(key, value, ttl_s, only_if_absent=only_if_absent)

    async def hot_path(self, checks: Sequence[RateCheck], fetch: Sequence[str],
                       touch: Sequence[tuple[str, float]] = ()) -> HotPath:
        self._check()
        return await super().hot_path(checks, fetch, touch)


def progress(credential: Any, channel: ChannelPolicy | None = None) -> Any:
    args = {"case_no": CASE_NO}
    return call("cases.progress", args, credential) if channel is None else call("cases.progress", args, credential,
                                                                                channel=channel)


def access_checks(behaviour: Behaviour) -> int:
    return sum(r["path"].endswith("/access") for r in behaviour.received)


async def test_reads_go_on_and_ask_the_court_for_every_participant_check() -> None:
    state, behaviour = SwitchedState(), Behaviour(body={"case_no": CASE_NO})
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport)
        actor = citizen()
        await pipeline.execute(progress(actor))
        await pipeline.execute(progress(actor))
        assert access_checks(behaviour) == 1  # cached while the store is up
        state.down = True
        for _ in range(3):
            outcome = await pipeline.execute(progress(actor))
            assert outcome.status == 200 and outcome.result == {"case_no": CASE_NO}
        assert access_checks(behaviour) == 4 and pipeline.degraded
        state.down = False
        await pipeline.execute(progress(actor))
        assert not pipeline.degraded


async def test_the_local_limiter_keeps_the_configured_limits() -> None:
    state, behaviour = SwitchedState(), Behaviour(body={"case_no": CASE_NO})
    tight = ChannelPolicy("wechat", None, per_actor=RateLimit(3, 60), per_channel=RateLimit(1000, 1))
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport)
        actor = citizen()
        state.down = True
        for _ in range(3):
            outcome = await pipeline.execute(progress(actor, tight))
        assert outcome.rate is not None and outcome.rate.remaining == 0
        with pytest.raises(GatewayError) as limited:
            await pipeline.execute(progress(actor, tight))
        assert limited.value.code is ErrorCode.RATE_LIMITED and (limited.value.retry_after or 0) >= 19
        other = await pipeline.execute(progress(citizen(), tight))  # per person, as configured
        assert other.status == 200


async def test_writes_are_refused_with_retry_after_and_never_reach_the_court() -> None:
    state, behaviour = SwitchedState(), Behaviour(status=201, body={"consultation_id": "ZX-1"})
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport)
        state.down = True
        with pytest.raises(GatewayError) as refused:
            await submit(pipeline, citizen(), consultation(), "key-1")
        assert refused.value.code is ErrorCode.SERVICE_UNAVAILABLE and refused.value.retry_after == 5
        assert behaviour.received == []


async def test_an_app_session_seen_recently_keeps_reading_and_a_kiosk_session_fails_closed() -> None:
    state, behaviour = SwitchedState(), Behaviour(body={"case_no": CASE_NO})
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport)
        actor = citizen()
        record = orjson.dumps(actor.to_record())
        await state.set(session_key("app-session", actor.sub), record, 7200)
        await state.set(session_key("kiosk-session", actor.sub), record, 120)
        app, kiosk = SessionRef("app-session", actor.sub), SessionRef("kiosk-session", actor.sub, idle_timeout_s=120)
        await pipeline.execute(progress(app))
        await pipeline.execute(progress(kiosk))
        state.down = True
        assert (await pipeline.execute(progress(app))).actor == actor
        for unknown in (kiosk, SessionRef("never-seen", actor.sub)):
            with pytest.raises(GatewayError) as refused:
                await pipeline.execute(progress(unknown))
            assert refused.value.code is ErrorCode.SERVICE_UNAVAILABLE


async def test_a_session_ended_before_the_outage_is_not_revived() -> None:
    state, behaviour = SwitchedState(), Behaviour(body={"case_no": CASE_NO})
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport)
        actor = citizen()
        await state.set(session_key("s1", actor.sub), orjson.dumps(actor.to_record()), 7200)
        ref = SessionRef("s1", actor.sub)
        await pipeline.execute(progress(ref))
        await state.delete(session_key("s1", actor.sub))  # logged out (on any instance)
        with pytest.raises(GatewayError) as expired:
            await pipeline.execute(progress(ref))
        assert expired.value.code is ErrorCode.SESSION_EXPIRED
        state.down = True
        with pytest.raises(GatewayError) as refused:
            await pipeline.execute(progress(ref))
        assert refused.value.code is ErrorCode.SERVICE_UNAVAILABLE


async def test_own_items_fail_closed() -> None:
    state, behaviour = SwitchedState(), Behaviour()
    async with stand_in(behaviour) as transport:
        pipeline = pipeline_for(state, transport)
        state.down = True
        with pytest.raises(GatewayError) as refused:
            await pipeline.execute(call("filings.get", {"filing_id": "F-1"}, citizen()))
        assert refused.value.code is ErrorCode.SERVICE_UNAVAILABLE and behaviour.received == []


# --- the fallbacks themselves ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def test_the_local_limiter_refills_over_time_and_consumes_only_when_every_check_passes() -> None:
    clock = Clock()
    limiter = LocalLimiter(clock=clock)
    person, channel = RateCheck("a", 2, 10), RateCheck("c", 100, 1)
    assert [limiter.check([person, channel]).allowed for _ in range(3)] == [True, True, False]  # type: ignore[union-attr]
    clock.now += 5  # one request's worth of the 2-per-10-s limit
    assert limiter.check([person]).allowed and not limiter.check([person]).allowed  # type: ignore[union-attr]
    busy = RateCheck("c2", 1, 10)
    limiter.check([busy])
    assert not limiter.check([RateCheck("fresh", 5, 10), busy]).allowed  # type: ignore[union-attr]
    assert limiter.check([RateCheck("fresh", 1, 10)]).allowed  # type: ignore[union-attr]  # "fresh" was not consumed


def test_the_local_limiter_is_bounded() -> None:
    limiter = LocalLimiter(max_keys=10)
    for index in range(100):
        limiter.check([RateCheck(f"k{index}", 1, 60)])
    assert len(limiter) == 10


def test_the_session_cache_forgets_after_its_time_and_beyond_its_size() -> None:
    clock = Clock()
    cache = SessionCache(ttl_s=60, max_entries=2, clock=clock)
    cache.keep("a", b"1")
    cache.keep("b", b"2")
    cache.keep("c", b"3")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, b"2", b"3")
    clock.now += 61
    assert cache.get("b") is None
    cache.keep("d", b"4")
    cache.forget("d")
    assert cache.get("d") is None
