"""The state port: everything gateway instances must share.

Two implementations behind one small interface: :class:`MemoryState` for
``demo`` and single-process use, :class:`RedisState` for production. The hot
read path needs one round trip, so rate-limit checks, session fetches and
cache reads travel together in :meth:`StateStore.hot_path` (one Lua script in
Redis).
"""

from gateway.state.base import (
    HotPath,
    Placement,
    RateCheck,
    RateDecision,
    StateStore,
    StateUnavailable,
    open_state,
)
from gateway.state.connection import StateSettings, settings_from

__all__ = [
    "HotPath",
    "Placement",
    "RateCheck",
    "RateDecision",
    "StateSettings",
    "StateStore",
    "StateUnavailable",
    "open_state",
    "settings_from",
]
