"""Uploads and online filing (网上立案): the application lifecycle of DOMAIN.md section 4.

A filing starts ``SUBMITTED``; the court (here: the ``/_ref`` hooks) moves it
through review to ``DOCKETED`` with a case number or ``NOT_ACCEPTED``. The
filer may withdraw it until the court has decided.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from reference_court.context import OpContext, Outcome, page
from reference_court.contract import shapes as m
from reference_court.contract.case_numbers import TYPE_CODES
from reference_court.problems import CourtError, conflict, validation_failed
from reference_court.store import FILING_CANCELLABLE, FILING_LABELS, Filing, Owner, Upload

MAX_UPLOAD = 20 * 2**20  # CONTRACTS.md section 3: at most 20 MiB

# Recognised by their first bytes, never by the declared type (CONTRACTS.md section 3).
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"PK\x03\x04", "application/ofd"),  # OFD (GB/T 33190) is a zip package
)


@dataclass(frozen=True)
class UploadInput:
    args: m.UploadArgs
    data: bytes
    file_name: str | None


def sniff(data: bytes) -> str | None:
    return next((kind for magic, kind in MAGIC if data.startswith(magic)), None)


def uploads_create(ctx: OpContext, upload: UploadInput) -> Outcome:
    ctx.same_court(upload.args.court)
    if len(upload.data) > MAX_UPLOAD:
        raise CourtError(413, "PAYLOAD_TOO_LARGE", "单个文件不超过20MB，请压缩后重试。")
    content_type = sniff(upload.data)
    if content_type is None:
        raise CourtError(415, "UNSUPPORTED_MEDIA_TYPE", "文件格式不支持，请上传PDF、JPG、PNG或OFD格式的文件。")
    record = Upload(ctx.state.new_id("UP"), Owner.of(ctx.actor), hashlib.sha256(upload.data).hexdigest(),
                    len(upload.data), content_type, upload.file_name, ctx.stamp, upload.data)
    ctx.state.uploads.add(record)
    return Outcome(record.public())


def _type_known(case_type: str) -> bool:
    return case_type in TYPE_CODES or (case_type.startswith("知") and case_type[1:] in TYPE_CODES)


def _check_filer(ctx: OpContext, args: m.FilingArgs) -> None:
    """``self`` access: the filer is a plaintiff or the plaintiffs' agent (CONTRACTS.md section 3)."""
    identity = ctx.require_identity("网上立案")
    people = [(p.id_type, p.id_number) for p in args.plaintiffs]
    if args.agent is not None:
        people.append((args.agent.id_type, args.agent.id_number))
    # An organisation files through its legal representative, whose authority the court checks
    # in review from the 法定代表人身份证明书 among the documents, not from the token.
    if identity in people or any(p.kind == "organisation" for p in args.plaintiffs):
        return
    raise validation_failed("plaintiffs", "起诉人须为原告本人或其委托诉讼代理人。")


def filings_submit(ctx: OpContext, args: m.FilingArgs) -> Outcome:
    ctx.same_court(args.court)
    if not _type_known(args.case_type):
        raise validation_failed("case_type", "案件类型代字不正确，例如：民初、行初、执。")
    _check_filer(ctx, args)
    documents = ctx.own_uploads(args.documents)
    body = args.model_dump(mode="json")
    body["documents"] = documents
    filing = Filing(ctx.state.new_id("LA"), Owner.of(ctx.actor), "SUBMITTED", ctx.stamp, court=ctx.state.code,
                    args=body)
    filing.move("SUBMITTED", ctx.stamp)
    ctx.state.filings[filing.id] = filing
    return Outcome({**filing.summary(), **_manual_review(args)})


def _manual_review(args: m.FilingArgs) -> dict[str, object]:
    """A party whose USCC fails only its check character is accepted for review by hand (DOMAIN.md
    section 3): the answer says so, so the filer knows why it may take longer."""
    parties = [*args.plaintiffs, *args.defendants, *args.third_parties]
    if not any(p.review == "manual" for p in parties):
        return {}
    return {"review": "manual", "warnings": ["统一社会信用代码校验位未通过，已转人工审核，请确认代码无误。"]}


def filings_list(ctx: OpContext, args: m.Page) -> Outcome:
    ctx.same_court(args.court)
    mine = [f for f in ctx.state.filings.values() if f.owner.matches(ctx.actor)]
    mine.sort(key=lambda f: f.created_at, reverse=True)
    items = [{**f.summary(), "status_label": FILING_LABELS[f.status], "cause": f.args["cause"], "case_no": f.case_no}
             for f in mine]
    return Outcome(page(items, args.cursor, args.limit))


def filings_get(ctx: OpContext, args: m.FilingIdArgs) -> Outcome:
    return Outcome(ctx.own_filing(args.filing_id).public())


def filings_cancel(ctx: OpContext, args: m.FilingCancelArgs) -> Outcome:
    filing = ctx.own_filing(args.filing_id)
    if filing.status in FILING_CANCELLABLE:
        filing.move("CANCELLED", ctx.stamp, reason=args.reason)
    elif filing.status != "CANCELLED":
        raise conflict("ALREADY_DECIDED", "法院已对该立案申请作出处理，不能撤回；如需撤诉请提交撤诉申请书。")
    return Outcome({**filing.summary(), "cancelled_at": filing.updated_at})
