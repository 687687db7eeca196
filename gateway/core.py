"""The gateway as adapters and the canonical API see it: one object, passed in.

:class:`Gateway` wraps the pipeline with what every call gets regardless of
channel: a log line, metrics and, for case data, an audit record. Adapters
receive it through their :class:`gateway.channels.ChannelContext`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from gateway.actor import Actor, Pseudonyms
from gateway.audit import AuditRecord, AuditTrail
from gateway.calls import Call, Outcome
from gateway.case_passwords import PasswordGuard
from gateway.catalog import Access, Operation, get_operation
from gateway.errors import ErrorCode, GatewayError
from gateway.logs import get_logger, request_line
from gateway.metrics import RequestMetrics
from gateway.nonces import NonceGuard
from gateway.notify import SmsSender
from gateway.pipeline import Pipeline
from gateway.recent import RECENT
from gateway.sessions import SessionStore
from gateway.state import StateStore
from gateway.uploads import UploadSlots

_log = get_logger("court_gateway.request")
_METRICS = RequestMetrics()


class WriteListener(Protocol):
    async def write_accepted(self, call: Call, outcome: Outcome) -> None:
        """Called once per accepted write (never for a replay); must not raise for the citizen."""


def operation_or_404(op_id: str) -> Operation:
    """Unknown operation ids are NOT_FOUND (CONTRACTS.md section 3)."""
    op = get_operation(op_id)
    if op is None:
        raise GatewayError(ErrorCode.NOT_FOUND, "unknown operation")
    return op


@dataclass
class Gateway:
    pipeline: Pipeline
    sessions: SessionStore
    pseudonyms: Pseudonyms
    state: StateStore
    http: httpx.AsyncClient  # outbound integrations (identity platforms, WeChat, SMS)
    audit: AuditTrail
    #: the SMS sender of notify.sms (CONTRACTS.md section 7); None when the config has no SMS gateway
    sms: SmsSender | None = None
    #: told of every write the gateway accepted (answered or queued), e.g. to start SLA timers
    listeners: list[WriteListener] = field(default_factory=list)
    nonces: NonceGuard = field(init=False)
    #: uploads in flight per client address (gateway.uploads_per_client)
    upload_slots: UploadSlots = field(default_factory=UploadSlots)
    #: the court-wide failure budget of case query passwords (gateway.password_failures_per_court)
    passwords: PasswordGuard | None = None

    def __post_init__(self) -> None:
        self.nonces = NonceGuard(self.state)
        if self.passwords is None:
            self.passwords = PasswordGuard(self.state, per_court=30, period_s=3600, sms=self.sms, contacts={},
                                           court_names={})

    async def execute(self, call: Call) -> Outcome:
        started = time.perf_counter()
        outcome: Outcome | None = None
        error: GatewayError | None = None
        try:
            outcome = await self.pipeline.execute(call)
        except GatewayError as exc:
            error = exc
            raise
        finally:
            self._observe(call, outcome, error, time.perf_counter() - started)
        if call.operation.is_write and not outcome.replayed and self.listeners:
            await self._tell_listeners(call, outcome)
        return outcome

    async def _tell_listeners(self, call: Call, outcome: Outcome) -> None:
        for listener in self.listeners:
            try:
                await listener.write_accepted(call, outcome)
            except Exception:  # noqa: BLE001 - the citizen's write is accepted whatever a listener does
                _log.exception("write listener failed", listener=type(listener).__name__,
                               request_id=call.request_id, operation=call.operation.id)

    def _observe(self, call: Call, outcome: Outcome | None, error: GatewayError | None, elapsed: float) -> None:
        op = call.operation
        code = error.code.value if error else "OK"
        court = (outcome.court if outcome else None) or "-"
        upstream = outcome.upstream_s if outcome else 0.0
        _METRICS.observe(call.channel.name, op.id, court, code, max(0.0, elapsed - upstream), upstream)
        status = error.status if error else (outcome.status if outcome else 0)
        RECENT.add(call.request_id, call.channel.name, op.id, court, status, code, round(elapsed * 1000, 2))
        request_line({"request_id": call.request_id, "channel": call.channel.name, "operation": op.id,
                      "court": court, "status": status, "code": code, "duration_ms": round(elapsed * 1000, 2),
                      "upstream_ms": round(upstream * 1000, 2), "replayed": bool(outcome and outcome.replayed)})
        if op.access is not Access.PUBLIC:
            self._audit(call, outcome, error, court, status)

    def _audit(self, call: Call, outcome: Outcome | None, error: GatewayError | None, court: str,
               status: int) -> None:
        actor = outcome.actor if outcome else None
        sub = actor.sub if actor else getattr(call.credential, "sub", None)
        item = next((str(call.args[k]) for k in ("filing_id", "application_id", "mediation_id", "consultation_id",
                                                  "witness_id", "delivery_id", "hearing_id") if k in call.args), None)
        self.audit.record(AuditRecord(
            request_id=call.request_id, channel=call.channel.name, operation=call.operation.id, actor=sub,
            court=None if court == "-" else court, case_no=_case_no(call.args), item=item,
            result=error.code.value if error else "ok", status=status,
        ))

    async def actor_of(self, call: Call) -> Actor | None:
        return await self.pipeline.resolve_actor(call)


def _case_no(args: dict[str, Any]) -> str | None:
    value = args.get("case_no")
    return str(value)[:64] if value else None
