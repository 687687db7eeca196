"""Admin routes for court staff: ``GET /api/v1/admin/sla``, the overdue board (CONTRACTS.md section 8).

Staff authenticate like every canonical caller, with a JWT from a trusted issuer; a staff token
carries ``roles: ["court_staff"]`` and ``court`` and reaches only that court's admin routes. To
anyone else the route does not exist: no token, a malformed, expired or foreign token, a citizen's
token, or staff asking for another court all get the same 404 ``NOT_FOUND`` as an unknown path, so
the admin surface cannot be probed and one court's staff learn nothing about another court's work
(issue 14, finding 8).

Query: ``court`` (defaults to the staff member's court), ``status`` (``running``, ``overdue``,
``paused``; comma-separated; all by default), ``limit`` (1-1000, default 200). Every view is
written to the audit trail, since the board lists case numbers.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.api import CanonicalApi, guarded, json_response
from gateway.audit import AuditRecord, AuditTrail
from gateway.errors import ErrorCode, FieldError, GatewayError
from gateway.http_io import request_id_for
from gateway.issuers import API_CHANNEL
from gateway.sla.board import BOARD_STATUSES, board, counts
from gateway.sla.calendar import CHINA
from gateway.sla.timers import TimerStore

SLA_BOARD_PATH = "/api/v1/admin/sla"
DEFAULT_LIMIT = 200
MAX_LIMIT = 1000
#: how many open timers one view reads at most (a court's open work, not its history)
READ_LIMIT = 20_000


def _not_found() -> GatewayError:
    return GatewayError(ErrorCode.NOT_FOUND, "no such route")


def _statuses(raw: str | None) -> frozenset[str]:
    if not raw:
        return frozenset(BOARD_STATUSES)
    wanted = frozenset(part.strip() for part in raw.split(",") if part.strip())
    unknown = wanted - frozenset(BOARD_STATUSES)
    if unknown or not wanted:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "unknown status",
                           [FieldError("status", f"one or more of {', '.join(BOARD_STATUSES)}")])
    return wanted


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "bad limit",
                           [FieldError("limit", f"an integer from 1 to {MAX_LIMIT}")])
    return int(raw)


class SlaBoard:
    def __init__(self, api: CanonicalApi, timers: TimerStore, court_names: dict[str, str], audit: AuditTrail) -> None:
        self._api = api
        self._timers = timers
        self._court_names = court_names
        self._audit = audit

    def routes(self) -> list[BaseRoute]:
        async def endpoint(request: Request) -> Response:
            return await guarded(request, self.view)

        return [Route(SLA_BOARD_PATH, endpoint, methods=["GET"])]

    async def view(self, request: Request) -> Response:
        try:
            actor = await self._api.authenticate(request, required=True)
        except GatewayError:
            raise _not_found() from None
        if actor is None or actor.staff_court is None:
            raise _not_found()
        court = request.query_params.get("court") or actor.staff_court
        if court != actor.staff_court or court not in self._court_names:
            raise _not_found()
        statuses, limit = _statuses(request.query_params.get("status")), _limit(request.query_params.get("limit"))
        now = time.time()
        items = board(await self._timers.open_timers(court, READ_LIMIT), self._timers.rule, now)
        shown = [item.public() for item in items if item.status in statuses][:limit]
        self._audit.record(AuditRecord(request_id=request_id_for(request), channel=API_CHANNEL,
                                       operation="admin.sla", actor=actor.sub, court=court, case_no=None,
                                       item=None, result="ok", status=200))
        body: dict[str, Any] = {
            "court": court, "court_name": self._court_names[court],
            "generated_at": datetime.fromtimestamp(now, CHINA).isoformat(timespec="seconds"),
            "counts": counts(items), "items": shown,
        }
        return json_response(body)
