"""Shared limiters taken in small blocks, so a request on a cluster touches one hash slot.

On a cluster the hot path runs one script per hash slot. The actor's limiter, session and
caches share the actor's slot (gateway/state/layout.py); the channel-wide limiter
(``rl:c:<channel>``) is one key for all actors, so it sits in a slot of its own and every
request paid for a second script on another node: about twice the state cost of one Redis.

A process therefore takes the channel's tokens in blocks (a lease): the script for the
channel's slot takes up to ``lease_size`` tokens at once from the shared GCRA, and the next
requests spend them locally until the block is used or ``LEASE_S`` has passed. The limit
holds exactly: every admitted request spent a token the shared limiter granted, and a
block's unspent tokens simply lapse (the channel admits slightly fewer, never more). Near
the limit the script grants what is left, down to a single token, so the last tokens are
shared as before. Only keys without a hash tag are leased: an actor's own limiter rides in
the actor's script anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from gateway.state.base import RateCheck, RateDecision

#: a block's lifetime: short, so tokens a process does not use go back to the pool soon
LEASE_S = 0.25
#: a block is at most this share of the limit, and never more than LEASE_MAX tokens
LEASE_SHARE = 100
LEASE_MAX = 32


def lease_size(check: RateCheck) -> int:
    """How many tokens to take at once: a small share of the limit, so many processes share it."""
    return max(1, min(LEASE_MAX, check.count // LEASE_SHARE))


@dataclass
class _Lease:
    tokens: int
    expires_at: float
    decision: RateDecision  # the shared limiter's answer when the block was granted


class Leases:
    """The blocks this process holds, per limiter key."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._held: dict[str, _Lease] = {}

    def spend(self, check: RateCheck) -> RateDecision | None:
        """A token from a live block, with the decision it stands for; None when a new block is needed."""
        lease = self._held.get(check.key)
        if lease is None or lease.tokens <= 0 or self._clock() >= lease.expires_at:
            return None
        lease.tokens -= 1
        lease.decision = replace(lease.decision, remaining=max(0, lease.decision.remaining - 1))
        return lease.decision

    def keep(self, check: RateCheck, granted: int, decision: RateDecision) -> None:
        """Hold a block of ``granted`` tokens, one of which the current request spends."""
        if granted > 1 and decision.allowed:
            self._held[check.key] = _Lease(granted - 1, self._clock() + LEASE_S, decision)
        else:
            self._held.pop(check.key, None)
