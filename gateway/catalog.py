"""The canonical operations as data (CONTRACTS.md section 3).

One table drives everything: the canonical HTTP routes, the OpenAPI document,
each channel's operation endpoint, assurance and access checks, routing and the
court call. Adding an operation is adding a row here (and its models).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel

from gateway import models as m


class Kind(str, Enum):
    READ = "read"
    WRITE = "write"


class Access(str, Enum):
    PUBLIC = "public"  # anyone
    SELF = "self"  # the actor acts for themselves
    OWN = "own"  # the item was created by this actor (gateway record)
    PARTICIPANT = "participant"  # the court lists the actor on the case


class Routing(str, Enum):
    CASE = "case"  # the case number's court (a legacy number needs `court`)
    COURT = "court"  # the `court` argument, required
    DEFAULT_COURT = "default_court"  # the `court` argument, else the configured default court
    OWN = "own"  # the court recorded when the item was created
    FAN_OUT = "fan_out"  # every court (or the one named), merged
    LOCAL = "local"  # answered by the gateway itself


ASSURANCE_ORDER = {"none": 0, "L1": 1, "L2": 2, "L3": 3}


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str  # canonical route below /api/v1, with {params}
    kind: Kind
    assurance: str  # none | L1 | L2 | L3
    access: Access
    routing: Routing
    args: type[BaseModel]
    result: type[BaseModel]
    summary: str
    #: for OWN access: the argument holding the item id
    owned_by: str | None = None
    #: for creates: the result field whose id the gateway records for OWN access
    creates: str | None = None
    #: the answer is a file, not JSON
    binary: bool = False
    #: HTTP status of a success on the canonical API
    success_status: int = 200

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))

    @property
    def is_write(self) -> bool:
        return self.kind is Kind.WRITE

    @property
    def needs_actor(self) -> bool:
        return self.assurance != "none"


def _op(
    op_id: str,
    route: str,
    kind: Kind,
    assurance: str,
    access: Access,
    routing: Routing,
    args: type[BaseModel],
    result: type[BaseModel],
    summary: str,
    **extra: object,
) -> Operation:
    method, path = route.split(" ", 1)
    status = 201 if kind is Kind.WRITE else 200
    return Operation(op_id, method, path, kind, assurance, access, routing, args, result, summary,
                     success_status=status, **extra)  # type: ignore[arg-type]


R, W = Kind.READ, Kind.WRITE
PUB, SELF, OWN, PART = Access.PUBLIC, Access.SELF, Access.OWN, Access.PARTICIPANT
CASE, COURT, DEFAULT, BY_OWN, FAN, LOCAL = (
    Routing.CASE, Routing.COURT, Routing.DEFAULT_COURT, Routing.OWN, Routing.FAN_OUT, Routing.LOCAL,
)

OPERATIONS: tuple[Operation, ...] = (
    _op("courts.list", "GET /courts", R, "none", PUB, LOCAL, m.Empty, m.ListResult, "Courts served by this gateway"),
    _op("templates.list", "GET /templates", R, "none", PUB, DEFAULT, m.TemplateListArgs, m.ListResult,
        "Litigation document templates"),
    _op("templates.get", "GET /templates/{template_id}", R, "none", PUB, DEFAULT, m.TemplateArgs, m.GenericResult,
        "One template's description"),
    _op("templates.download", "GET /templates/{template_id}/file", R, "none", PUB, DEFAULT, m.TemplateArgs,
        m.GenericResult, "Download a template file", binary=True),
    _op("fees.calculate", "POST /fees/calculate", R, "none", PUB, DEFAULT, m.FeeArgs, m.GenericResult,
        "Litigation fee calculator (诉讼费用交纳办法)"),
    _op("uploads.create", "POST /uploads", W, "L2", SELF, COURT, m.UploadArgs, m.UploadResult,
        "Upload one document (PDF, JPEG, PNG, OFD; at most 20 MiB)", creates="upload_id"),
    _op("filings.submit", "POST /filings", W, "L2", SELF, COURT, m.FilingArgs, m.FilingResult,
        "File a case online (网上立案)", creates="filing_id"),
    _op("filings.list", "GET /filings", R, "L2", OWN, FAN, m.Page, m.ListResult, "My filings"),
    _op("filings.get", "GET /filings/{filing_id}", R, "L2", OWN, BY_OWN, m.FilingIdArgs, m.FilingResult,
        "One filing", owned_by="filing_id"),
    _op("filings.cancel", "POST /filings/{filing_id}/cancel", W, "L2", OWN, BY_OWN, m.FilingCancelArgs,
        m.FilingResult, "Withdraw a filing not yet decided", owned_by="filing_id"),
    _op("cases.list", "GET /cases", R, "L2", OWN, FAN, m.Page, m.ListResult, "My cases"),
    _op("cases.progress", "GET /cases/{case_no}/progress", R, "L2", PART, CASE, m.CaseArgs, m.ProgressResult,
        "Case progress (审判流程公开)"),
    _op("materials.submit", "POST /cases/{case_no}/materials", W, "L2", PART, CASE, m.MaterialsArgs,
        m.SubmissionResult, "Submit evidence or supplementary materials"),
    _op("payments.list", "GET /cases/{case_no}/payments", R, "L2", PART, CASE, m.CaseArgs, m.ListResult,
        "Fees assessed and paid in a case"),
    _op("payments.create", "POST /cases/{case_no}/payments", W, "L2", PART, CASE, m.PaymentCreateArgs,
        m.GenericResult, "Start paying an assessed fee (payment notice)"),
    _op("refunds.apply", "POST /cases/{case_no}/refunds", W, "L2", PART, CASE, m.RefundArgs,
        m.ApplicationResult, "Apply for a fee refund", creates="application_id"),
    _op("certificates.request", "POST /cases/{case_no}/effective-certificates", W, "L2", PART, CASE,
        m.CertificateArgs, m.ApplicationResult, "Request an effective-judgment certificate",
        creates="application_id"),
    _op("file_reviews.request", "POST /cases/{case_no}/file-reviews", W, "L2", PART, CASE, m.FileReviewArgs,
        m.ApplicationResult, "Request to review the case file (阅卷)", creates="application_id"),
    _op("appeals.file", "POST /cases/{case_no}/appeals", W, "L2", PART, CASE, m.AppealArgs, m.ApplicationResult,
        "Lodge an appeal through the court of first instance", creates="application_id"),
    _op("enforcement.apply", "POST /cases/{case_no}/enforcement-applications", W, "L2", PART, CASE,
        m.EnforcementArgs, m.ApplicationResult, "Apply for enforcement", creates="application_id"),
    _op("applications.list", "GET /applications", R, "L2", OWN, FAN, m.Page, m.ListResult, "My applications"),
    _op("applications.get", "GET /applications/{application_id}", R, "L2", OWN, BY_OWN, m.ApplicationIdArgs,
        m.ApplicationResult, "One application", owned_by="application_id"),
    _op("judge_messages.send", "POST /cases/{case_no}/judge-messages", W, "L2", PART, CASE, m.JudgeMessageArgs,
        m.JudgeMessageResult, "Leave a message for the judge (联系法官)"),
    _op("judge_messages.list", "GET /cases/{case_no}/judge-messages", R, "L2", PART, CASE, m.CaseArgs,
        m.ListResult, "Messages to and from the judge"),
    _op("hearings.list", "GET /cases/{case_no}/hearings", R, "L2", PART, CASE, m.CaseArgs, m.ListResult,
        "Hearings of a case"),
    _op("hearings.join", "POST /cases/{case_no}/hearings/{hearing_id}/join", W, "L3", PART, CASE,
        m.HearingJoinArgs, m.GenericResult, "Join a remote hearing"),
    _op("mediations.apply", "POST /mediations", W, "L2", SELF, COURT, m.MediationArgs, m.GenericResult,
        "Apply for pre-litigation mediation", creates="mediation_id"),
    _op("mediations.get", "GET /mediations/{mediation_id}", R, "L2", OWN, BY_OWN, m.MediationIdArgs,
        m.GenericResult, "One mediation", owned_by="mediation_id"),
    _op("consultations.create", "POST /consultations", W, "L1", SELF, COURT, m.ConsultationArgs, m.GenericResult,
        "Ask the 12368 service a question", creates="consultation_id"),
    _op("consultations.get", "GET /consultations/{consultation_id}", R, "L1", OWN, BY_OWN, m.ConsultationIdArgs,
        m.GenericResult, "One consultation and its answer", owned_by="consultation_id"),
    _op("petitions.submit", "POST /petitions", W, "L2", SELF, COURT, m.PetitionArgs, m.ApplicationResult,
        "Submit a petition (信访)", creates="application_id"),
    _op("witness.book", "POST /authorization-witnesses", W, "L3", SELF, COURT, m.WitnessArgs, m.GenericResult,
        "Book remote witnessing of a power of attorney", creates="witness_id"),
    _op("witness.get", "GET /authorization-witnesses/{witness_id}", R, "L2", OWN, BY_OWN, m.WitnessIdArgs,
        m.GenericResult, "One witnessing appointment", owned_by="witness_id"),
    _op("deliveries.get", "GET /deliveries/{delivery_id}", R, "L1", OWN, LOCAL, m.DeliveryIdArgs,
        m.DeliveryResult, "Where a queued write stands", owned_by="delivery_id"),
)

BY_ID: dict[str, Operation] = {op.id: op for op in OPERATIONS}


def get_operation(op_id: str) -> Operation | None:
    return BY_ID.get(op_id)


def assurance_at_least(actual: str, required: str) -> bool:
    return ASSURANCE_ORDER.get(actual, 0) >= ASSURANCE_ORDER[required]
