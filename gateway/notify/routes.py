"""Where to tell a citizen about their matter: the channel they used and how to reach them there.

When the gateway accepts a write it records a *route* for the item the write created (and for the
case it concerns): the channel's name, the person's pseudonym, their platform account (for a
channel's own push, such as a mini program's subscribe message) and a mobile number when one is known
(from the channel's identity, a callback number, or the filer's own entry in a filing). Court
events later name the item or the case; the dispatcher (gateway/notify/dispatch.py) looks the
route up. Routes hold personal data (a phone, a platform account): they live in the state store sealed
with AES-GCM under a key only gateway instances hold, with an expiry, keyed by digests of the
item, and are never logged. A state store dump, or a self-service terminal's ended session,
therefore leaves no readable contact behind; a route sealed under a key the gateway no longer has
reads as no route.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.actor import Actor
from gateway.calls import Call, Outcome
from gateway.domain.id_numbers import normalise_mobile
from gateway.pipeline.owned import OWN_RECORD_TTL_S
from gateway.sla.items import created_item
from gateway.sla.listener import case_number_of
from gateway.state import StateStore

#: as long as the gateway remembers who created an item (CONTRACTS.md section 3, "own")
ROUTE_TTL_S = OWN_RECORD_TTL_S
#: people followed per case: parties, agents and representatives who used a channel
MAX_CASE_ROUTES = 50
_SWAP_ATTEMPTS = 8


@dataclass(frozen=True)
class Route:
    channel: str
    sub: str
    assurance: str
    phone: str | None = None
    account: str | None = None

    def actor(self) -> Actor:
        """The person as a channel adapter's ``notify()`` expects them (no name, no ID number)."""
        return Actor(sub=self.sub, assurance=self.assurance, channel=self.channel, phone=self.phone,
                     account=self.account)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Route:
        return cls(**{k: record[k] for k in cls.__dataclass_fields__ if k in record})


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _item_key(court: str, kind: str, item_id: str) -> str:
    return f"notify:route:{_digest(court, kind, item_id)}"


def _case_key(court: str, case_no: str) -> str:
    return f"notify:case:{_digest(court, case_no)}"


def contact_phone(actor: Actor, args: Mapping[str, Any]) -> str | None:
    """The person's mobile: their identity's, else the callback number they gave, else their own
    entry among a filing's plaintiffs or as its agent."""
    candidates: list[Any] = [actor.phone, args.get("callback_phone")]
    people = [*(args.get("plaintiffs") or []), args.get("agent") or {}]
    candidates += [p.get("phone") for p in people
                   if isinstance(p, dict) and actor.id_number and p.get("id_number") == actor.id_number]
    for candidate in candidates:
        if isinstance(candidate, str) and (phone := normalise_mobile(candidate)):
            return phone
    return None


def route_key(secret: bytes) -> bytes:
    """The AES-256 key of sealed routes, derived so the gateway's other keys never double as it."""
    return hmac.new(secret, b"court-gateway/notify-routes/v1", hashlib.sha256).digest()


class _Seal:
    """AES-GCM with a random nonce; the state key is the associated data, so a sealed value
    moved to another key does not open."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def close(self, state_key: str, record: Any) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, orjson.dumps(record), state_key.encode())

    def open(self, state_key: str, sealed: bytes | None) -> Any:
        if not sealed or len(sealed) < 29:
            return None
        try:
            return orjson.loads(self._aead.decrypt(sealed[:12], sealed[12:], state_key.encode()))
        except (InvalidTag, orjson.JSONDecodeError):
            return None  # sealed under a key this gateway no longer has


class NotificationRoutes:
    def __init__(self, state: StateStore, key: bytes) -> None:
        self.state = state
        self._seal = _Seal(key)

    async def remember_item(self, court: str, kind: str, item_id: str, route: Route) -> None:
        key = _item_key(court, kind, item_id)
        await self.state.set(key, self._seal.close(key, asdict(route)), ROUTE_TTL_S)

    async def item(self, court: str, kind: str, item_id: str) -> Route | None:
        key = _item_key(court, kind, item_id)
        record = self._seal.open(key, await self.state.get(key))
        return Route.from_record(record) if isinstance(record, dict) else None

    async def move_item(self, court: str, old: tuple[str, str], new: tuple[str, str]) -> None:
        """A queued write was delivered: its route follows it from the delivery id to the item."""
        route = await self.item(court, *old)
        if route is not None:
            await self.remember_item(court, *new, route)

    async def remember_case(self, court: str, case_no: str, route: Route) -> None:
        """Follow the case: later case events (a hearing) reach this person on this channel."""
        key = _case_key(court, case_no)
        for _ in range(_SWAP_ATTEMPTS):
            raw = await self.state.get(key)
            opened = self._seal.open(key, raw)
            routes: dict[str, Any] = opened if isinstance(opened, dict) else {}
            routes.pop(route.sub, None)
            routes[route.sub] = asdict(route)  # the channel used last goes last, and wins
            kept = dict(list(routes.items())[-MAX_CASE_ROUTES:])
            if await self.state.swap(key, raw, self._seal.close(key, kept), ROUTE_TTL_S):
                return

    async def case(self, court: str, case_no: str) -> list[Route]:
        key = _case_key(court, case_no)
        routes = self._seal.open(key, await self.state.get(key))
        return [Route.from_record(r) for r in routes.values()] if isinstance(routes, dict) else []

    async def link_case(self, court: str, kind: str, item_id: str, case_no: str) -> None:
        """A filing became a case (or a queued write on a case was taken): whoever made it follows
        the case from now on."""
        route = await self.item(court, kind, item_id)
        if route is not None:
            await self.remember_case(court, case_no, route)


class RouteRecorder:
    """A :class:`gateway.core.WriteListener` recording routes for created items and touched cases."""

    def __init__(self, routes: NotificationRoutes) -> None:
        self._routes = routes

    async def write_accepted(self, call: Call, outcome: Outcome) -> None:
        actor, court = outcome.actor, outcome.court
        if actor is None or court is None:
            return
        route = Route(call.channel.name, actor.sub, actor.assurance, contact_phone(actor, call.args), actor.account)
        item = created_item(call.operation, outcome)
        if item is not None:
            await self._routes.remember_item(court, *item, route)
        case_no = case_number_of(call.args.get("case_no"))
        # A queued write may still fail its participant check (made before delivery when the court
        # was down): the person follows the case only once the court has taken the write
        # (gateway/resilience/follow.py), never on the strength of a write it may refuse.
        if case_no is not None and not outcome.queued:
            await self._routes.remember_case(court, case_no, route)
