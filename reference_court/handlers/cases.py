"""Participant operations on a case: progress, materials, payments, hearings, judge messages.

Process information goes to parties, legal representatives, agents and
defenders only (SPC provisions on process disclosure, 2018); everybody else
gets ``NOT_FOUND``, the same answer as for a case that does not exist.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import Field

from reference_court import timeutil
from reference_court.context import OpContext, Outcome, page
from reference_court.contract import shapes as m
from reference_court.contract.case_numbers import read_case_no
from reference_court.problems import CourtError, conflict, not_found
from reference_court.seed import STAGES, Case, Fee, Hearing, Party
from reference_court.store import Item, Owner

#: hearings that can still happen (DOMAIN.md section 4, hearing lifecycle)
OPEN_HEARINGS = frozenset({"SCHEDULED", "NOTIFIED", "CHECKED_IN", "IN_SESSION"})
#: how long after its start an online hearing's room stays open to join
JOIN_WINDOW = timedelta(hours=4)


class PasswordArgs(m.Args):
    password: Annotated[str, Field(pattern=r"^\d{6}$")]
    caller: Annotated[str | None, Field(max_length=32)] = None
    serial: Annotated[str, Field(pattern=r"^\d{1,8}$", description="the case's serial number: the digits before 号")]


# --- reading a case --------------------------------------------------------------------------


def next_hearing(case: Case, ctx: OpContext) -> dict[str, Any] | None:
    upcoming = [h for h in case.hearings if h.status in OPEN_HEARINGS and timeutil.parse_iso(h.at) >= ctx.now]
    if not upcoming:
        return None
    first = min(upcoming, key=lambda h: timeutil.parse_iso(h.at))
    return {"hearing_id": first.hearing_id, "at": first.at, "place": first.place, "mode": first.mode}


def progress_body(case: Case, party: Party, ctx: OpContext) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case_no": case.case_no,
        "court": ctx.state.code,
        "court_name": ctx.state.name,
        "cause": case.cause,
        "stage": case.stage,
        "stage_label": STAGES[case.stage],
        "filed_at": case.filed_at,
        "judge": case.judge,
        "nodes": [{"code": n.code, "label": n.label, "at": n.at} for n in case.nodes],
        "next_hearing": next_hearing(case, ctx),
        "updated_at": case.updated_at,
        # Disclosed to participants by the SPC provisions (parties, panel, procedure, outcome):
        "case_type": case.case_type,
        "procedure": case.procedure,
        "clerk": case.clerk,
        "your_role": party.role,
        "parties": [{"name": p.person.name, "role": p.role, "role_label": p.role_label}
                    for p in case.parties if not p.left],
    }
    if case.judgment is not None:
        j = case.judgment
        body["judgment"] = {"kind": j.kind, "document": j.document, "pronounced_at": j.pronounced_at,
                            "served_at": j.served_at, "effective_at": j.effective_at}
    return body


def cases_list(ctx: OpContext, args: m.Page) -> Outcome:
    ctx.same_court(args.court)
    mine = sorted(ctx.state.cases_of(ctx.actor), key=lambda cp: timeutil.parse_iso(cp[0].filed_at), reverse=True)
    items = [{"case_no": c.case_no, "court": ctx.state.code, "court_name": ctx.state.name, "cause": c.cause,
              "stage": c.stage, "stage_label": STAGES[c.stage], "role": p.role, "role_label": p.role_label,
              "filed_at": c.filed_at, "updated_at": c.updated_at} for c, p in mine]
    return Outcome(page(items, args.cursor, args.limit))


def cases_progress(ctx: OpContext, args: m.CaseArgs) -> Outcome:
    case, party = ctx.participant_case(args.case_no)
    return Outcome(progress_body(case, party, ctx))


def cases_access(ctx: OpContext, args: m.CaseArgs) -> Outcome:
    case, party = ctx.participant_case(args.case_no)
    return Outcome({"case_no": case.case_no, "role": party.role, "role_label": party.role_label})


def verify_password(ctx: OpContext, args: PasswordArgs) -> Outcome:
    """12368: the case query password printed on a party's notice names that party and case, and
    opens only the case whose serial number the caller keyed (CONTRACTS.md section 5)."""
    serial = int(args.serial)
    for case in ctx.state.cases.values():
        if read_case_no(case.case_no).sequence != serial:
            continue
        for party in case.parties:
            if party.password == args.password and not party.left:
                person = party.person
                return Outcome({"case_no": case.case_no, "court": ctx.state.code, "role": party.role,
                                "person": {"name": person.name, "id_type": person.id_type,
                                           "id_number": person.id_number}})
    raise not_found("查询密码不正确。")


# --- materials -------------------------------------------------------------------------------


def materials_submit(ctx: OpContext, args: m.MaterialsArgs) -> Outcome:
    case, _ = ctx.participant_case(args.case_no)
    documents = ctx.own_uploads(args.documents)
    item = Item(ctx.state.new_id("CL"), Owner.of(ctx.actor), "RECEIVED", ctx.stamp, court=ctx.state.code,
                kind="submission", case_no=case.case_no,
                fields={"kind": args.kind, "documents": documents, "note": args.note, "submitted_at": ctx.stamp})
    item.move("RECEIVED", ctx.stamp)
    ctx.state.add_item(item)
    return Outcome({"submission_id": item.id, "status": item.status, "submitted_at": ctx.stamp,
                    "case_no": case.case_no, "documents": len(documents)})


# --- payments --------------------------------------------------------------------------------


def _refresh_fee(fee: Fee, today: date) -> Fee:
    # An assessed fee not paid by its due date is overdue (DOMAIN.md section 4, payment lifecycle).
    if fee.status in ("ASSESSED", "PENDING") and date.fromisoformat(fee.due) < today:
        fee.status = "OVERDUE"
    return fee


def payments_list(ctx: OpContext, args: m.CaseArgs) -> Outcome:
    case, _ = ctx.participant_case(args.case_no)
    today = ctx.now.date()
    items = [{"fee_id": f.fee_id, "item": f.item, "amount": f.amount, "status": _refresh_fee(f, today).status,
              "due": f.due, "payer": f.payer} for f in case.fees]
    return Outcome({"items": items, "next_cursor": None})


def _pending_payment(ctx: OpContext, fee_id: str) -> Item | None:
    return next((i for i in ctx.state.items.values()
                 if i.kind == "payment" and i.fields.get("fee_id") == fee_id and i.status == "PENDING"), None)


def _notice(ctx: OpContext, fee: Fee) -> dict[str, Any]:
    # Anti-fraud practice (DOMAIN.md section 6): the notice names the official channel and never
    # carries a link or an account to transfer to.
    serial = f"{secrets.randbelow(10**8):08d}"
    return {
        "notice_no": f"44{ctx.state.digits.zfill(4)}{ctx.now:%Y%m%d}{serial}",
        "payee": ctx.state.full_name,
        "amount": fee.amount,
        "pay_before": fee.due,
        "how": "请凭缴款通知书编号，通过广东省非税收入缴款平台（粤省事“非税缴费”、银行柜台或网上银行）"
               "或到法院诉讼服务中心缴纳。法院不会通过短信、电话要求向任何个人账户转账。",
    }


def payments_create(ctx: OpContext, args: m.PaymentCreateArgs) -> Outcome:
    case, _ = ctx.participant_case(args.case_no)
    fee = next((f for f in case.fees if f.fee_id == args.fee_id), None)
    if fee is None:
        raise not_found("未找到该笔费用。")
    _refresh_fee(fee, ctx.now.date())
    if fee.status == "PAID":
        raise conflict("ALREADY_PAID", "该笔费用已缴纳，无需重复缴费。")
    if fee.status == "OVERDUE":
        raise CourtError(422, "DEADLINE_PASSED", "该笔费用已超过缴费期限，请联系承办法官。")
    existing = _pending_payment(ctx, fee.fee_id)
    if existing is None:
        existing = Item(ctx.state.new_id("JF"), Owner.of(ctx.actor), "PENDING", ctx.stamp, court=ctx.state.code,
                        kind="payment", case_no=case.case_no,
                        fields={"fee_id": fee.fee_id, "amount": fee.amount, "pay_notice": _notice(ctx, fee)})
        existing.move("PENDING", ctx.stamp)
        ctx.state.add_item(existing)
        fee.status = "PENDING"
    return Outcome({"payment_id": existing.id, "fee_id": fee.fee_id, "amount": fee.amount, "status": "PENDING",
                    "pay_notice": existing.fields["pay_notice"]})


# --- judge messages --------------------------------------------------------------------------


def _message_view(item: Item) -> dict[str, Any]:
    fields = item.fields
    return {"message_id": item.id, "case_no": item.case_no, "text": fields["text"], "sent_at": item.created_at,
            "status": item.status, "reply_due": fields["reply_due"], "reply": fields.get("reply")}


def judge_messages_send(ctx: OpContext, args: m.JudgeMessageArgs) -> Outcome:
    case, _ = ctx.participant_case(args.case_no)
    # Guangdong 12368 norm: a work order forwarded to a judge is answered within 2 working days.
    due = timeutil.add_working_days(ctx.now.date(), 2)
    item = Item(ctx.state.new_id("LY"), Owner.of(ctx.actor), "RECEIVED", ctx.stamp, court=ctx.state.code,
                kind="message", case_no=case.case_no,
                fields={"text": args.text, "callback_phone": args.callback_phone,
                        "reply_due": timeutil.end_of_day(due.day), "reply": None})
    item.move("RECEIVED", ctx.stamp)
    ctx.state.add_item(item)
    body: dict[str, Any] = {"message_id": item.id, "status": "RECEIVED", "reply_due": item.fields["reply_due"],
                            "case_no": case.case_no, "sent_at": ctx.stamp}
    if due.provisional:
        body["reply_due_provisional"] = True
    return Outcome(body)


def judge_messages_list(ctx: OpContext, args: m.CaseArgs) -> Outcome:
    case, _ = ctx.participant_case(args.case_no)
    mine = [i for i in ctx.state.items.values()
            if i.kind == "message" and i.case_no == case.case_no and i.owner.matches(ctx.actor)]
    mine.sort(key=lambda i: i.created_at, reverse=True)
    return Outcome({"items": [_message_view(i) for i in mine], "next_cursor": None})


# --- hearings --------------------------------------------------------------------------------


def _hearing_view(h: Hearing, case: Case) -> dict[str, Any]:
    return {"hearing_id": h.hearing_id, "at": h.at, "place": h.place, "mode": h.mode, "status": h.status,
            "judge": case.judge}


def hearings_list(ctx: OpContext, args: m.CaseArgs) -> Outcome:
    case, _ = ctx.participant_case(args.case_no)
    ordered = sorted(case.hearings, key=lambda h: timeutil.parse_iso(h.at))
    return Outcome({"items": [_hearing_view(h, case) for h in ordered], "next_cursor": None})


def hearings_join(ctx: OpContext, args: m.HearingJoinArgs) -> Outcome:
    case, _ = ctx.participant_case(args.case_no)
    hearing = next((h for h in case.hearings if h.hearing_id == args.hearing_id), None)
    if hearing is None:
        raise not_found("未找到该庭审。")
    ctx.require_l3("参加在线庭审")
    if hearing.mode != "online":
        raise conflict("HEARING_NOT_ONLINE", "本次庭审为线下开庭，请按传票载明的时间、地点到庭。")
    starts = timeutil.parse_iso(hearing.at)
    if hearing.status not in OPEN_HEARINGS or ctx.now > starts + JOIN_WINDOW:
        raise conflict("HEARING_CLOSED", "本次庭审已结束或已休庭，无法进入。")
    return Outcome({
        "hearing_id": hearing.hearing_id,
        "room_id": hearing.room_id or f"ROOM-{hearing.hearing_id}",
        "join_ticket": secrets.token_urlsafe(24),
        "valid_until": timeutil.iso(max(starts, ctx.now) + JOIN_WINDOW),
        "at": hearing.at,
        "place": hearing.place,
    })
