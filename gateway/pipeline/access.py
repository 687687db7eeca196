"""Who may make a call: the assurance it needs, and access to what it touches (the person
themselves, their own items, or a case they are a participant of, as the court says)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gateway.actor import Actor
from gateway.catalog import Access, Operation, assurance_at_least
from gateway.court_client import CourtUnreachable, court_failed, is_success, map_court_error
from gateway.errors import ErrorCode, FieldError, GatewayError
from gateway.pipeline.court_calls import CourtCalls
from gateway.pipeline.hot_path import participant_key
from gateway.pipeline.owned import OwnRecords
from gateway.pipeline.routing import Target
from gateway.pipeline.unavailable import court_failed_now, not_taken, unreachable
from gateway.resilience.outbox import NotTaken
from gateway.state import StateStore, StateUnavailable

PARTICIPANT_TTL_S = 120  # "cached briefly": a party who leaves the case loses access within two minutes
NON_PARTICIPANT_TTL_S = 30


def check_assurance(op: Operation, actor: Actor | None) -> None:
    if not op.needs_actor:
        return
    if actor is None:
        raise GatewayError(ErrorCode.UNAUTHENTICATED, "this operation needs a signed-in person")
    if not assurance_at_least(actor.assurance, op.assurance):
        raise GatewayError(ErrorCode.ASSURANCE_TOO_LOW, f"{op.id} needs assurance {op.assurance}",
                           extra={"required_assurance": op.assurance})


@dataclass
class AccessChecks:
    state: StateStore
    court_calls: CourtCalls
    owned: OwnRecords

    async def check(
        self, op: Operation, actor: Actor | None, args: dict[str, Any], target: Target, cached: bool | None,
        request_id: str,
    ) -> bool:
        """Raises NOT_FOUND for someone who may not; True when a write's participant check had to
        wait for the court (it is then made before delivery, and the court sees nothing before)."""
        if actor is not None and actor.case_scope is not None:
            _check_case_scope(op, actor, target)
        deferred = False
        if op.access is Access.SELF:
            assert actor is not None
            _check_self(op, actor, args)
            await self._check_documents(actor, args, target)
        elif op.access is Access.OWN and op.owned_by:
            assert actor is not None
            court = await self.owned.owner_court(op.owned_by, args[op.owned_by], actor)
            target.courts = [court]
        elif op.access is Access.PARTICIPANT:
            assert actor is not None and target.case is not None
            deferred = await self._check_participant(actor, target, cached, request_id, op.is_write)
            await self._check_documents(actor, args, target)
        return deferred

    async def _check_documents(self, actor: Actor, args: dict[str, Any], target: Target) -> None:
        """Documents must be this person's uploads to this court: another person's upload id is NOT_FOUND."""
        for document in args.get("documents") or []:
            court = await self.owned.owner_court("upload_id", document["upload_id"], actor)
            if court != target.court:
                raise GatewayError(ErrorCode.NOT_FOUND, "upload not found at this court")

    async def _check_participant(self, actor: Actor, target: Target, cached: bool | None, request_id: str,
                                 write: bool) -> bool:
        assert target.case is not None
        allowed = cached
        if allowed is None:
            try:
                allowed = await self.ask_court(actor, target.court, target.case.text, request_id)
            except NotTaken as refused_now:
                if write:
                    return True  # queued: the check is made before delivery, the court sees nothing before
                raise unreachable(refused_now) from None
        if not allowed:
            # Identical to a case that does not exist: no enumeration (DOMAIN.md section 6).
            raise GatewayError(ErrorCode.NOT_FOUND, "not found")
        return False

    async def ask_court(self, actor: Actor, court: str, case_no: str, request_id: str) -> bool:
        """Whether the court lists the actor on the case, remembered briefly; NotTaken when the
        court gave no usable answer."""
        path = f"/api/v1/cases/{quote(case_no, safe='')}/access"
        try:
            response = await self.court_calls.send(court, "GET", path, actor, request_id, mode="read")
        except CourtUnreachable as exc:
            raise not_taken(exc) from None
        if response.status == 404:
            allowed = False
        elif is_success(response):
            allowed = True
        elif court_failed(response):
            raise court_failed_now(response)
        else:
            raise map_court_error(response)
        key = participant_key(court, actor.sub, case_no)
        try:
            await self.state.set(key, b"1" if allowed else b"0", PARTICIPANT_TTL_S if allowed else NON_PARTICIPANT_TTL_S)
        except StateUnavailable:
            pass  # the cache is an optimisation; the court answered
        return allowed


def _check_self(op: Operation, actor: Actor, args: dict[str, Any]) -> None:
    """"self": a filing's plaintiffs or their agent, a mediation's applicants, include the actor."""
    people: list[dict[str, Any]] = []
    for group in ("plaintiffs", "applicants"):
        people.extend(args.get(group) or [])
    if op.id == "filings.submit" and args.get("agent"):
        people.append(args["agent"])
    if not people:
        return
    if not any(p.get("id_number") == actor.id_number and p.get("id_type", "ID_CARD") == actor.id_type
               for p in people):
        field_name = "plaintiffs" if "plaintiffs" in args else "applicants"
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "the signed-in person must be a party or the agent",
                           [FieldError(field_name, "提交人须为本案当事人或其委托代理人。")])


def _check_case_scope(op: Operation, actor: Actor, target: Target) -> None:
    """A hotline caller verified by a case query password may touch that one case only."""
    if op.access is not Access.PARTICIPANT or target.case is None or target.case.text != actor.case_scope:
        raise GatewayError(ErrorCode.NOT_FOUND, "outside the verified case")
