"""Court events to the gateway (CONTRACTS.md section 5).

``POST {gateway_url}/internal/v1/events`` with body ``{"id", "type", "court",
"occurred_at", "data"}`` and the header
``X-Court-Signature: t=<unix seconds>,v1=<hex(HMAC-SHA256(secret, t + "." + body))>``,
the secret being the UTF-8 bytes of the court's event secret. Each attempt is
signed afresh (the gateway refuses stale timestamps) over the same body, so
the event ``id`` stays the same and the gateway processes it once.

Delivery never crashes the court: a few quick attempts inline, then a few more
in the background with growing pauses, every failure logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from reference_court import timeutil

log = logging.getLogger("reference_court.events")

SIGNATURE_HEADER = "X-Court-Signature"
EVENTS_PATH = "/internal/v1/events"
SIGNATURE_TOLERANCE_S = 300


def make_event(event_type: str, court: str, data: dict[str, Any], *, event_id: str | None = None,
               occurred_at: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt-{uuid.uuid4().hex}",
        "type": event_type,
        "court": court,
        "occurred_at": occurred_at or timeutil.iso(timeutil.now()),
        "data": data,
    }


def encode_event(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign_event(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Court-Signature`` value for ``body``."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={signature(secret, moment, body)}"


def verify_event_signature(secret: str, header: str | None, body: bytes, *, now: float | None = None,
                           tolerance: int = SIGNATURE_TOLERANCE_S) -> bool:
    """Check a ``X-Court-Signature`` header: well formed, fresh, and a matching ``v1`` (constant time)."""
    if not header:
        return False
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", []))


@dataclass(frozen=True)
class Emitted:
    event: dict[str, Any]
    delivery: str  # delivered | retrying | skipped | refused


class EventSender:
    """Signs and delivers events; background retries are cancelled when the app stops."""

    INLINE_PAUSES = (0.0, 0.2, 0.5)
    BACKGROUND_PAUSES = (2.0, 5.0, 15.0, 30.0, 60.0)

    def __init__(self, gateway_url: str | None, secrets: dict[str, str],
                 client: Callable[[], httpx.AsyncClient]) -> None:
        self._url = gateway_url.rstrip("/") + EVENTS_PATH if gateway_url else None
        self._secrets = dict(secrets)
        self._client = client
        self._tasks: set[asyncio.Task[None]] = set()

    def enabled_for(self, court: str) -> bool:
        return self._url is not None and court in self._secrets

    async def emit(self, event_type: str, court: str, data: dict[str, Any]) -> Emitted:
        event = make_event(event_type, court, data)
        if not self.enabled_for(court):
            log.info("event %s (%s) not sent: no gateway URL or event secret for %s", event["id"], event_type, court)
            return Emitted(event, "skipped")
        outcome = await self._attempts(event, self.INLINE_PAUSES)
        if outcome == "retry":
            task = asyncio.create_task(self._background(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return Emitted(event, "retrying")
        return Emitted(event, outcome)

    async def _background(self, event: dict[str, Any]) -> None:
        if await self._attempts(event, self.BACKGROUND_PAUSES) == "retry":
            log.error("event %s (%s) given up after every retry", event["id"], event["type"])

    async def _attempts(self, event: dict[str, Any], pauses: tuple[float, ...]) -> str:
        for pause in pauses:
            await asyncio.sleep(pause)
            outcome = await self._post(event)
            if outcome != "retry":
                return outcome
        return "retry"

    async def _post(self, event: dict[str, Any]) -> str:
        assert self._url is not None
        body = encode_event(event)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_event(self._secrets[event["court"]], body)}
        try:
            response = await self._client().post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("event %s delivery failed: %s", event["id"], type(exc).__name__)
            return "retry"
        if response.is_success:
            return "delivered"
        if response.status_code in (408, 429) or response.status_code >= 500:
            log.warning("event %s delivery answered %s", event["id"], response.status_code)
            return "retry"
        # A 4xx other than those will not change on retry (a bad signature, a refused body).
        log.error("event %s refused by the gateway: %s", event["id"], response.status_code)
        return "refused"

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
