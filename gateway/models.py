"""Canonical request and result bodies (CONTRACTS.md section 3).

Argument models forbid unknown fields: a ``status`` or ``fee_paid`` slipped
into a body is refused, never forwarded (OWASP API3, mass assignment). Result
models allow extra fields because courts may add them; the OpenAPI document is
generated from these classes.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from gateway.domain.id_numbers import check_id_number, normalise_id_number, normalise_mobile

Text = Annotated[str, Field(min_length=1, max_length=5000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
CourtCode = Annotated[str, Field(min_length=2, max_length=16, description="court code, e.g. 粤0106")]
CaseNo = Annotated[str, Field(min_length=5, max_length=64, description="case number, e.g. （2024）粤0106民初88号")]
Cursor = Annotated[str, Field(max_length=2048)]
IdType = Literal["ID_CARD", "USCC", "PASSPORT", "HMT_PERMIT", "FOREIGN_PR"]


class Args(BaseModel):
    """Base of every argument model: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Result(BaseModel):
    model_config = ConfigDict(extra="allow")


def _normalise_amount(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        # pydantic turns ValueError (not TypeError) into a field error the caller can read
        raise ValueError("amount must be a decimal string such as \"50000.00\"")  # noqa: TRY004
    text = str(value).strip()
    if len(text) > 20:
        raise ValueError("amount is too large")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("amount must be a decimal string such as \"50000.00\"") from None
    if amount.is_finite() and amount >= 10**15:  # before quantize, which cannot hold more than 28 digits
        raise ValueError("amount is too large")
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError("amount must be a non-negative number of yuan with at most two decimals")
    return f"{amount:.2f}"


Amount = Annotated[str, Field(pattern=r"^\d{1,15}\.\d{2}$", description="yuan as a decimal string, e.g. \"50000.00\"")]


_REVIEW_NOTE = ('"manual" when the number passed its shape but not its check character (an early USCC): '
                "the court reviews it by hand instead of refusing it (DOMAIN.md section 3)")


class Party(Args):
    kind: Literal["person", "organisation"]
    name: ShortText
    id_type: IdType
    id_number: Annotated[str, Field(min_length=3, max_length=32)]
    phone: str | None = None

    @field_validator("id_number")
    @classmethod
    def _upper(cls, value: str) -> str:
        return normalise_id_number(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        normalised = normalise_mobile(value)
        if normalised is None:
            raise ValueError("not a mainland mobile number")
        return normalised

    #: set by the check below whatever the caller sent, so a court validating with this model agrees
    review: Literal["manual"] | None = Field(None, description=_REVIEW_NOTE)

    @model_validator(mode="after")
    def _check_number(self) -> Party:
        checked = check_id_number(self.id_type, self.id_number)
        if checked.problem is not None:
            raise ValueError("INVALID_ID_NUMBER: " + checked.problem)
        self.review = "manual" if checked.manual_review else None
        return self


class Agent(Args):
    """A litigation agent filing for the plaintiffs (a lawyer carries a 17-digit licence number)."""

    name: ShortText
    id_type: IdType = "ID_CARD"
    id_number: Annotated[str, Field(min_length=3, max_length=32)]
    license_no: Annotated[str | None, Field(pattern=r"^\d{17}$")] = None
    phone: str | None = None

    @field_validator("id_number")
    @classmethod
    def _upper(cls, value: str) -> str:
        return normalise_id_number(value)

    @model_validator(mode="after")
    def _check_number(self) -> Agent:
        problem = check_id_number(self.id_type, self.id_number).problem
        if problem is not None:
            raise ValueError("INVALID_ID_NUMBER: " + problem)
        return self


class DocumentRef(Args):
    upload_id: Annotated[str, Field(min_length=1, max_length=128)]
    name: ShortText


class Page(Args):
    court: CourtCode | None = None
    cursor: Cursor | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class Empty(Args):
    pass


class CaseArgs(Args):
    case_no: CaseNo
    court: CourtCode | None = Field(None, description="needed only for a legacy (pre-2016) case number")


# --- public -------------------------------------------------------------------------------------


class TemplateListArgs(Args):
    court: CourtCode | None = None
    service: Annotated[str | None, Field(max_length=64)] = None
    q: Annotated[str | None, Field(max_length=100)] = None


class TemplateArgs(Args):
    template_id: Annotated[str, Field(min_length=1, max_length=128)]
    court: CourtCode | None = None


class FeeArgs(Args):
    court: CourtCode | None = None
    case_type: Annotated[str, Field(min_length=1, max_length=8)]
    cause: Annotated[str | None, Field(max_length=100)] = None
    amount: Amount | None = None
    property_case: bool = True

    _amount = field_validator("amount", mode="before")(_normalise_amount)


# --- filings ------------------------------------------------------------------------------------


class FilingArgs(Args):
    court: CourtCode
    case_type: Annotated[str, Field(min_length=1, max_length=8)]
    cause: ShortText
    plaintiffs: Annotated[list[Party], Field(min_length=1, max_length=50)]
    defendants: Annotated[list[Party], Field(min_length=1, max_length=50)]
    third_parties: Annotated[list[Party], Field(max_length=50)] = []
    agent: Agent | None = None
    claims: Text
    facts: Text
    amount: Amount | None = None
    documents: Annotated[list[DocumentRef], Field(max_length=100)] = []
    mediation_consent: bool | None = None

    _amount = field_validator("amount", mode="before")(_normalise_amount)


class FilingIdArgs(Args):
    filing_id: Annotated[str, Field(min_length=1, max_length=128)]


class FilingCancelArgs(FilingIdArgs):
    reason: Annotated[str | None, Field(max_length=500)] = None


class MaterialsArgs(CaseArgs):
    kind: Literal["evidence", "supplement"]
    documents: Annotated[list[DocumentRef], Field(min_length=1, max_length=100)]
    note: Annotated[str | None, Field(max_length=2000)] = None


class PaymentCreateArgs(CaseArgs):
    fee_id: Annotated[str, Field(min_length=1, max_length=64)]


class BankAccount(Args):
    bank: ShortText
    account_name: ShortText
    account_no: Annotated[str, Field(pattern=r"^\d{8,32}$")]


class RefundArgs(CaseArgs):
    amount: Amount
    reason: Text
    account: BankAccount

    _amount = field_validator("amount", mode="before")(_normalise_amount)


class CertificateArgs(CaseArgs):
    copies: Annotated[int, Field(ge=1, le=10)] = 1
    purpose: Annotated[str | None, Field(max_length=500)] = None


class FileReviewArgs(CaseArgs):
    purpose: ShortText
    mode: Literal["online", "onsite"] = "online"
    preferred_date: Annotated[str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None


class AppealArgs(CaseArgs):
    requests: Text
    reasons: Text
    served_at: Annotated[str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None
    documents: Annotated[list[DocumentRef], Field(max_length=100)] = []


class EnforcementArgs(CaseArgs):
    requests: Text
    amount: Amount | None = None
    respondents: Annotated[list[Party], Field(max_length=50)] = []
    documents: Annotated[list[DocumentRef], Field(max_length=100)] = []

    _amount = field_validator("amount", mode="before")(_normalise_amount)


class ApplicationIdArgs(Args):
    application_id: Annotated[str, Field(min_length=1, max_length=128)]


class JudgeMessageArgs(CaseArgs):
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    callback_phone: str | None = None

    @field_validator("callback_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        normalised = normalise_mobile(value)
        if normalised is None:
            raise ValueError("not a mainland mobile number")
        return normalised


class HearingJoinArgs(CaseArgs):
    hearing_id: Annotated[str, Field(min_length=1, max_length=128)]


# --- items without a case number ----------------------------------------------------------------


class MediationArgs(Args):
    court: CourtCode
    applicants: Annotated[list[Party], Field(min_length=1, max_length=20)]
    respondents: Annotated[list[Party], Field(min_length=1, max_length=20)]
    dispute: Text
    amount: Amount | None = None

    _amount = field_validator("amount", mode="before")(_normalise_amount)


class MediationIdArgs(Args):
    mediation_id: Annotated[str, Field(min_length=1, max_length=128)]


class ConsultationArgs(Args):
    court: CourtCode
    topic: ShortText
    question: Annotated[str, Field(min_length=1, max_length=2000)]
    case_no: CaseNo | None = None
    callback_phone: str | None = None

    _phone = field_validator("callback_phone")(JudgeMessageArgs._phone.__func__)  # type: ignore[attr-defined]


class ConsultationIdArgs(Args):
    consultation_id: Annotated[str, Field(min_length=1, max_length=128)]


class PetitionArgs(Args):
    court: CourtCode
    subject: ShortText
    content: Text
    case_no: CaseNo | None = None
    documents: Annotated[list[DocumentRef], Field(max_length=100)] = []


class WitnessArgs(Args):
    """Remote witnessing of a power of attorney (远程授权见证); needs a live face match (L3)."""

    court: CourtCode
    case_no: CaseNo | None = None
    agent: Agent
    scope: Annotated[str, Field(min_length=1, max_length=1000)]
    preferred_at: Annotated[str | None, Field(max_length=40)] = None


class WitnessIdArgs(Args):
    witness_id: Annotated[str, Field(min_length=1, max_length=128)]


class DeliveryIdArgs(Args):
    delivery_id: Annotated[str, Field(min_length=1, max_length=128)]


class UploadArgs(Args):
    court: CourtCode


# --- results (extra fields allowed) -------------------------------------------------------------


class ListResult(Result):
    items: list[dict[str, Any]]
    next_cursor: str | None = None
    partial: list[str] | None = Field(None, description="courts that did not answer a fan-out list")


class CourtItem(Result):
    code: str
    name: str


class ProgressNode(Result):
    code: str
    label: str
    at: str


class NextHearing(Result):
    hearing_id: str
    at: str
    place: str
    mode: Literal["in_person", "online"]


class ProgressResult(Result):
    case_no: str
    court: str
    court_name: str
    cause: str
    stage: Literal["FILED", "ASSIGNED", "IN_TRIAL", "HEARING_SCHEDULED", "JUDGED", "CLOSED", "SUSPENDED"]
    stage_label: str
    filed_at: str
    judge: str | None
    nodes: list[ProgressNode]
    next_hearing: NextHearing | None
    updated_at: str


class FilingResult(Result):
    filing_id: str
    court: str
    status: str
    submitted_at: str


class SubmissionResult(Result):
    submission_id: str
    status: str
    submitted_at: str


class JudgeMessageResult(Result):
    message_id: str
    status: str
    reply_due: str


class ApplicationResult(Result):
    application_id: str
    kind: str
    status: str


class UploadResult(Result):
    upload_id: str
    sha256: str
    size: int
    content_type: str


class QueuedResult(Result):
    status: Literal["queued"]
    delivery_id: str


class DeliveryResult(Result):
    delivery_id: str
    operation: str
    court: str
    status: Literal["queued", "delivering", "delivered", "failed"]
    attempts: int
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class GenericResult(Result):
    pass


class Problem(BaseModel):
    type: str
    title: str
    status: int
    code: str
    detail: str
    request_id: str
    errors: list[dict[str, str]] | None = None
