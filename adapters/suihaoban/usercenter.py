"""The city user center, as the gateway asks it who holds a ``userTicket``.

``POST {usercenter_base}/api/ticket/verify {"ticket"}`` answers with the
holder and how long the answer holds (``expiresIn``). The answer is kept in the
shared state store under a hash of the ticket (never the ticket itself) for
``min(expiresIn, ticket_cache_max_s)``, so every instance asks the user center
once per ticket; in front of that sits a short in-process cache, so a citizen's
next call costs no state round trip at all. Concurrent first calls with one
ticket share one question to the user center.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from adapters.suihaoban import protocol
from gateway import (
    Actor,
    ErrorCode,
    GatewayError,
    Pseudonyms,
    StateStore,
    StateUnavailable,
    account_actor,
    get_logger,
    person_actor,
)

LOCAL_TTL_S = 60.0  # short: memory stays small and bounded whatever the tickets' lifetimes
LOCAL_SIZE = 20_000
_log = get_logger("court_gateway.channel.suihaoban")


@dataclass(frozen=True)
class UserCenterSettings:
    channel: str
    base: str
    max_cache_s: int
    timeout_s: float

    @property
    def verify_url(self) -> str:
        return self.base + "/api/ticket/verify"


class _LocalTickets:
    def __init__(self, size: int = LOCAL_SIZE) -> None:
        self._entries: OrderedDict[str, tuple[Actor, float]] = OrderedDict()
        self._size = size

    def get(self, key: str, now: float) -> Actor | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= now:
            del self._entries[key]
            return None
        return entry[0]

    def put(self, key: str, actor: Actor, expires_at: float) -> None:
        self._entries[key] = (actor, expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


class UserCenter:
    def __init__(self, settings: UserCenterSettings, http: httpx.AsyncClient, state: StateStore,
                 pseudonyms: Pseudonyms, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._http = http
        self._state = state
        self._pseudonyms = pseudonyms
        self._clock = clock
        self._local = _LocalTickets()
        self._pending: dict[str, asyncio.Task[Actor]] = {}
        self.verify_calls = 0  # questions actually sent to the user center (for metrics and tests)

    def state_key(self, ticket: str) -> str:
        digest = hashlib.sha256(f"{self._settings.channel}\n{ticket}".encode()).hexdigest()[:40]
        return "shb:ticket:" + digest

    async def actor(self, ticket: str) -> Actor:
        key = self.state_key(ticket)
        cached = self._local.get(key, self._clock())
        if cached is not None:
            return cached
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._resolve(key, ticket))
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._settled(key, done))
        # shield: one caller giving up must not cancel the question the others wait for
        return await asyncio.shield(pending)

    def _settled(self, key: str, task: asyncio.Task[Actor]) -> None:
        self._pending.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved here, so a refusal nobody awaited any more is not reported as lost

    async def _resolve(self, key: str, ticket: str) -> Actor:
        now = self._clock()
        stored = await self._stored(key, now)
        if stored is not None:
            actor, expires_at = stored
        else:
            holder = await self._verify(ticket)
            actor = self._actor(holder)
            ttl = min(holder.expires_in, self._settings.max_cache_s)
            expires_at = now + ttl
            await self._store(key, actor, expires_at, ttl)
        self._local.put(key, actor, min(expires_at, now + LOCAL_TTL_S))
        return actor

    async def _stored(self, key: str, now: float) -> tuple[Actor, float] | None:
        try:
            raw = await self._state.get(key)
        except StateUnavailable:
            return None  # ask the user center instead; it knows the answer too
        if raw is None:
            return None
        record: dict[str, Any] = orjson.loads(raw)
        expires_at = float(record.get("exp", 0))
        return (Actor.from_record(record), expires_at) if expires_at > now else None

    async def _store(self, key: str, actor: Actor, expires_at: float, ttl: float) -> None:
        record = {**actor.to_record(), "exp": expires_at}
        try:
            await self._state.set(key, orjson.dumps(record), ttl)
        except StateUnavailable:
            pass  # a cache; the next call asks the user center again

    async def _verify(self, ticket: str) -> protocol.TicketHolder:
        self.verify_calls += 1
        try:
            answer = await self._http.post(self._settings.verify_url, json={"ticket": ticket},
                                           timeout=self._settings.timeout_s)
        except httpx.HTTPError:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "user center unreachable", retry_after=5) from None
        if answer.status_code >= 500:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, f"user center answered HTTP {answer.status_code}",
                               retry_after=5)
        try:
            body = orjson.loads(answer.content)
        except orjson.JSONDecodeError:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "user center answer is not JSON") from None
        return protocol.ticket_holder(body)

    def _actor(self, holder: protocol.TicketHolder) -> Actor:
        channel = self._settings.channel
        if holder.assurance == "L1" or holder.name is None or holder.id_number is None:
            actor = account_actor(self._pseudonyms, channel=channel, account=holder.account, phone=holder.phone)
        else:
            actor = person_actor(self._pseudonyms, channel=channel, assurance=holder.assurance, name=holder.name,
                                 id_type="ID_CARD", id_number=holder.id_number, phone=holder.phone,
                                 account=holder.account)
        _log.info("ticket verified", channel=channel, sub=actor.sub, assurance=actor.assurance)
        return actor
