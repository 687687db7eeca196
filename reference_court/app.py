"""The reference court backend as one Starlette app serving every court (CONTRACTS.md section 5).

    app = create_reference_court(jwks_provider=gateway_jwks, gateway_url="http://127.0.0.1:8080",
                                 event_secrets={"粤0106": "..."})

Each court is mounted at ``/{slug}`` (``/yue0106``), so its ``base_url`` is
``court_base_url(root, "粤0106")``; ``only_court`` serves one court at the
root. Test hooks live at ``/_ref`` (see ``hooks.py``), the request journal is
``app.state.journal`` and ``GET /_ref/journal``. ``run_reference_court`` is the
``court-gateway reference-court`` command.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from reference_court.auth import JwksDocument, JwksSource, TokenVerifier
from reference_court.contract.courts import env_name_part
from reference_court.court import CourtService
from reference_court.events import EventSender
from reference_court.faults import FaultMiddleware, FaultTable
from reference_court.hooks import Hooks
from reference_court.journal import Journal, JournalMiddleware
from reference_court.problems import CourtError, problem_response
from reference_court.routing import CourtResolver, court_base_url, court_slug
from reference_court.seed import SeedData, SeedError, default_seed, load_seed
from reference_court.store import CourtState

__all__ = ["court_base_url", "court_slug", "create_reference_court", "run_reference_court"]

log = logging.getLogger("reference_court")

JwksProvider = Callable[[], Awaitable[JwksDocument]]


class HttpClient:
    """One outbound client (JWKS fetches, events), opened on first use and closed with the app.

    Made lazily rather than in the lifespan so the app also works under an ASGI transport that
    runs no lifespan; closed and forgotten at shutdown so a restarted server gets a fresh one on
    its own event loop.
    """

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    def __call__(self) -> httpx.AsyncClient:
        if self._client is None:
            # No redirects and no proxy settings from the environment: the court calls the one
            # gateway it was told about and nothing else.
            self._client = httpx.AsyncClient(timeout=5.0, follow_redirects=False, trust_env=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _jwks_source(provider: JwksProvider | JwksDocument | None, gateway_url: str | None,
                 client: HttpClient) -> JwksSource:
    if isinstance(provider, dict):
        return JwksSource(static=provider)
    if provider is not None:
        return JwksSource(fetch=provider)
    if gateway_url is not None:
        url = gateway_url.rstrip("/") + "/.well-known/jwks.json"

        async def fetch() -> JwksDocument:
            response = await client().get(url)
            response.raise_for_status()
            document: JwksDocument = response.json()
            return document

        return JwksSource(fetch=fetch)
    log.warning("no JWKS and no gateway URL: every authenticated route will answer 401")
    return JwksSource()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
    detail = "未查询到相关信息，请核对后重试。" if exc.status_code == 404 else str(exc.detail)
    return problem_response(CourtError(exc.status_code, code, detail), request.headers.get("x-request-id") or "-")


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(CourtError(500, "INTERNAL", "系统繁忙，请稍后再试。"), request.headers.get("x-request-id") or "-")


def _index(resolver: CourtResolver, courts: dict[str, CourtService]) -> Route:
    async def index(request: Request) -> Response:
        return JSONResponse({"service": "court-gateway reference court",
                             "courts": [{"code": c, "name": courts[c].state.name, "path": f"/{court_slug(c)}"}
                                        for c in resolver.codes]})

    return Route("/", index, methods=["GET"])


def create_reference_court(
    seed: SeedData | None = None,
    *,
    jwks_provider: JwksProvider | JwksDocument | None,
    gateway_url: str | None = None,
    event_secrets: dict[str, str] | None = None,
    only_court: str | None = None,
) -> Starlette:
    """Build the reference court app.

    ``jwks_provider`` is the gateway's JWKS as a dict, or an async function returning it (asked
    again when a token names an unknown ``kid``); ``None`` with ``gateway_url`` fetches
    ``{gateway_url}/.well-known/jwks.json``. Events go to ``{gateway_url}/internal/v1/events``
    for courts with an entry in ``event_secrets``.
    """
    data = seed or default_seed()
    if only_court is not None and only_court not in data.courts:
        raise ValueError(f"unknown court {only_court}")
    codes = [only_court] if only_court is not None else list(data.courts)
    client = HttpClient()
    source = _jwks_source(jwks_provider, gateway_url, client)
    courts = {code: CourtService(CourtState(data.courts[code]), TokenVerifier(source, code)) for code in codes}
    resolver = CourtResolver(codes, only_court)
    journal, faults = Journal(), FaultTable()
    sender = EventSender(gateway_url, event_secrets or {}, client)
    hooks = Hooks(courts, resolver, journal, faults, sender)

    routes: list[BaseRoute] = list(hooks.routes())
    if only_court is not None:
        routes += courts[only_court].routes()
    else:
        routes.append(_index(resolver, courts))
        routes += [Mount(f"/{court_slug(code)}", routes=courts[code].routes()) for code in codes]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await sender.aclose()
        await client.aclose()

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        HTTPException: _http_error, Exception: _crash}
    app = Starlette(
        routes=routes,
        middleware=[Middleware(JournalMiddleware, journal=journal, resolver=resolver),
                    Middleware(FaultMiddleware, table=faults, resolver=resolver)],
        lifespan=lifespan,
        exception_handlers=handlers,
    )
    app.state.journal = journal
    app.state.faults = faults
    app.state.courts = courts
    app.state.events = sender
    app.state.seed = data
    return app


# --- ``court-gateway reference-court --port P [--data FILE] [--gateway URL]`` ---------------------


def event_secrets_from_env(codes: list[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``COURT_YUE0106_EVENT_SECRET`` and friends, for the courts that have one set."""
    env = os.environ if environ is None else environ
    found = {code: env.get(f"COURT_{env_name_part(code)}_EVENT_SECRET", "") for code in codes}
    return {code: secret for code, secret in found.items() if secret}


def describe(seed: SeedData, root_url: str, secrets: dict[str, str], gateway_url: str | None) -> str:
    lines = [f"Reference court backend on {root_url} (data: {seed.source})"]
    for code, court in seed.courts.items():
        events = "events signed" if code in secrets and gateway_url else "no events"
        lines.append(f"  {code:<7} {court.name:<20} {court_base_url(root_url, code)}  ({len(court.cases)} cases, {events})")
    lines.append(f"  test hooks and journal: {root_url}/_ref/...")
    if gateway_url is None:
        lines.append("  no --gateway: actor tokens cannot be verified, so authenticated routes answer 401")
    else:
        lines.append(f"  trusting actor tokens signed with the keys at {gateway_url.rstrip('/')}/.well-known/jwks.json")
    return "\n".join(lines)


def run_reference_court(port: int, data: Path | None, gateway_url: str | None, host: str = "127.0.0.1") -> None:
    """Serve every court of the data file until interrupted, printing each court's base URL."""
    try:
        seed = load_seed(data) if data is not None else default_seed()
    except SeedError as error:
        raise SystemExit(f"reference-court: {error}") from None  # the file's place and problem, no traceback
    secrets = event_secrets_from_env(list(seed.courts))
    app = create_reference_court(seed, jwks_provider=None, gateway_url=gateway_url, event_secrets=secrets)
    shown = f"[{host}]" if ":" in host else host
    print(describe(seed, f"http://{shown}:{port}", secrets, gateway_url), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
