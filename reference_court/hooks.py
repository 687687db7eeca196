"""Test hooks at ``/_ref`` (app root): the journal, faults, and the court's side of each lifecycle.

A real court moves a filing through review, schedules hearings and answers
messages in its own case-management system; here these hooks do it, and each
change sends the matching event to the gateway (CONTRACTS.md section 5) when
the app has a gateway URL and the court an event secret. The hooks have no
authentication: serve the reference court on loopback or a test network only.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reference_court import timeutil
from reference_court.contract.case_numbers import NotACaseNumber, read_case_no
from reference_court.court import CourtService, validation_error
from reference_court.events import Emitted, EventSender
from reference_court.faults import FaultTable, parse_fault
from reference_court.fees import property_fee
from reference_court.journal import Journal
from reference_court.problems import CourtError, conflict, not_found, problem_response, validation_failed
from reference_court.routing import CourtResolver, court_slug
from reference_court.seed import ROLES, Case, Fee, Hearing, Node, Party, Person
from reference_court.store import FILING_FINAL, CourtState, Filing, Item, flow_of


class HookArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FilingAdvance(HookArgs):
    status: Literal["UNDER_REVIEW", "CORRECTION_REQUIRED", "ACCEPTED", "REJECTED", "DOCKETED", "NOT_ACCEPTED"]
    reason: Annotated[str | None, Field(max_length=500)] = None
    items: Annotated[list[str] | None, Field(max_length=50)] = None
    handler: Annotated[str | None, Field(max_length=64)] = None


class ApplicationAdvance(HookArgs):
    status: Annotated[str, Field(min_length=1, max_length=40)]
    reason: Annotated[str | None, Field(max_length=500)] = None


class HearingSchedule(HookArgs):
    at: Annotated[str, Field(min_length=10, max_length=40)]
    place: Annotated[str, Field(min_length=1, max_length=200)]
    mode: Literal["in_person", "online"]
    hearing_id: Annotated[str | None, Field(max_length=64)] = None


class Reply(HookArgs):
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    by: Annotated[str | None, Field(max_length=50)] = None


class RawEvent(HookArgs):
    type: Annotated[str, Field(min_length=1, max_length=64)]
    data: dict[str, Any]


def _events(emitted: list[Emitted]) -> list[dict[str, Any]]:
    return [{"event": e.event, "delivery": e.delivery} for e in emitted]


async def _body(request: Request, model: type[HookArgs]) -> Any:
    raw = await request.body()
    try:
        return model.model_validate(json.loads(raw or b"{}"))
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise validation_error(exc) from None
        raise validation_failed("(body)", "请求体不是合法的 JSON。") from None


# --- lifecycle changes (synchronous: they only touch state) ----------------------------------


def _new_password(state: CourtState) -> str:
    used = {p.password for c in state.cases.values() for p in c.parties if p.password}
    while True:
        candidate = f"{secrets.randbelow(900000) + 100000}"
        if candidate not in used:
            return candidate


def _party(state: CourtState, raw: dict[str, Any], role: str, *, password: bool = True) -> Party:
    person = Person(raw["name"], raw["id_type"], raw["id_number"], raw.get("kind", "person"), raw.get("phone"),
                    raw.get("license_no"))
    return Party(person, role, ROLES[role], password=_new_password(state) if password else None)


def docket(state: CourtState, filing: Filing) -> Case:
    """Make the case a docketed filing becomes: its parties get access and a query password."""
    now = timeutil.now()
    args, stamp = filing.args, timeutil.iso(now)
    parties = [_party(state, p, "plaintiff") for p in args["plaintiffs"]]
    parties += [_party(state, p, "defendant") for p in args["defendants"]]
    parties += [_party(state, p, "third_party") for p in args.get("third_parties", [])]
    if args.get("agent"):
        agent = _party(state, {**args["agent"], "kind": "person"}, "agent", password=False)
        agent.represents = parties[0].person.name
        parties.append(agent)
    case = Case(state.next_case_number(args["case_type"], now), state.code, args["case_type"], args["cause"],
                stamp, "FILED", None, parties, nodes=[Node("FILED", "立案", stamp)], amount=args.get("amount"),
                procedure="普通程序", updated_at=stamp)
    if args.get("amount"):
        fee = property_fee(Decimal(args["amount"]))
        due = (now + timedelta(days=7)).date().isoformat()
        payer = parties[0].person.name
        case.fees.append(Fee(f"FY{state.digits}-{case.case_no[1:5]}-{filing.id[-6:]}", "案件受理费", f"{fee:.2f}",
                             "ASSESSED", due, payer))
        case.nodes.append(Node("FEE_ASSESSED", "预交诉讼费", stamp))
    state.cases[case.case_no] = case
    return case


FILING_EVENTS = {
    "UNDER_REVIEW": "filing.received",
    "CORRECTION_REQUIRED": "filing.correction_required",
    "ACCEPTED": "filing.reviewed",
    "REJECTED": "filing.reviewed",
    "NOT_ACCEPTED": "filing.reviewed",
    "DOCKETED": "filing.docketed",
}


def advance_filing(state: CourtState, filing: Filing, change: FilingAdvance) -> tuple[str, dict[str, Any]]:
    if filing.status in FILING_FINAL:
        raise conflict("FILING_FINAL", f"filing is {filing.status} already")
    stamp = timeutil.iso(timeutil.now())
    data: dict[str, Any] = {"filing_id": filing.id}
    if change.status == "UNDER_REVIEW":
        data["handler"] = change.handler or f"staff-{state.digits}-lian-01"
    elif change.status == "CORRECTION_REQUIRED":
        filing.correction_items = change.items or ["请补充提交身份证明材料", "请补充提交证据清单"]
        data["items"] = filing.correction_items
    elif change.status == "DOCKETED":
        filing.case_no = docket(state, filing).case_no
        data["case_no"] = filing.case_no
    else:
        filing.reason = change.reason or ("符合立案条件" if change.status == "ACCEPTED" else "不符合起诉条件")
        data["status"] = change.status
        if change.reason:
            data["reason"] = change.reason
    filing.move(change.status, stamp, reason=change.reason, items=change.items)
    return FILING_EVENTS[change.status], data


def schedule_hearing(state: CourtState, case: Case, change: HearingSchedule) -> Hearing:
    try:
        at = timeutil.iso(timeutil.parse_iso(change.at))
    except ValueError:
        raise validation_failed("at", "expected an ISO 8601 time such as 2026-12-01T09:30:00+08:00") from None
    hearing_id = change.hearing_id or f"KT{state.digits}-{secrets.token_hex(4)}"
    room = f"ROOM-{hearing_id}" if change.mode == "online" else None
    hearing = Hearing(hearing_id, at, change.place, change.mode, "SCHEDULED", room)
    case.hearings.append(hearing)
    stamp = timeutil.iso(timeutil.now())
    case.nodes.append(Node("HEARING_SCHEDULED", "排期开庭", stamp))
    if case.stage in ("FILED", "ASSIGNED", "IN_TRIAL"):
        case.stage = "HEARING_SCHEDULED"
    case.updated_at = stamp
    return hearing


# --- the hook endpoints ------------------------------------------------------------------------


class Hooks:
    def __init__(self, courts: dict[str, CourtService], resolver: CourtResolver, journal: Journal,
                 faults: FaultTable, sender: EventSender) -> None:
        self.courts = courts
        self.resolver = resolver
        self.journal = journal
        self.faults = faults
        self.sender = sender

    def routes(self) -> list[BaseRoute]:
        table = [
            ("/_ref/journal", self.journal_get, "GET"),
            ("/_ref/journal", self.journal_clear, "DELETE"),
            ("/_ref/faults", self.faults_get, "GET"),
            ("/_ref/faults", self.faults_set, "POST"),
            ("/_ref/courts", self.courts_list, "GET"),
            ("/_ref/{slug}/records", self.records, "GET"),
            ("/_ref/{slug}/filings/{filing_id}/advance", self.filing_advance, "POST"),
            ("/_ref/{slug}/applications/{application_id}/advance", self.application_advance, "POST"),
            ("/_ref/{slug}/cases/{case_no}/hearings", self.hearing_schedule, "POST"),
            ("/_ref/{slug}/cases/{case_no}/judge-messages/{message_id}/reply", self.message_reply, "POST"),
            ("/_ref/{slug}/payments/{payment_id}/confirm", self.payment_confirm, "POST"),
            ("/_ref/{slug}/consultations/{consultation_id}/answer", self.consultation_answer, "POST"),
            ("/_ref/{slug}/events", self.raw_event, "POST"),
        ]
        return [Route(path, self._guard(endpoint), methods=[method]) for path, endpoint, method in table]

    @staticmethod
    def _guard(endpoint: Any) -> Any:
        async def guarded(request: Request) -> Response:
            try:
                response: Response = await endpoint(request)
            except CourtError as error:
                return problem_response(error, request.headers.get("x-request-id") or "ref-hook")
            return response

        return guarded

    def _court(self, request: Request) -> CourtService:
        code = self.resolver.code_for_slug(request.path_params["slug"])
        if code is None:
            raise not_found("no court with that slug")
        return self.courts[code]

    def _case(self, court: CourtService, case_no: str) -> Case:
        try:
            number = read_case_no(case_no)
        except NotACaseNumber:
            raise validation_failed("case_no", "not a case number", "INVALID_CASE_NUMBER") from None
        case = court.state.cases.get(number.text)
        if case is None:
            raise not_found("no such case at this court")
        return case

    # journal and faults

    async def journal_get(self, request: Request) -> Response:
        since = request.query_params.get("since", "0")
        court = request.query_params.get("court") or None
        entries = self.journal.entries(court, int(since) if since.isdigit() else 0)
        return JSONResponse({"entries": entries, "count": len(entries)})

    async def journal_clear(self, request: Request) -> Response:
        cleared = len(self.journal)
        self.journal.clear()
        return JSONResponse({"cleared": cleared})

    async def faults_get(self, request: Request) -> Response:
        return JSONResponse({"faults": self.faults.snapshot()})

    async def faults_set(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
            court, fault = parse_fault(body if isinstance(body, dict) else {})
        except ValueError as exc:
            raise validation_failed("(body)", str(exc)) from None
        if court is not None and court not in self.courts:
            raise validation_failed("court", f"unknown court {court}")
        self.faults.set(court, fault)
        return JSONResponse({"faults": self.faults.snapshot()})

    async def courts_list(self, request: Request) -> Response:
        items = [{"code": code, "name": svc.state.name, "slug": court_slug(code), "cases": len(svc.state.cases)}
                 for code, svc in self.courts.items()]
        return JSONResponse({"items": items})

    async def records(self, request: Request) -> Response:
        """Everything citizens created at this court, across owners (for "0 duplicated" checks)."""
        state = self._court(request).state
        kinds: dict[str, int] = {}
        for item in state.items.values():
            kinds[item.kind] = kinds.get(item.kind, 0) + 1
        return JSONResponse({
            "court": state.code,
            "filings": [f.summary() for f in state.filings.values()],
            "applications": [a.summary() for a in state.applications.values()],
            "items": kinds,
            "uploads": len(state.uploads),
            "idempotency_keys": len(state.idempotency),
        })

    # lifecycle

    async def filing_advance(self, request: Request) -> Response:
        court = self._court(request)
        change = await _body(request, FilingAdvance)
        filing = court.state.filings.get(request.path_params["filing_id"])
        if filing is None:
            raise not_found("no such filing at this court")
        event_type, data = advance_filing(court.state, filing, change)
        emitted = await self.sender.emit(event_type, court.state.code, data)
        return JSONResponse({"filing": filing.public(), "events": _events([emitted])})

    async def application_advance(self, request: Request) -> Response:
        court = self._court(request)
        change = await _body(request, ApplicationAdvance)
        application = court.state.applications.get(request.path_params["application_id"])
        if application is None:
            raise not_found("no such application at this court")
        _, allowed, final = flow_of(application.kind)
        if application.status in final:
            raise conflict("APPLICATION_FINAL", f"application is {application.status} already")
        if change.status not in allowed:
            raise validation_failed("status", f"a {application.kind} moves to one of {', '.join(sorted(allowed))}")
        application.move(change.status, timeutil.iso(timeutil.now()), reason=change.reason)
        code = court.state.code
        emitted = [await self.sender.emit("application.updated", code, {
            "application_id": application.id, "kind": application.kind, "status": application.status})]
        if application.kind == "refund" and application.status == "REFUNDED":
            emitted.append(await self.sender.emit("refund.completed", code, {
                "case_no": application.case_no, "application_id": application.id,
                "amount": application.details["amount"]}))
        return JSONResponse({"application": application.public(), "events": _events(emitted)})

    async def hearing_schedule(self, request: Request) -> Response:
        court = self._court(request)
        case = self._case(court, request.path_params["case_no"])
        hearing = schedule_hearing(court.state, case, await _body(request, HearingSchedule))
        emitted = await self.sender.emit("hearing.scheduled", court.state.code, {
            "case_no": case.case_no, "hearing_id": hearing.hearing_id, "at": hearing.at, "place": hearing.place,
            "mode": hearing.mode})
        return JSONResponse({"hearing": vars(hearing), "events": _events([emitted])})

    def _item(self, court: CourtService, kind: str, item_id: str) -> Item:
        item = court.state.item(kind, item_id)
        if item is None:
            raise not_found(f"no such {kind} at this court")
        return item

    async def message_reply(self, request: Request) -> Response:
        court = self._court(request)
        case = self._case(court, request.path_params["case_no"])
        reply = await _body(request, Reply)
        item = self._item(court, "message", request.path_params["message_id"])
        if item.case_no != case.case_no:
            raise not_found("the message belongs to another case")
        stamp = timeutil.iso(timeutil.now())
        item.fields["reply"] = {"text": reply.text, "at": stamp, "by": reply.by or case.judge or "承办法官"}
        item.move("REPLIED", stamp)
        emitted = await self.sender.emit("judge_message.replied", court.state.code,
                                         {"case_no": case.case_no, "message_id": item.id})
        return JSONResponse({"message": item.public(), "events": _events([emitted])})

    async def payment_confirm(self, request: Request) -> Response:
        court = self._court(request)
        item = self._item(court, "payment", request.path_params["payment_id"])
        if item.status != "PENDING":
            raise conflict("PAYMENT_FINAL", f"payment is {item.status} already")
        stamp = timeutil.iso(timeutil.now())
        item.move("PAID", stamp)
        case = court.state.cases.get(item.case_no or "")
        if case is not None:
            for fee in case.fees:
                if fee.fee_id == item.fields["fee_id"]:
                    fee.status = "PAID"
            case.nodes.append(Node("FEE_PAID", "诉讼费已交纳", stamp))
            case.updated_at = stamp
        emitted = await self.sender.emit("payment.confirmed", court.state.code, {
            "case_no": item.case_no, "payment_id": item.id, "amount": item.fields["amount"]})
        return JSONResponse({"payment": item.public(), "events": _events([emitted])})

    async def consultation_answer(self, request: Request) -> Response:
        court = self._court(request)
        answer = await _body(request, Reply)
        item = self._item(court, "consultation", request.path_params["consultation_id"])
        stamp = timeutil.iso(timeutil.now())
        item.fields["answer"] = {"text": answer.text, "at": stamp, "by": answer.by or "12368热线"}
        item.move("ANSWERED", stamp)
        # Not a type of CONTRACTS.md section 5: the gateway accepts and logs unknown types.
        emitted = await self.sender.emit("consultation.answered", court.state.code, {"consultation_id": item.id})
        return JSONResponse({"consultation": item.public(), "events": _events([emitted])})

    async def raw_event(self, request: Request) -> Response:
        court = self._court(request)
        raw = await _body(request, RawEvent)
        emitted = await self.sender.emit(raw.type, court.state.code, raw.data)
        return JSONResponse({"events": _events([emitted])})
