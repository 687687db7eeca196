"""The pipeline: the steps of gateway/pipeline/, in their order, for every call."""

from __future__ import annotations

import time
from typing import Any

from gateway.actor import Actor
from gateway.calls import Call, Outcome
from gateway.catalog import Routing
from gateway.court_client import CourtResponse
from gateway.errors import ErrorCode, GatewayError
from gateway.idempotency import IdempotencyStore
from gateway.pipeline.access import AccessChecks, check_assurance
from gateway.pipeline.answers import court_answer
from gateway.pipeline.arguments import validate_args, warn_of_manual_review
from gateway.pipeline.court_calls import CourtCalls
from gateway.pipeline.fan_out import fan_out
from gateway.pipeline.hot_path import StateRoundTrip
from gateway.pipeline.local_ops import answer_locally
from gateway.pipeline.owned import OWN_RECORD_TTL_S, OwnRecords, own_record
from gateway.pipeline.routing import CourtDirectory, Target, route
from gateway.pipeline.writes import Writes
from gateway.resilience.guard import Resilience
from gateway.resilience.local_limits import LocalLimiter, SessionCache
from gateway.resilience.outbox import Outbox, QueuedWrite, Record, open_outbox
from gateway.state import StateStore
from gateway.tokens import ActorTokenSigner


class Pipeline:
    def __init__(self, state: StateStore, courts: CourtDirectory, signer: ActorTokenSigner,
                 resilience: Resilience | None = None, outbox: Outbox | None = None) -> None:
        """``resilience``: breakers and retry budgets per court (built from ``courts`` unless given);
        ``outbox``: where writes the court cannot take now wait (in ``state`` unless given)."""
        self.state = state
        self.courts = courts
        self.signer = signer
        self.resilience = resilience or Resilience(courts.transports, state)
        self.idempotency = IdempotencyStore(state)
        self.round_trip = StateRoundTrip(state)
        self.owned = OwnRecords(state)
        self.court_calls = CourtCalls(courts, signer, self.resilience)
        self.access = AccessChecks(state, self.court_calls, self.owned)
        self.writes = Writes(self.idempotency, outbox or open_outbox(state), self.court_calls, self.access,
                             self.owned)

    @property
    def outbox(self) -> Outbox:
        return self.writes.outbox

    @outbox.setter
    def outbox(self, outbox: Outbox) -> None:
        self.writes.outbox = outbox

    @property
    def local_limits(self) -> LocalLimiter:
        return self.round_trip.local_limits

    @property
    def sessions(self) -> SessionCache:
        return self.round_trip.sessions

    @property
    def degraded(self) -> bool:
        """True while reads run on this process's fallbacks (the state store was unreachable)."""
        return self.round_trip.degraded

    # --- the one path ---------------------------------------------------------------------------

    async def execute(self, call: Call) -> Outcome:
        op = call.operation
        if not call.channel.offers(op.id):
            raise GatewayError(ErrorCode.SERVICE_NOT_ENABLED, f"{op.id} is not offered on this channel")
        args = validate_args(op, call.args)
        warn_of_manual_review(op, args, call.request_id)
        target = route(op, args, self.courts)
        actor, rate, participant = await self.round_trip.read(call, target)
        check_assurance(op, actor)
        deferred = await self.access.check(op, actor, args, target, participant, call.request_id)
        if op.is_write:
            outcome = await self.writes.write(call, actor, args, target, deferred)
        else:
            outcome = await self._read(call, actor, args, target)
        outcome.rate, outcome.actor = rate, actor
        outcome.court = outcome.court or (target.courts[0] if len(target.courts) == 1 else None)
        return outcome

    async def resolve_actor(self, call: Call) -> Actor | None:
        """The actor behind a credential, for routes outside the catalog (logout, uploads)."""
        actor, _, _ = await self.round_trip.read(call, Target([]))
        return actor

    async def _read(self, call: Call, actor: Actor | None, args: dict[str, Any], target: Target) -> Outcome:
        op = call.operation
        if op.routing is Routing.LOCAL:
            return await answer_locally(op, actor, args, self.courts, self.state, self.owned)
        if op.routing is Routing.FAN_OUT:
            async def read_one(court: str, court_args: dict[str, Any]) -> Any:
                response = await self.court_calls.read(op, actor, court_args, Target([court]), call.request_id)
                return court_answer(op, response)

            return await fan_out(target.courts, args, read_one)
        started = time.perf_counter()
        response = await self.court_calls.read(op, actor, args, target, call.request_id)
        upstream = time.perf_counter() - started
        return Outcome(court_answer(op, response), op.success_status, court=target.court, upstream_s=upstream)

    # --- for the rest of the gateway --------------------------------------------------------------

    async def deliver(self, write: QueuedWrite) -> Any:
        """A queued write sent again (see ``Writes.deliver``)."""
        return await self.writes.deliver(write)

    async def owner_court(self, kind: str, item_id: str, actor: Actor) -> str:
        """The court of an item this actor created; NOT_FOUND otherwise, without asking any court."""
        return await self.owned.owner_court(kind, item_id, actor)

    async def remember_own(self, kind: str, item_id: str, court: str, sub: str, ttl_s: float = OWN_RECORD_TTL_S) -> None:
        await self.owned.remember(kind, item_id, court, sub, ttl_s)

    @staticmethod
    def own_record(kind: str, item_id: str, court: str, sub: str, ttl_s: float = OWN_RECORD_TTL_S) -> Record:
        """The record that makes an item this person's own (OWN access), to store with other records."""
        return own_record(kind, item_id, court, sub, ttl_s)

    async def court_post(self, court: str, path: str, actor: Actor | None, request_id: str,
                         body: dict[str, Any]) -> CourtResponse:
        """POST a JSON body to a court route outside the catalog (see ``CourtCalls.post``)."""
        return await self.court_calls.post(court, path, actor, request_id, body)
