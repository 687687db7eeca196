"""What the serving connections say about Redis: up or down, and why.

Every command the gateway sends reports its outcome here, so ``/readyz``,
``court_gateway_state_up`` and the degraded flags describe the connections
that serve requests, not a separate probe client. A failure that means the
server cannot serve now (unreachable, a timeout, a TLS or password failure, a
read-only replica, a cluster without coverage) marks the store down: callers
then fail at once and run degraded (QUALITY.md reliability 3 and 11) while one
background probe, on the same client, asks until Redis answers a write again.

Each reason is logged once when it appears (and again only if it comes back
after :data:`LOG_AGAIN_AFTER_S`), never once per request.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable, Coroutine

from redis.exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    ClusterDownError,
    MasterDownError,
    NoPermissionError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.logs import get_logger
from gateway.metrics import STATE_UP

_log = get_logger("court_gateway.state")

#: how often the background probe asks a Redis that is down
PROBE_EVERY_S = 0.2
#: a reason seen again after this long is logged again
LOG_AGAIN_AFTER_S = 300.0

#: what a failed Redis call may raise (redis-py's cluster client raises its own exception type too)
REDIS_FAILURES = (RedisError, RedisClusterException, OSError)

#: reasons that mean "cannot serve now": requests stop waiting until the probe succeeds
_DOWN = frozenset({"timeout", "unreachable", "tls", "wrong_password", "read_only_replica", "cluster_down",
                   "loading", "out_of_memory"})

_HINTS = {
    "timeout": "Redis did not answer in time (hung, overloaded or a network problem)",
    "unreachable": "no connection to Redis",
    "tls": "the TLS handshake with Redis failed (CA, client certificate or host name)",
    "wrong_password": "Redis refused the user or password (WRONGPASS): check state_username and "
                      "state_password_env",
    "read_only_replica": "Redis is a read-only replica (READONLY): the URL points at a replica, or a "
                         "failover demoted it",
    "cluster_down": "the Redis Cluster does not cover every slot",
    "loading": "Redis is loading its data set",
    "out_of_memory": "Redis refused a write for want of memory (OOM)",
    "not_replicated": "no replica confirmed a queued write in time: it was refused (Sentinel needs a "
                      "replica that keeps up)",
    "crossslot": "a multi-key command spans hash slots (CROSSSLOT): a key layout bug",
    "acl_denied": "the ACL user lacks a command or key the gateway needs (NOPERM): see docs/deployment.md",
    "refused": "Redis refused a command",
}


def classify(exc: BaseException) -> str:
    """A short, stable name for why a Redis command failed (no message text: it may hold keys)."""
    text = str(exc)
    if isinstance(exc, AuthenticationError | AuthenticationWrongNumberOfArgsError) or "WRONGPASS" in text:
        return "wrong_password"
    if isinstance(exc, ReadOnlyError) or text.startswith("READONLY") or "now a slave" in text \
            or "now a replica" in text:
        return "read_only_replica"
    if isinstance(exc, NoPermissionError) or text.startswith("NOPERM"):
        return "acl_denied"
    if "CROSSSLOT" in text or "same key slot" in text:
        return "crossslot"
    if isinstance(exc, ClusterDownError | MasterDownError) or text.startswith(("CLUSTERDOWN", "MASTERDOWN")):
        return "cluster_down"
    if text.startswith("LOADING"):
        return "loading"
    if text.startswith("OOM"):
        return "out_of_memory"
    if text.startswith("NOTREPLICATED"):
        return "not_replicated"
    return _transport_reason(exc, text)


def _transport_reason(exc: BaseException, text: str) -> str:
    if isinstance(exc, ssl.SSLError) or isinstance(exc.__cause__, ssl.SSLError) or "SSL" in text \
            or "certificate" in text:
        return "tls"
    if isinstance(exc, RedisTimeoutError | TimeoutError) or "Timeout" in text or "timed out" in text:
        return "timeout"
    if isinstance(exc, RedisConnectionError | OSError | RedisClusterException):
        return "unreachable"
    if isinstance(exc, ResponseError | RedisError):
        return "refused"
    return "unreachable"


class StateHealth:
    """Up/down and the last reason, fed by every command; owns the background probe."""

    def __init__(self, topology: str, probe: Callable[[], Awaitable[object]], *,
                 probe_every_s: float = PROBE_EVERY_S) -> None:
        self.topology = topology
        self.up = True
        self.reason: str | None = None
        self._probe = probe
        self._probe_every_s = probe_every_s
        self._probing: asyncio.Task[None] | None = None
        self._confirming: asyncio.Task[None] | None = None
        self._logged: dict[str, float] = {}
        STATE_UP.set(1)

    @property
    def serving(self) -> bool:
        """False while callers should not wait on Redis at all."""
        return self.up

    def succeeded(self) -> None:
        if not self.up:
            self.up, self.reason = True, None
            STATE_UP.set(1)
            _log.info("state store answers again", topology=self.topology)

    def failed(self, exc: BaseException) -> str:
        """Record a failed command; returns its reason. A reason that means "down" starts the probe.

        A timeout is confirmed first by one probe in the background: an event loop that stalled
        for a moment (a CPU-heavy request) makes a command time out too, and must not send the
        whole process into the degraded mode. Meanwhile each command still waits at most its own
        timeout, so no request waits longer than that either way."""
        reason = classify(exc)
        if reason == "timeout" and self.up:
            self._start_confirmation()
            return reason
        self._log_once(reason)
        if reason in _DOWN:
            self._mark_down(reason)
        return reason

    def _mark_down(self, reason: str) -> None:
        self.reason = reason
        if self.up:
            self.up = False
            STATE_UP.set(0)
        self._start_probe()

    def _start_confirmation(self) -> None:
        self._confirming = _start_once(self._confirming, self._confirm_timeout)

    async def _confirm_timeout(self) -> None:
        try:
            await self._probe()
        except REDIS_FAILURES as exc:
            if (down := self._probe_failed(exc)) is not None:
                self._mark_down(down)

    def _probe_failed(self, exc: BaseException) -> str | None:
        """Logs why a probe failed; returns the reason when it means "down"."""
        reason = classify(exc)
        self._log_once(reason)
        return reason if reason in _DOWN else None

    def _log_once(self, reason: str) -> None:
        now = time.monotonic()
        if now - self._logged.get(reason, -LOG_AGAIN_AFTER_S) < LOG_AGAIN_AFTER_S:
            return
        self._logged[reason] = now
        _log.warning("state store failing", reason=reason, hint=_HINTS.get(reason, ""), topology=self.topology)

    def _start_probe(self) -> None:
        self._probing = _start_once(self._probing, self._probe_until_up)

    async def _probe_until_up(self) -> None:
        while not self.up:
            await asyncio.sleep(self._probe_every_s)
            try:
                await self._probe()
            except REDIS_FAILURES as exc:
                self.reason = self._probe_failed(exc) or self.reason
                continue
            self.succeeded()

    async def close(self) -> None:
        for task in (self._probing, self._confirming):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._probing = self._confirming = None


def _start_once(running: asyncio.Task[None] | None,
                work: Callable[[], Coroutine[object, object, None]]) -> asyncio.Task[None] | None:
    """``running`` while it runs, else ``work`` started as a task; None without an event loop
    (closing): the next command tries Redis itself."""
    if running is not None and not running.done():
        return running
    try:
        return asyncio.get_running_loop().create_task(work())
    except RuntimeError:
        return None
