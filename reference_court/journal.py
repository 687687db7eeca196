"""The request journal: what each court received, for tests and for court IT.

Every request to a court route is recorded as it arrives (so a request that
hangs or is cut off still shows): method, the raw path exactly as sent (its
percent-encoding included), query, a few headers, the decoded actor claims
once the token checks, the JSON body, and the status sent back. Test hooks
under ``/_ref`` are not recorded. Bounded: the newest 10,000 entries stay.
Authorization headers are never recorded, only the decoded claims.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_court import timeutil
from reference_court.routing import CourtResolver

RECORDED_HEADERS = ("idempotency-key", "x-request-id", "content-type", "user-agent", "accept")
MAX_BODY = 2**20


class Journal:
    def __init__(self, limit: int = 10_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._seq = itertools.count(1)

    def open(self, scope: Scope, court: str | None) -> dict[str, Any]:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        raw_path = scope.get("raw_path")
        entry: dict[str, Any] = {
            "seq": next(self._seq),
            "at": timeutil.iso(timeutil.now()),
            "court": court,
            "method": scope.get("method"),
            "path": raw_path.decode("latin-1") if raw_path else quote(scope.get("path", "")),
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": {name: headers[name] for name in RECORDED_HEADERS if name in headers},
            "authorization": "Bearer" if headers.get("authorization", "").lower().startswith("bearer ") else None,
            "actor": None,
            "body": None,
            "status": None,
        }
        self._entries.append(entry)
        return entry

    def entries(self, court: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        return [dict(e) for e in list(self._entries) if e["seq"] > since and (court is None or e["court"] == court)]

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def note_actor(scope: Scope, claims: dict[str, Any]) -> None:
    """Called by a court once the token checks, so the entry shows who was asking."""
    entry = scope.get("state", {}).get("journal_entry")
    if entry is not None:
        entry["actor"] = claims


class _BodyTap:
    """Copies what the app reads of the body (up to 1 MiB) into the entry."""

    def __init__(self, receive: Receive, entry: dict[str, Any]) -> None:
        self._receive = receive
        self._entry = entry
        self._chunks: list[bytes] = []
        self._size = 0
        self._json = entry["headers"].get("content-type", "").startswith("application/json")

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            self._size += len(chunk)
            if self._json and self._size <= MAX_BODY:
                self._chunks.append(chunk)
            if not message.get("more_body", False):
                self._finish()
        return message

    def _finish(self) -> None:
        if not self._size:
            return
        if not self._json or self._size > MAX_BODY:
            self._entry["body"] = {"bytes": self._size, "content_type": self._entry["headers"].get("content-type")}
            return
        try:
            self._entry["body"] = json.loads(b"".join(self._chunks))
        except ValueError:
            self._entry["body"] = {"bytes": self._size, "malformed_json": True}


class JournalMiddleware:
    def __init__(self, app: ASGIApp, journal: Journal, resolver: CourtResolver) -> None:
        self.app = app
        self.journal = journal
        self.resolver = resolver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        court = self.resolver.court_of(scope["path"])
        if court is None:
            await self.app(scope, receive, send)
            return
        entry = self.journal.open(scope, court)
        scope.setdefault("state", {})["journal_entry"] = entry

        async def record_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        await self.app(scope, _BodyTap(receive, entry), record_status)
