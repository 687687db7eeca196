"""The one composition root: config in, ASGI app out.

:class:`Runtime` is everything built from one config (courts, adapters,
pipeline, routes). :class:`GatewayHost` is the ASGI app servers run: it owns
the long-lived resources (state store, outbound HTTP client), starts a
runtime, and on reload builds and starts a new runtime from the new config,
swaps it in atomically and retires the old one after in-flight requests have
had time to finish. A config that fails validation never replaces a working
one.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from gateway import tracing
from gateway.actor import Pseudonyms
from gateway.api import CanonicalApi, json_response, problem_response
from gateway.audit import AuditTrail
from gateway.background import BackgroundJob, JobRunner
from gateway.calls import ChannelPolicy, RateLimit
from gateway.case_passwords import PasswordGuard
from gateway.channels import Adapter, ChannelContext, discover_adapters
from gateway.config import ConfigError, ConfigProblem, CourtSettings, GatewayConfig, StaffRole, load_config
from gateway.console import console_routes
from gateway.core import Gateway
from gateway.court_client import CourtTransport, TransportSettings
from gateway.dispatch import ShortWays
from gateway.errors import ErrorCode, GatewayError
from gateway.http_io import request_id_for
from gateway.http_limits import REFUSAL_BODY, head_too_large
from gateway.issuers import API_CHANNEL, IssuerVerifier, TrustedIssuer
from gateway.logs import STDOUT, get_logger
from gateway.metrics import CONFIG_RELOADS, COURT_UP, STATE_UP, render
from gateway.notify import SmsSender
from gateway.openapi import openapi_document
from gateway.pipeline import CourtDirectory, Pipeline
from gateway.resilience import Deliverer
from gateway.resilience.follow import following
from gateway.sessions import SessionStore
from gateway.sla.service import SlaService
from gateway.state import StateStore, open_state, settings_from
from gateway.state.checks import check_state
from gateway.tokens import ActorTokenSigner, SessionTokens
from gateway.uploads import UploadSlots

_log = get_logger("court_gateway.app")
RETIRE_AFTER_S = 30.0  # in-flight requests on a replaced runtime get this long to finish
HEALTH_INTERVAL_S = 15.0
YOUNG_GC_THRESHOLD = 20_000  # CPython's default is 700 allocations


@dataclass
class HostOptions:
    """What tests and ``demo`` may inject instead of what the config says."""

    state: StateStore | None = None
    adapters: Mapping[str, type[Adapter]] | None = None
    http: httpx.AsyncClient | None = None
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)  # per channel name
    health_checks: bool = True
    #: run the background jobs (timers, deliveries) in this process; ``serve --no-worker`` turns it off
    background: bool = True
    #: routes served before the gateway's own (``demo``: the channel simulator under /console/simulator)
    extra_routes: list[BaseRoute] = field(default_factory=list)
    #: the port of the operations listener (CONTRACTS.md section 6): requests arriving on it see
    #: /healthz, /readyz and /metrics only, and the public listeners answer 404 for the last two
    ops_port: int | None = None
    #: move what start-up built out of the garbage collector's reach (``serve``: see :meth:`GatewayHost.start`)
    freeze_heap: bool = False


def channel_policy(name: str, settings: Any) -> ChannelPolicy:
    services = tuple(settings.services)
    limits = settings.rate_limits
    return ChannelPolicy(
        name=name,
        services=None if "*" in services else frozenset(services),
        per_actor=RateLimit(limits.per_actor.count, limits.per_actor.period_s),
        per_channel=RateLimit(limits.per_channel.count, limits.per_channel.period_s),
    )


def _all_contacts(court: CourtSettings) -> tuple[str, ...]:
    """Every staff phone a court configured: who hears that its case query passwords paused."""
    roles: tuple[StaffRole, ...] = ("division_head", "vice_president", "president")
    return tuple(dict.fromkeys(phone for role in roles for phone in court.contacts.phones(role)))


def _transports(config: GatewayConfig) -> dict[str, CourtTransport]:
    transports = {}
    for code, court in config.courts.items():
        if not court.enabled:
            continue
        settings = TransportSettings(
            timeout_s=court.timeout_s, connect_timeout_s=court.connect_timeout_s,
            ca_file=str(court.ca_file) if court.ca_file else None,
            client_cert_file=str(court.client_cert_file) if court.client_cert_file else None,
            client_key_file=str(court.client_key_file) if court.client_key_file else None,
        )
        transports[code] = CourtTransport(court.base_url, settings)
    return transports


class Runtime:
    """Everything built from one config; immutable once started."""

    def __init__(self, config: GatewayConfig, state: StateStore, http: httpx.AsyncClient, audit: AuditTrail,
                 adapters: Mapping[str, type[Adapter]], extras: Mapping[str, dict[str, Any]],
                 extra_routes: list[BaseRoute] | None = None, ops_listener: bool = False) -> None:
        self.config = config
        self._extra_routes = extra_routes or []
        self.transports = _transports(config)
        courts = CourtDirectory(
            names={code: config.courts[code].name for code in self.transports},
            transports=self.transports, default_court=config.default_court,
        )
        gw = config.gateway
        self.signer = ActorTokenSigner(gw.signing_key.value, [k.value for k in gw.previous_signing_keys_env])
        pipeline = Pipeline(state, courts, self.signer)
        pseudonyms = Pseudonyms(gw.pseudonym_key)
        sessions = SessionStore(state, SessionTokens(gw.secret.value_bytes), pipeline.sessions)
        sms = SmsSender(config.notify.sms, state, http) if config.notify.sms is not None else None
        budget = gw.password_failures_per_court
        passwords = PasswordGuard(state, per_court=budget.count, period_s=budget.period_s, sms=sms,
                                  contacts={code: _all_contacts(court) for code, court in config.courts.items()},
                                  court_names={code: court.name for code, court in config.courts.items()})
        self.gateway = Gateway(pipeline, sessions, pseudonyms, state, http, audit, sms,
                               upload_slots=UploadSlots(gw.uploads_per_client), passwords=passwords)
        self.audit = audit
        self.sla = SlaService(config, state, sms)
        self.gateway.listeners.extend(self.sla.listeners)
        issuers = [TrustedIssuer(i.issuer, i.audience, str(i.jwks_url), tuple(i.algorithms), i.staff_roles_claim)
                   for i in gw.trusted_issuers]
        limits = gw.api_rate_limits
        api_policy = ChannelPolicy(API_CHANNEL, None, RateLimit(limits.per_actor.count, limits.per_actor.period_s),
                                   RateLimit(limits.per_channel.count, limits.per_channel.period_s))
        self.api = CanonicalApi(self.gateway, IssuerVerifier(issuers, pseudonyms, http), api_policy)
        self.adapters = self._adapters(adapters, extras)
        self.court_up: dict[str, bool | None] = {code: None for code in self.transports}
        self.jobs: list[BackgroundJob] = self._jobs()
        handlers = {HTTPException: _http_exception}
        ops_routes = self._ops_routes()
        self._channel_routes = {name: adapter.routes() for name, adapter in self.adapters.items()}
        self.app = Starlette(routes=self._routes(None if ops_listener else ops_routes), exception_handlers=handlers)
        #: ``app_for(path)``: the app of only the routes that can answer a path, as ``self.app`` would
        self.app_for = ShortWays(self.app, self._channel_routes, handlers).app_for
        #: what the operations listener serves (the public app when there is no such listener)
        self.ops_app = Starlette(routes=ops_routes, exception_handlers=handlers) if ops_listener else self.app

    def _jobs(self) -> list[BackgroundJob]:
        """The background work this config needs (see gateway/background.py)."""
        deliverer = Deliverer(self.gateway.pipeline, list(self.transports), notify=following(self.sla.notify_routes))
        return [*self.sla.jobs(self.adapters), deliverer]

    def _adapters(self, registry: Mapping[str, type[Adapter]], extras: Mapping[str, dict[str, Any]]
                  ) -> dict[str, Adapter]:
        built = {}
        for name, settings in self.config.channels.items():
            if not settings.enabled:
                continue
            adapter_cls = registry[settings.adapter or name]
            context = ChannelContext(name, settings, channel_policy(name, settings), self.gateway,
                                     dict(extras.get(name, {})))
            built[name] = adapter_cls(context)
        return built

    def _ops_routes(self) -> list[BaseRoute]:
        return [Route("/healthz", _healthz, methods=["GET"]), Route("/readyz", self._readyz, methods=["GET"]),
                Route("/metrics", _metrics, methods=["GET"])]

    def _routes(self, ops_routes: list[BaseRoute] | None) -> list[BaseRoute]:
        """The public routes; /readyz and /metrics among them only without an operations listener."""
        routes: list[BaseRoute] = [
            *self._extra_routes,
            *console_routes(self),
            *(ops_routes or [Route("/healthz", _healthz, methods=["GET"])]),
            Route("/.well-known/jwks.json", self._jwks, methods=["GET"]),
            *self.sla.http_routes(self.api, self.audit),
            # Two levels, so a request is matched against a handful of prefixes, not every route.
            Mount("/api/v1", routes=[Route("/openapi.json", _openapi, methods=["GET"]), *self.api.routes()]),
            Mount("/channels", routes=[Mount(f"/{name}", routes=routes)
                                       for name, routes in self._channel_routes.items()]),
        ]
        return routes

    async def start(self) -> None:
        for adapter in self.adapters.values():
            await adapter.startup()

    async def stop(self) -> None:
        for adapter in self.adapters.values():
            await adapter.shutdown()
        for transport in self.transports.values():
            await transport.close()

    async def check_courts(self) -> None:
        async def one(code: str, transport: CourtTransport) -> None:
            try:
                answer = await transport.request("GET", "/api/v1/health", headers={})
                up = answer.status == 200
            except Exception:  # noqa: BLE001 - any failure means "not up"
                up = False
            self.court_up[code] = up
            COURT_UP.labels(code).set(1 if up else 0)

        await asyncio.gather(*(one(c, t) for c, t in self.transports.items()))

    async def _readyz(self, request: Request) -> Response:
        state_up = await self.gateway.state.ping()
        STATE_UP.set(1 if state_up else 0)
        courts = {code: ("up" if up else "unknown" if up is None else "down") for code, up in self.court_up.items()}
        # One court or Redis being down must not take every instance out of a load balancer:
        # readiness is about this process; the parts are reported in the body and in /metrics.
        problem = {} if state_up else {"state_problem": self.gateway.state.problem or "unreachable"}
        return json_response({"status": "ready", "state": "up" if state_up else "down", **problem,
                              "courts": courts, "sla": self.sla.readiness(), **self._resilience()})

    def _resilience(self) -> dict[str, Any]:
        """Each court's breaker in this process, and what runs on a per-process fallback right now."""
        pipeline = self.gateway.pipeline
        fallbacks = {"rate_limits": pipeline.degraded, "sessions": pipeline.degraded,
                     "nonces": self.gateway.nonces.degraded}
        breakers = pipeline.resilience.states() if pipeline.resilience is not None else {}
        return {"breakers": breakers, "degraded": [part for part, on in fallbacks.items() if on]}

    async def _jwks(self, request: Request) -> Response:
        response = json_response(self.signer.jwks())
        response.headers["Cache-Control"] = "public, max-age=300"
        return response


async def _healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def _metrics(request: Request) -> Response:
    return Response(render(), media_type="text/plain; version=0.0.4; charset=utf-8")


async def _openapi(request: Request) -> Response:
    return json_response(openapi_document())


async def _http_exception(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    code = ErrorCode.NOT_FOUND if status in (404, 405) else ErrorCode.VALIDATION_FAILED
    detail = "no such route" if status == 404 else "method not allowed" if status == 405 else "bad request"
    return problem_response(GatewayError(code, detail), request_id_for(request))


class GatewayHost:
    """The ASGI application: owns shared resources, serves the current runtime, reloads atomically."""

    def __init__(self, config: GatewayConfig, options: HostOptions | None = None) -> None:
        self.options = options or HostOptions()
        self.config = config
        self.runtime: Runtime | None = None
        self._state: StateStore | None = None
        self._http: httpx.AsyncClient | None = None
        self._audit: AuditTrail | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._jobs: JobRunner | None = None
        self._reload_lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        runtime = self.runtime
        if runtime is None:
            response = JSONResponse({"status": "starting"}, status_code=503)
            await response(scope, receive, send)
            return
        ops_port = self.options.ops_port
        if ops_port is not None and scope.get("server", (None, None))[1] == ops_port:
            await runtime.ops_app(scope, receive, send)
            return
        if head_too_large(scope):
            await _refuse_head(scope, receive, send)
            return
        tracing.remember(scope)
        await runtime.app_for(scope["path"])(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:  # noqa: BLE001 - reported to the server, which refuses to start
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def start(self) -> None:
        self._state = self.options.state or open_state(settings_from(self.config.gateway))
        await check_state(self._state)
        self._http = self.options.http or httpx.AsyncClient(follow_redirects=False, timeout=10.0)
        audit_path = self.config.gateway.audit_log_path
        self._audit = AuditTrail(str(audit_path) if audit_path else "stdout")
        self.runtime = await self._build(self.config)
        self._start_jobs(self.runtime)
        if self.options.freeze_heap:
            # Everything built so far (config, routes, models, libraries) lives as long as the process;
            # without this every full collection walks it again, a cost each request shares (bench/).
            gc.collect()
            gc.freeze()
            # A request allocates a few hundred containers, most gone when it ends: collect the young
            # generation every few dozen requests rather than every one or two.
            gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
        if self.options.health_checks:
            self._tasks.append(asyncio.create_task(self._health_loop()))

    async def _build(self, config: GatewayConfig) -> Runtime:
        assert self._state and self._http and self._audit
        adapters = self.options.adapters if self.options.adapters is not None else discover_adapters()
        runtime = Runtime(config, self._state, self._http, self._audit, adapters, self.options.extras,
                          self.options.extra_routes, ops_listener=self.options.ops_port is not None)
        await runtime.start()
        return runtime

    def _start_jobs(self, runtime: Runtime) -> None:
        if self.options.background:
            self._jobs = JobRunner(runtime.jobs)
            self._jobs.start()

    async def stop(self) -> None:
        if self._jobs is not None:
            await self._jobs.stop()
        for task in self._tasks:
            task.cancel()
        if self.runtime:
            await self.runtime.stop()
        if self._http and self.options.http is None:
            await self._http.aclose()
        if self._state and self.options.state is None:
            await self._state.close()
        if self._audit:
            self._audit.close()
        STDOUT.flush()

    async def reload(self, path: Path, env: Mapping[str, str] | None = None) -> bool:
        """Validate, build, swap; on any problem keep serving the old config and say why."""
        async with self._reload_lock:
            if self._audit is not None:
                self._audit.reopen()  # logrotate moved the file away, then sent SIGHUP: whatever the config says
            try:
                config = load_config(path, env=env, adapters=self.options.adapters or discover_adapters())
                if settings_from(config.gateway) != settings_from(self.config.gateway):
                    raise ConfigError([ConfigProblem(path, 1, "gateway.state",
                                                     "the state store cannot change on reload; restart instead")])
                fresh = await self._build(config)
            except ConfigError as exc:
                CONFIG_RELOADS.labels("rejected").inc()
                _log.error("config reload rejected; keeping the running config",
                           problems=[str(p) for p in exc.problems])
                return False
            old, self.runtime, self.config = self.runtime, fresh, config
            if self._jobs is not None:
                await self._jobs.stop()
            self._start_jobs(fresh)
            CONFIG_RELOADS.labels("applied").inc()
            _log.info("config reloaded", channels=sorted(config.channels), courts=len(config.courts))
            if old is not None:
                self._tasks.append(asyncio.create_task(_retire(old)))
            return True

    async def _health_loop(self) -> None:
        while True:
            runtime = self.runtime
            if runtime is not None:
                await runtime.check_courts()
                STATE_UP.set(1 if await runtime.gateway.state.ping() else 0)
            await asyncio.sleep(HEALTH_INTERVAL_S)


async def _refuse_head(scope: Scope, receive: Receive, send: Send) -> None:
    response = Response(REFUSAL_BODY, status_code=431, media_type="application/problem+json",
                        headers={"Connection": "close"})
    await response(scope, receive, send)


async def _retire(runtime: Runtime) -> None:
    await asyncio.sleep(RETIRE_AFTER_S)
    await runtime.stop()


def create_app(config: GatewayConfig, options: HostOptions | None = None) -> GatewayHost:
    return GatewayHost(config, options)


__all__ = ["GatewayHost", "HostOptions", "Runtime", "create_app"]
