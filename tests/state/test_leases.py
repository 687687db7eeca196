"""A channel-wide limiter on a cluster, taken in blocks: one slot per request, and the limit still holds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from gateway.state import RateCheck, RateDecision, StateStore
from gateway.state.leases import LEASE_MAX, LEASE_S, Leases, lease_size
from gateway.state.redis import RedisState
from tests.support.redis_servers import RedisClusterNodes


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _allowed(remaining: int) -> RateDecision:
    return RateDecision(allowed=True, limit=100, remaining=remaining, reset_s=0.1, retry_after_s=0)


def test_a_block_is_a_small_share_of_the_limit() -> None:
    assert lease_size(RateCheck("rl:c:x", 50, 1)) == 1
    assert lease_size(RateCheck("rl:c:x", 1000, 1)) == 10
    assert lease_size(RateCheck("rl:c:x", 1_000_000, 1)) == LEASE_MAX


def test_a_block_is_spent_token_by_token_then_a_new_one_is_needed() -> None:
    clock, check = Clock(), RateCheck("rl:c:x", 1000, 1)
    leases = Leases(clock)
    assert leases.spend(check) is None
    leases.keep(check, 3, _allowed(50))  # the request that took the block spends one of the three
    first, second = leases.spend(check), leases.spend(check)
    assert first is not None and second is not None
    assert (first.remaining, second.remaining) == (49, 48)
    assert leases.spend(check) is None


def test_a_block_lapses_after_its_lifetime() -> None:
    clock, check = Clock(), RateCheck("rl:c:x", 1000, 1)
    leases = Leases(clock)
    leases.keep(check, 10, _allowed(50))
    clock.now += LEASE_S
    assert leases.spend(check) is None


def test_a_single_token_or_a_refusal_holds_no_block() -> None:
    clock, check = Clock(), RateCheck("rl:c:x", 1000, 1)
    leases = Leases(clock)
    leases.keep(check, 1, _allowed(0))
    assert leases.spend(check) is None
    leases.keep(check, 5, RateDecision(allowed=False, limit=100, remaining=0, reset_s=1, retry_after_s=1))
    assert leases.spend(check) is None


@pytest.fixture
async def two_instances(redis_cluster: RedisClusterNodes) -> AsyncIterator[tuple[StateStore, StateStore]]:
    # the blocks' clock stands still, so no block lapses however slow this machine is
    first, second = (RedisState(redis_cluster.url, leases=Leases(Clock())) for _ in range(2))
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_two_instances_on_a_cluster_never_admit_more_than_the_channel_limit(
        two_instances: tuple[StateStore, StateStore]) -> None:
    # 400 per hour: blocks of 4, nothing refills during the test. Two instances, each with its own
    # actor, ask 300 times: exactly 400 pass in all, and every refusal names a wait.
    channel = RateCheck(f"rl:c:{uuid.uuid4().hex}", 400, 3600)
    admitted = 0
    for round_no in range(300):
        for index, store in enumerate(two_instances):
            actor = RateCheck(f"rl:a:x:{{a:{index}-{channel.key}}}", 10_000, 3600)
            hot = await store.hot_path([channel, actor], [])
            assert hot.rate is not None
            if hot.rate.allowed:
                admitted += 1
            else:
                assert hot.rate.retry_after_s > 0, round_no
    assert admitted == 400


async def test_near_the_limit_a_block_is_what_is_left(two_instances: tuple[StateStore, StateStore]) -> None:
    channel = RateCheck(f"rl:c:{uuid.uuid4().hex}", 800, 3600)  # blocks of 8
    first, second = two_instances
    for _ in range(797):
        assert (await second.hot_path([channel], [])).rate.allowed  # type: ignore[union-attr]
    # second holds the unspent rest of its last block; the shared limiter has 800 - 800 = 0 or a
    # few tokens left, and first gets exactly those, one request at a time, then is refused
    granted = 0
    while (await first.hot_path([channel], [])).rate.allowed:  # type: ignore[union-attr]
        granted += 1
        assert granted <= 8
    leftover = 0
    while (await second.hot_path([channel], [])).rate.allowed:  # type: ignore[union-attr]
        leftover += 1
        assert leftover <= 8
    assert 797 + granted + leftover == 800
