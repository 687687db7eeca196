"""The console's routes under /console/ (CONTRACTS.md section 9).

To anyone without a valid staff session every page is the same 404 as an unknown path: the console
cannot be probed. Only the sign-in start and its callback answer without one. Every page view and
every action is written to the audit trail; every form carries the session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.api import problem_response
from gateway.audit import AuditRecord
from gateway.console import views
from gateway.console.render import page
from gateway.console.session import ConsoleSession, CookieSigner, csrf_ok
from gateway.console.signin import SignInRoutes
from gateway.errors import ErrorCode, GatewayError
from gateway.http_io import request_id_for

if TYPE_CHECKING:
    from gateway.app import Runtime

CONSOLE_CHANNEL = "console"  # how console actions are recorded in the audit trail
STATIC_DIR = __file__.rsplit("/", 1)[0] + "/static"
Handler = Callable[[Request, ConsoleSession], Awaitable[Response]]


def not_found(request: Request) -> Response:
    """Exactly what an unknown path answers (gateway/app.py)."""
    return problem_response(GatewayError(ErrorCode.NOT_FOUND, "no such route"), request_id_for(request))


class Console:
    def __init__(self, runtime: Runtime, extra_pages: list[BaseRoute] | None = None) -> None:
        self.runtime = runtime
        settings = runtime.config.gateway.console
        self.cookies = CookieSigner(runtime.config.gateway.secret.value_bytes, secure=settings.secure_cookies,
                                    ttl_s=settings.session_ttl_s)
        self.sign_in = SignInRoutes(runtime, self.cookies, self.audit)
        self._extra_pages = extra_pages or []

    # ------------------------------------------------------------------ plumbing

    def routes(self) -> list[BaseRoute]:
        pages = [
            Route("/", self._staff(self.home), methods=["GET"]),
            Route("/board", self._staff(self.board), methods=["GET"]),
            Route("/deliveries", self._staff(self.deliveries), methods=["GET"]),
            Route("/deliveries/redeliver", self._staff(self.redeliver), methods=["POST"]),
            Route("/contacts", self._staff(self.contacts), methods=["GET"]),
            Route("/ops", self._operator(self.ops), methods=["GET"]),
            Route("/ops/config", self._operator(self.config), methods=["GET"]),
            Route("/ops/requests", self._operator(self.requests), methods=["GET"]),
            Route("/logout", self._staff(self.logout), methods=["POST"]),
            *self.sign_in.routes(),
            *self._extra_pages,
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="console-static"),
        ]
        return [Mount("/console", routes=pages)]

    def _staff(self, handler: Handler, *, operator: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            session = self.cookies.session(request)
            if session is None or (operator and not session.operator):
                return not_found(request)
            if request.method == "POST":
                form = await request.form()
                if not csrf_ok(session, form.get("csrf")):
                    self.audit(request, session, "console.csrf_rejected", None, "FORBIDDEN", 403)
                    return not_found(request)
            return await handler(request, session)

        return endpoint

    def _operator(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        return self._staff(handler, operator=True)

    def audit(self, request: Request, session: ConsoleSession | None, operation: str, court: str | None,
              result: str = "ok", status: int = 200, item: str | None = None) -> None:
        self.runtime.audit.record(AuditRecord(request_id=request_id_for(request), channel=CONSOLE_CHANNEL,
                                              operation=operation, actor=session.subject if session else None,
                                              court=court, case_no=None, item=item, result=result, status=status))

    def _courts(self, session: ConsoleSession) -> list[str]:
        """The courts this person may see, in config order."""
        return [code for code in self.runtime.transports if session.may_see(code)]

    def _court(self, request: Request, session: ConsoleSession) -> str | None:
        """The court asked for (default: the person's own or the first), or None if not theirs."""
        visible = self._courts(session)
        wanted = request.query_params.get("court") or (session.court or (visible[0] if visible else ""))
        return wanted if wanted in visible else None

    def _page(self, template: str, session: ConsoleSession, **context: Any) -> Response:
        names = {code: self.runtime.config.courts[code].name for code in self._courts(session)}
        return page(template, session=session, court_names=names, **context)

    # ------------------------------------------------------------------ court staff

    async def home(self, request: Request, session: ConsoleSession) -> Response:
        return RedirectResponse("/console/ops" if session.operator else "/console/board", status_code=303)

    async def board(self, request: Request, session: ConsoleSession) -> Response:
        court = self._court(request, session)
        if court is None:
            return not_found(request)
        query = request.query_params
        rung = query.get("rung") or ""
        filters = views.BoardFilters(court, query.get("operation") or None,
                                     int(rung) if rung.isdigit() else None,
                                     query.get("status") if query.get("status") in ("running", "overdue", "paused")
                                     else None)
        rows, operations = await views.board_rows(self.runtime, filters)
        self.audit(request, session, "console.board", court)
        return self._page("board.html", session, court=court, rows=rows, operations=operations, filters=filters)

    async def deliveries(self, request: Request, session: ConsoleSession) -> Response:
        court = self._court(request, session)
        if court is None:
            return not_found(request)
        queued = await views.backlogs(self.runtime, [court])
        pending = await views.pending_writes(self.runtime, court)
        letters = await views.dead_letters(self.runtime, {court})
        self.audit(request, session, "console.deliveries", court)
        notice = {"again": "已重新投递", "gone": "该死信已不存在（可能已被他人重新投递）"}.get(
            request.query_params.get("done", ""))
        return self._page("deliveries.html", session, court=court, queued=queued.get(court, 0), pending=pending,
                          letters=letters, notice=notice)

    async def redeliver(self, request: Request, session: ConsoleSession) -> Response:
        form = await request.form()
        letter_id = str(form.get("letter_id") or "")
        court = await views.dead_letter_court(self.runtime, letter_id)
        if court is None or not session.may_see(court):
            self.audit(request, session, "console.redeliver", court, "NOT_FOUND", 404, item=letter_id or None)
            return RedirectResponse(f"/console/deliveries?done=gone&court={session.court or ''}", status_code=303)
        outbox = self.runtime.gateway.pipeline.outbox
        assert outbox is not None
        write = await outbox.redeliver(letter_id)
        outcome = "again" if write is not None else "gone"
        self.audit(request, session, "console.redeliver", court, "ok" if write else "NOT_FOUND",
                   200 if write else 404, item=write.delivery_id if write else letter_id)
        return RedirectResponse(f"/console/deliveries?court={court}&done={outcome}", status_code=303)

    async def contacts(self, request: Request, session: ConsoleSession) -> Response:
        court = self._court(request, session)
        if court is None:
            return not_found(request)
        roles, handlers = views.contacts(self.runtime, court)
        self.audit(request, session, "console.contacts", court)
        return self._page("contacts.html", session, court=court, roles=roles, handlers=handlers)

    async def logout(self, request: Request, session: ConsoleSession) -> Response:
        self.audit(request, session, "console.sign_out", session.court)
        response = RedirectResponse("/", status_code=303)
        self.cookies.clear(response)
        return response

    # ------------------------------------------------------------------ operators

    async def ops(self, request: Request, session: ConsoleSession) -> Response:
        health = await views.court_health(self.runtime)
        traffic = views.channel_traffic(self.runtime)
        self.audit(request, session, "console.ops", None)
        return self._page("ops.html", session, health=health, traffic=traffic)

    async def config(self, request: Request, session: ConsoleSession) -> Response:
        self.audit(request, session, "console.config", None)
        return self._page("config.html", session, config_text=views.running_config(self.runtime))

    async def requests(self, request: Request, session: ConsoleSession) -> Response:
        self.audit(request, session, "console.requests", None)
        return self._page("requests.html", session, items=views.recent_requests(), local_time=views.local_time)
