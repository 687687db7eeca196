"""Time limits, court events and citizen notifications, built from one config (for gateway/app.py).

One object gives the runtime what it wires in: the write listeners (start a timer, remember where
to tell the citizen), the background jobs (the SLA engine, the notification dispatcher), the
routes (``POST /internal/v1/events``, ``GET /api/v1/admin/sla``) and the readiness report.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from starlette.routing import BaseRoute

from gateway.admin import SlaBoard
from gateway.api import CanonicalApi
from gateway.audit import AuditTrail
from gateway.background import BackgroundJob
from gateway.channels import Adapter
from gateway.config import GatewayConfig
from gateway.core import WriteListener
from gateway.events import CourtEvent, CourtEvents
from gateway.logs import get_logger
from gateway.notify import Notifier
from gateway.notify.dispatch import NotificationDispatcher, NotificationQueue
from gateway.notify.routes import NotificationRoutes, RouteRecorder, route_key
from gateway.sla.calendar import StatutoryCalendar, horizon_days, local_date
from gateway.sla.engine import SlaEngine
from gateway.sla.listener import TimerStarter
from gateway.sla.timers import TimerStore
from gateway.state import StateStore

_log = get_logger("court_gateway.sla")


class SlaService:
    def __init__(self, config: GatewayConfig, state: StateStore, notifier: Notifier | None) -> None:
        self.config = config
        sla = config.sla
        self.calendar = StatutoryCalendar(sla.calendar.extra_holidays, sla.calendar.extra_workdays)
        self.timers = TimerStore(state, sla.rule)
        self.notify_routes = NotificationRoutes(state, route_key(config.gateway.pseudonym_key))
        self.queue = NotificationQueue(state)
        self._state = state
        self._notifier = notifier
        #: how far ahead a deadline counted today can end, for the calendar check
        self.horizon_days = max((horizon_days(r.deadline_days, r.counting) for r in sla.rules.values()), default=0)
        self.listeners: list[WriteListener] = [TimerStarter(sla, self.calendar, self.timers),
                                               RouteRecorder(self.notify_routes)]
        self._court_names = {code: court.name for code, court in config.courts.items()}
        self._warn_calendar()

    def unknown_years(self, now: float | None = None) -> tuple[int, ...]:
        today = local_date(time.time() if now is None else now)
        return self.calendar.unknown_years_ahead(today, self.horizon_days)

    def _warn_calendar(self) -> None:
        unknown = self.unknown_years()
        if unknown:
            # DOMAIN.md section 5: counted provisionally meanwhile, never a citizen's problem, but an
            # operator's: the State Council publishes each year's schedule in November or December.
            _log.warning("configuration problem: the statutory calendar does not know years deadlines may reach; "
                         "they are counted provisionally (weekends only) until it does: upgrade chinese-calendar "
                         "or list the year's days off and adjusted working days under sla.calendar",
                         unknown_years=list(unknown))

    def readiness(self) -> dict[str, Any]:
        unknown = self.unknown_years()
        return {"calendar": "provisional" if unknown else "ok", "calendar_unknown_years": list(unknown)}

    def jobs(self, adapters: Mapping[str, Adapter]) -> list[BackgroundJob]:
        engine = SlaEngine(self.timers, self.calendar, self.config.courts, self._notifier, self.notify_routes,
                           horizon_days=self.horizon_days)
        channels = {name: settings for name, settings in self.config.channels.items() if settings.enabled}
        dispatcher = NotificationDispatcher(self._state, self.notify_routes, adapters, channels, self._notifier,
                                            self._court_names)
        return [engine, dispatcher]

    def http_routes(self, api: CanonicalApi, audit: AuditTrail) -> list[BaseRoute]:
        events = CourtEvents(self.config.courts, self._state, self.timers, self.calendar,
                             hooks=[self.queue.enqueue, self._follow_case])
        board = SlaBoard(api, self.timers, self._court_names, audit)
        return [*events.routes(), *board.routes()]

    async def _follow_case(self, event: CourtEvent) -> None:
        """A docketed filing's filer follows the new case (its hearings, its payments)."""
        data = event.data
        if event.type == "filing.docketed":
            await self.notify_routes.link_case(event.court, "filing_id", str(data["filing_id"]), str(data["case_no"]))
