"""Citizen notifications of court events: told on the channel they used, once per event.

The events endpoint queues every new known court event here (:class:`NotificationQueue`), and the
deliverer the outcome of each queued write (``delivery.finished``, gateway/resilience/follow.py); the
``notifications`` background job (:class:`NotificationDispatcher`), run by every ``serve`` and
``worker`` process, claims queued events with a lease and tells the people concerned:

- who: the route recorded for the item the event names (the filer of a filing, the author of a
  judge message, the applicant of an application), or for a case-wide event (a hearing, a
  payment) everyone who used a channel for that case (gateway/notify/routes.py);
- how: the channel's own push when its adapter has one (``Adapter.notify``, a mini program's
  subscribe message), otherwise, or when the channel cannot reach the person (no subscription,
  no template), an SMS to the phone the route knows (channels without push; terminal users only
  if they left a phone), or when the channel's operator routed the event to SMS
  (``notify.sms_events``). The channel's ``notify`` settings choose which events it wants at all;
- once: an event is queued once (its key stays as a tombstone for ``DONE_TTL_S`` after it was
  told, so the same event queued again is ignored); an SMS's ``OutId`` is the event and the
  person, which the SMS sender never sends twice; a push is claimed in the state store before it
  is sent (at most once: if a worker dies in the middle of a push, that push is not repeated). A
  channel whose push service is down is tried again with growing pauses; after the last try the
  SMS fallback is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import orjson

from gateway.channels import Adapter
from gateway.config import ChannelSettings
from gateway.errors import GatewayError
from gateway.event_types import CITIZEN_EVENTS, DELIVERY_FINISHED
from gateway.events import CourtEvent
from gateway.logs import get_logger
from gateway.metrics import NOTIFICATIONS
from gateway.notify import Notifier
from gateway.notify.routes import NotificationRoutes, Route
from gateway.sla.calendar import CHINA
from gateway.state import Placement, StateStore, StateUnavailable
from gateway.vocabulary import application_kind_label, operation_label, status_label

_log = get_logger("court_gateway.notify")

QUEUE = "{notify}:due"  # an event and the queue change in one script: one hash slot
#: a queued event is kept this long at most, retries included
EVENT_TTL_S = 7 * 24 * 3600
#: a told event's key stays (as DONE) this long, so the same event queued again is not told twice
DONE_TTL_S = 30 * 24 * 3600
DONE = b"done"
#: a push claim, and so "pushed once", holds this long
PUSH_CLAIM_TTL_S = 30 * 24 * 3600
#: pauses before each retry when a channel's push service is down; then SMS
RETRY_PAUSES_S = (5.0, 30.0, 120.0, 600.0, 1800.0)

#: which data field names the item whose route is asked; case-wide events go to the case's people
ITEM_OF: dict[str, str] = {
    "filing.received": "filing_id", "filing.correction_required": "filing_id", "filing.reviewed": "filing_id",
    "filing.docketed": "filing_id", "judge_message.replied": "message_id",
    "application.updated": "application_id", "refund.completed": "application_id",
    DELIVERY_FINISHED: "delivery_id",
}
CASE_WIDE = frozenset({"hearing.scheduled", "payment.confirmed"})

#: event -> the kind of item whose status it reports (application.updated names its own kind)
STATUS_KIND: dict[str, str] = {"filing.reviewed": "filing", DELIVERY_FINISHED: "delivery"}

Told = Literal["push", "sms", "skipped", "unreachable", "retry"]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _event_key(key: str) -> str:
    return f"{{notify}}:event:{key}"


def sms_params(event: CourtEvent, court_name: str) -> dict[str, object]:
    """The SMS template parameters of an event (gateway/notify/templates.py), in the citizen's words
    (gateway/vocabulary.py: the same as on every channel)."""
    data = event.data
    params: dict[str, object] = {k: str(v) for k, v in data.items()
                                 if k in ("filing_id", "case_no", "application_id", "amount", "place", "delivery_id")}
    params["court_name"] = court_name
    kind = str(data.get("kind", ""))
    status = status_label(STATUS_KIND.get(event.type) or kind or None, str(data.get("status", "")))
    params["status"] = params["result"] = status
    params["kind"] = application_kind_label(kind)
    params["operation"] = operation_label(str(data.get("operation", "")))
    if isinstance(data.get("at"), str):
        with contextlib.suppress(ValueError):
            at = datetime.fromisoformat(data["at"]).astimezone(CHINA)
            params["at"] = f"{at.year}年{at.month}月{at.day}日{at:%H:%M}"
    return params


@dataclass
class Pending:
    """A queued event and who has been told already (digests of their pseudonyms)."""

    event: CourtEvent
    attempts: int = 0
    told: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        return orjson.dumps({"event": self.event.to_record(), "attempts": self.attempts, "told": self.told})

    @classmethod
    def from_json(cls, raw: bytes) -> Pending:
        record = orjson.loads(raw)
        return cls(CourtEvent.from_record(record["event"]), int(record["attempts"]), list(record["told"]))


class NotificationQueue:
    def __init__(self, state: StateStore) -> None:
        self._state = state

    async def enqueue(self, event: CourtEvent) -> None:
        """Queue an event for the dispatcher; queuing the same event again (while it waits, or within
        ``DONE_TTL_S`` after it was told) changes nothing."""
        if event.type not in CITIZEN_EVENTS:
            return
        placement = Placement(QUEUE, event.key, time.time())
        await self._state.swap(_event_key(event.key), None, Pending(event).to_json(), EVENT_TTL_S, [placement])


class NotificationDispatcher:
    """A :class:`gateway.background.BackgroundJob`; see the module docstring."""

    name = "notifications"

    def __init__(self, state: StateStore, routes: NotificationRoutes, adapters: Mapping[str, Adapter],
                 channels: Mapping[str, ChannelSettings], notifier: Notifier | None, court_names: Mapping[str, str],
                 *, poll_s: float = 1.0, lease_s: float = 30.0, batch: int = 10) -> None:
        self._state = state
        self._routes = routes
        self._adapters = adapters
        self._channels = channels
        self._notifier = notifier
        self._court_names = court_names
        self._poll_s = poll_s
        self._lease_s = lease_s
        self._batch = batch

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                while await self.tick(time.time()) >= self._batch and not stop.is_set():
                    pass
            except StateUnavailable:
                _log.warning("notifications paused: state store unavailable")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll_s)

    async def tick(self, now: float) -> int:
        claimed = await self._state.claim_due(QUEUE, now, self._lease_s, self._batch)
        for key in claimed:
            try:
                await self._one(key, now)
            except StateUnavailable:
                raise
            except Exception:  # noqa: BLE001 - one event must not hold up the rest; its lease brings it back
                _log.exception("notification failed; it will be tried again after its lease", event_key=key)
        return len(claimed)

    async def _one(self, key: str, now: float) -> None:
        raw = await self._state.get(_event_key(key))
        if raw is None or raw == DONE:
            await self._state.swap(_event_key(key), raw, raw, DONE_TTL_S if raw else None,
                                   [Placement(QUEUE, key, None)])
            return
        pending = Pending.from_json(raw)
        final = pending.attempts >= len(RETRY_PAUSES_S)
        told, retry = list(pending.told), False
        for route in await self._recipients(pending.event):
            tag = _digest(route.sub)
            if tag in told:
                continue
            outcome = await self._tell(pending.event, route, final)
            NOTIFICATIONS.labels(*_metric_labels(outcome)).inc()
            if outcome == "retry":
                retry = True
            else:
                told.append(tag)
        if retry and not final:
            later = Pending(pending.event, pending.attempts + 1, told)
            wake = now + RETRY_PAUSES_S[pending.attempts]
            await self._state.swap(_event_key(key), raw, later.to_json(), EVENT_TTL_S, [Placement(QUEUE, key, wake)])
        else:
            if retry:
                _log.error("notification given up after every retry", event_type=pending.event.type,
                           court=pending.event.court, event_id=pending.event.id)
            await self._state.swap(_event_key(key), raw, DONE, DONE_TTL_S, [Placement(QUEUE, key, None)])

    async def _recipients(self, event: CourtEvent) -> list[Route]:
        item_field = ITEM_OF.get(event.type)
        item_id = event.data.get(item_field) if item_field else None
        routes: list[Route] = []
        if item_field and isinstance(item_id, str):
            route = await self._routes.item(event.court, item_field, item_id)
            routes = [route] if route is not None else []
        case_no = event.data.get("case_no")
        if not routes and event.type in CASE_WIDE and isinstance(case_no, str):
            routes = await self._routes.case(event.court, case_no)
        return list({route.sub: route for route in routes}.values())

    async def _tell(self, event: CourtEvent, route: Route, final: bool) -> Told:
        settings = self._channels.get(route.channel)
        if settings is not None and not settings.notify.wants(event.type):
            return "skipped"
        adapter = self._adapters.get(route.channel)
        # An event the channel's operator routed to SMS (notify.sms_events) skips the push.
        if adapter is not None and (settings is None or settings.notify.pushes(event.type)):
            pushed = await self._push(adapter, event, route, final)
            if pushed != "unreachable":
                return pushed
        return await self._sms(event, route)

    async def _push(self, adapter: Adapter, event: CourtEvent, route: Route, final: bool) -> Told:
        claim = f"notify:push:{event.key}:{_digest(route.sub)}"
        if not await self._state.set(claim, b"pushing", PUSH_CLAIM_TTL_S, only_if_absent=True):
            # Pushed (or being pushed) before: at most once. Unreachable then: SMS, deduplicated by OutId.
            return "unreachable" if await self._state.get(claim) == b"unreachable" else "push"
        try:
            sent = await adapter.notify(route.actor(), event.type, dict(event.data))
        except GatewayError as exc:
            if not final:
                await self._state.delete(claim)
                _log.warning("channel push failed; trying again later", channel=route.channel,
                             event_type=event.type, code=exc.code.value)
                return "retry"
            sent = False
        except Exception:  # noqa: BLE001 - an adapter bug must not cost the citizen the notice: SMS instead
            _log.exception("channel push raised", channel=route.channel, event_type=event.type)
            sent = False
        await self._state.set(claim, b"sent" if sent else b"unreachable", PUSH_CLAIM_TTL_S)
        return "push" if sent else "unreachable"

    async def _sms(self, event: CourtEvent, route: Route) -> Told:
        if self._notifier is None or route.phone is None:
            return "unreachable"
        params = sms_params(event, self._court_names.get(event.court, event.court))
        out_id = f"evt.{event.key[:24]}.{_digest(route.sub)[:16]}"
        result = await self._notifier.sms(route.phone, event.type, params, out_id)
        if result.status == "failed" and result.attempts == 0:
            return "retry"  # nothing was claimed or sent (the state store failed): safe to try again
        return "sms" if result.delivered else "unreachable"


def _metric_labels(outcome: Told) -> tuple[str, str]:
    if outcome in ("push", "sms"):
        return outcome, "sent"
    return "none", outcome


__all__ = ["NotificationDispatcher", "NotificationQueue", "Pending", "sms_params"]
