"""Items without a case: pre-litigation mediation, 12368 consultations, remote witnessing."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from reference_court import timeutil
from reference_court.context import OpContext, Outcome, parse_number
from reference_court.contract import shapes as m
from reference_court.problems import validation_failed
from reference_court.store import Item, Owner

MEDIATION_DAYS = 30  # online mediation rules: 30 days, extendable by agreement
CONSULTATION_WORKDAYS = 2  # Guangdong 12368 norm
WITNESS_HORIZON = timedelta(days=60)


def _new(ctx: OpContext, kind: str, prefix: str, status: str, fields: dict[str, Any],
         case_no: str | None = None) -> Item:
    item = Item(ctx.state.new_id(prefix), Owner.of(ctx.actor), status, ctx.stamp, court=ctx.state.code,
                kind=kind, case_no=case_no, fields=fields)
    item.move(status, ctx.stamp)
    return ctx.state.add_item(item)


def mediations_apply(ctx: OpContext, args: m.MediationArgs) -> Outcome:
    ctx.same_court(args.court)
    identity = ctx.require_identity("申请诉前调解")
    if identity not in [(p.id_type, p.id_number) for p in args.applicants] \
            and not any(p.kind == "organisation" for p in args.applicants):
        raise validation_failed("applicants", "申请人须包含本人。")
    due = timeutil.add_calendar_days(ctx.now.date(), MEDIATION_DAYS)
    item = _new(ctx, "mediation", "TJ", "APPLIED", {
        "dispute": args.dispute,
        "applicants": [p.name for p in args.applicants],
        "respondents": [p.name for p in args.respondents],
        "amount": args.amount,
        "submitted_at": ctx.stamp,
        "due": timeutil.end_of_day(due.day),
    })
    return Outcome({"mediation_id": item.id, "status": item.status, "submitted_at": ctx.stamp,
                    "due": item.fields["due"]})


def mediations_get(ctx: OpContext, args: m.MediationIdArgs) -> Outcome:
    return Outcome(ctx.own_item("mediation", args.mediation_id).public())


def consultations_create(ctx: OpContext, args: m.ConsultationArgs) -> Outcome:
    ctx.same_court(args.court)
    case_no = parse_number(args.case_no).text if args.case_no is not None else None
    due = timeutil.add_working_days(ctx.now.date(), CONSULTATION_WORKDAYS)
    item = _new(ctx, "consultation", "ZX", "RECEIVED", {
        "topic": args.topic,
        "question": args.question,
        "callback_phone": args.callback_phone,
        "submitted_at": ctx.stamp,
        "answer_due": timeutil.end_of_day(due.day),
        "answer": None,
    }, case_no)
    body: dict[str, Any] = {"consultation_id": item.id, "status": item.status, "submitted_at": ctx.stamp,
                            "answer_due": item.fields["answer_due"]}
    if due.provisional:
        body["answer_due_provisional"] = True
    return Outcome(body)


def consultations_get(ctx: OpContext, args: m.ConsultationIdArgs) -> Outcome:
    item = ctx.own_item("consultation", args.consultation_id)
    public = item.public()
    public.pop("callback_phone", None)
    return Outcome(public)


def _slot(ctx: OpContext, preferred: str | None) -> str:
    """The appointment: the preferred time if it is a real future time within 60 days, else 10:00 next working day."""
    if preferred is not None:
        try:
            moment = timeutil.parse_iso(preferred)
        except ValueError:
            raise validation_failed("preferred_at", "预约时间格式应为 2026-03-02T10:00:00+08:00。") from None
        if not ctx.now < moment <= ctx.now + WITNESS_HORIZON:
            raise validation_failed("preferred_at", "预约时间须在今后60天之内。")
        return timeutil.iso(moment)
    day = timeutil.add_working_days(ctx.now.date(), 1).day
    return timeutil.iso(timeutil.at(day, time(10, 0)))


def witness_book(ctx: OpContext, args: m.WitnessArgs) -> Outcome:
    ctx.same_court(args.court)
    ctx.require_identity("远程授权见证")
    ctx.require_l3("远程授权见证")
    case_no = parse_number(args.case_no).text if args.case_no is not None else None
    at = _slot(ctx, args.preferred_at)
    item = _new(ctx, "witness", "JZ", "BOOKED", {
        "at": at,
        "agent": {"name": args.agent.name, "license_no": args.agent.license_no},
        "scope": args.scope,
        "place": "远程视频见证（由法官通过诉讼服务平台视频连线）",
    }, case_no)
    return Outcome({"witness_id": item.id, "status": item.status, "at": at, "place": item.fields["place"]})


def witness_get(ctx: OpContext, args: m.WitnessIdArgs) -> Outcome:
    return Outcome(ctx.own_item("witness", args.witness_id).public())
