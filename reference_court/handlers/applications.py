"""Applications on a case (appeal, certificate, file review, enforcement, refund) and petitions.

Each answers ``{"application_id", "kind", "status", "submitted_at"}`` and then
follows its lifecycle (DOMAIN.md section 4): applications start ``SUBMITTED``,
refunds ``APPLIED``, petitions (a ticket) ``RECEIVED``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from reference_court import timeutil
from reference_court.context import OpContext, Outcome, page, parse_number
from reference_court.contract import shapes as m
from reference_court.problems import CourtError, validation_failed
from reference_court.seed import Case, Judgment, Node
from reference_court.store import APPLICATION_KINDS, APPLICATION_LABELS, Application, Owner, flow_of

# Civil Procedure Law art. 171: 15 days to appeal a judgment, 10 days a ruling, from service.
APPEAL_DAYS = {"judgment": 15, "ruling": 10}


def _create(ctx: OpContext, kind: str, case_no: str | None, details: dict[str, Any]) -> Outcome:
    initial = flow_of(kind)[0]
    application = Application(ctx.state.new_id("SQ"), Owner.of(ctx.actor), initial, ctx.stamp,
                              court=ctx.state.code, kind=kind, case_no=case_no, details=details)
    application.move(initial, ctx.stamp)
    ctx.state.applications[application.id] = application
    return Outcome(application.summary())


def _refused(code: str, detail: str) -> CourtError:
    return CourtError(422, code, detail)


def _effective(judgment: Judgment | None, today: date) -> bool:
    return (judgment is not None and judgment.effective_at is not None
            and date.fromisoformat(judgment.effective_at) <= today)


def _appellate_court(case: Case, court: str) -> str | None:
    """Where the court of first instance forwards an appeal (it is lodged here, DOMAIN.md section 1)."""
    if court in ("粤01", "粤72", "粤73"):
        return "粤"  # 广东省高级人民法院
    if court.startswith("粤01") and (case.case_type.startswith("知") or "著作权" in case.cause
                                     or "作品" in case.cause or "商标" in case.cause):
        return "粤73"
    if court.startswith("粤01"):
        return "粤01"
    return None


def _appeal_deadline(case: Case, args: m.AppealArgs) -> date | None:
    judgment = case.judgment
    assert judgment is not None
    # The court's own record of service wins over what the appellant says.
    served = judgment.served_at or args.served_at
    if served is None:
        return None  # not served yet: an appeal may be lodged already
    return timeutil.add_calendar_days(date.fromisoformat(served), APPEAL_DAYS[judgment.kind]).day


def appeals_file(ctx: OpContext, args: m.AppealArgs) -> Outcome:
    case, party = ctx.participant_case(args.case_no)
    judgment = case.judgment
    if not case.case_type.endswith("初") or judgment is None or judgment.kind == "mediation":
        raise _refused("NOT_APPEALABLE", "只有第一审判决、裁定可以上诉；本案暂无可上诉的裁判文书。")
    if "终审" in judgment.document:
        raise _refused("NOT_APPEALABLE", "本案裁判为一审终审，不能上诉。")
    deadline = _appeal_deadline(case, args)
    if deadline is not None and ctx.now.date() > deadline:
        raise CourtError(422, "DEADLINE_PASSED", f"上诉期限已于{deadline.isoformat()}届满。")
    documents = ctx.own_uploads(args.documents)
    case.nodes.append(Node("APPEALED", "当事人提起上诉", ctx.stamp))
    case.updated_at = ctx.stamp
    details = {"requests": args.requests, "reasons": args.reasons, "appellant_role": party.role,
               "deadline": deadline.isoformat() if deadline else None,
               "forwarded_to": _appellate_court(case, ctx.state.code), "documents": documents}
    return _create(ctx, "appeal", case.case_no, details)


def certificates_request(ctx: OpContext, args: m.CertificateArgs) -> Outcome:
    case, _ = ctx.participant_case(args.case_no)
    if not _effective(case.judgment, ctx.now.date()):
        raise _refused("NOT_EFFECTIVE", "本案裁判文书尚未发生法律效力，暂不能出具生效证明。")
    # 穗中法〔2020〕121号: the effective date is registered within 5 days.
    due = timeutil.add_working_days(ctx.now.date(), 5)
    return _create(ctx, "certificate", case.case_no,
                   {"copies": args.copies, "purpose": args.purpose, "due": due.day.isoformat()})


def file_reviews_request(ctx: OpContext, args: m.FileReviewArgs) -> Outcome:
    case, _ = ctx.participant_case(args.case_no)
    if args.preferred_date is not None and date.fromisoformat(args.preferred_date) < ctx.now.date():
        raise validation_failed("preferred_date", "预约阅卷日期不能早于今天。")
    return _create(ctx, "file_review", case.case_no,
                   {"purpose": args.purpose, "mode": args.mode, "preferred_date": args.preferred_date})


def enforcement_apply(ctx: OpContext, args: m.EnforcementArgs) -> Outcome:
    case, _ = ctx.participant_case(args.case_no)
    if case.case_type.startswith("执"):
        raise _refused("NOT_ENFORCEABLE", "本案已是执行案件，请勿重复申请执行。")
    if not _effective(case.judgment, ctx.now.date()):
        raise _refused("NOT_EFFECTIVE", "据以执行的法律文书尚未发生法律效力，暂不能申请执行。")
    # The 2-year limit (Civil Procedure Law art. 250) is not checked here on purpose: a court
    # must accept a late application and decides only if the respondent objects (SPC
    # interpretation of the Civil Procedure Law, art. 481).
    documents = ctx.own_uploads(args.documents)
    respondents = [{"name": r.name, "kind": r.kind} for r in args.respondents]
    return _create(ctx, "enforcement", case.case_no,
                   {"requests": args.requests, "amount": args.amount, "respondents": respondents,
                    "documents": documents})


def _refundable(ctx: OpContext, case: Case) -> Decimal:
    paid = sum((Decimal(f.amount) for f in case.fees if f.status == "PAID"), Decimal(0))
    claimed = sum((Decimal(a.details["amount"]) for a in ctx.state.applications.values()
                   if a.kind == "refund" and a.case_no == case.case_no and a.status not in ("FAILED",)),
                  Decimal(0))
    return paid - claimed


def refunds_apply(ctx: OpContext, args: m.RefundArgs) -> Outcome:
    case, _ = ctx.participant_case(args.case_no)
    if Decimal(args.amount) > _refundable(ctx, case):
        raise _refused("REFUND_EXCEEDS_PAID", "申请退费金额超过本案已交纳且未申请退还的诉讼费用。")
    account = {"bank": args.account.bank, "account_name": args.account.account_name,
               "account_no": "*" * (len(args.account.account_no) - 4) + args.account.account_no[-4:]}
    # 诉讼费用交纳办法 art. 53: the court refunds within 15 days of the document taking effect.
    return _create(ctx, "refund", case.case_no, {"amount": args.amount, "reason": args.reason, "account": account})


def petitions_submit(ctx: OpContext, args: m.PetitionArgs) -> Outcome:
    ctx.same_court(args.court)
    case_no = None
    if args.case_no is not None:
        number = parse_number(args.case_no)
        case_no = number.text
    documents = ctx.own_uploads(args.documents)
    due = timeutil.add_calendar_days(ctx.now.date(), 15)
    return _create(ctx, "petition", case_no,
                   {"subject": args.subject, "content": args.content, "documents": documents,
                    "reply_due": due.day.isoformat()})


def applications_list(ctx: OpContext, args: m.Page) -> Outcome:
    ctx.same_court(args.court)
    mine = [a for a in ctx.state.applications.values() if a.owner.matches(ctx.actor)]
    mine.sort(key=lambda a: a.created_at, reverse=True)
    items = [{**a.summary(), "kind_label": APPLICATION_KINDS[a.kind],
              "status_label": APPLICATION_LABELS.get(a.status, a.status), "case_no": a.case_no, "court": a.court}
             for a in mine]
    return Outcome(page(items, args.cursor, args.limit))


def applications_get(ctx: OpContext, args: m.ApplicationIdArgs) -> Outcome:
    return Outcome(ctx.own_application(args.application_id).public())
