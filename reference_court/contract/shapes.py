"""Request bodies the court accepts and the answer shapes it promises (CONTRACTS.md sections 3 and 5).

The court's own models, written from the contract: unknown fields are refused (a ``status`` slipped
into a filing is an error, not a field the court stores), identity numbers are checked as
DOMAIN.md section 3 says (``INVALID_ID_NUMBER`` in the message marks the field), amounts are yuan
with two decimals. Answers allow extra fields, as the contract does.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from reference_court.contract.id_numbers import mobile_number, needs_manual_review, plain_number, problem_with


def _yuan(value: Any) -> Any:
    """``50000``, ``"50000.5"`` -> ``"50000.00"``, ``"50000.50"``; anything else is a field error."""
    if value is None:
        return None
    wrong = "amount must be a non-negative decimal string of yuan such as \"50000.00\""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or len(str(value).strip()) > 20:
        raise ValueError(wrong)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(wrong) from None
    # the exponent of the shortest form: below -2 is a fraction of a fen (1.230 is fine, 1.234 is not)
    exponent = amount.normalize().as_tuple().exponent if amount.is_finite() else "n"
    if not isinstance(exponent, int) or exponent < -2 or amount < 0:
        raise ValueError(wrong)
    return f"{amount:.2f}"


def _mobile(value: str | None) -> str | None:
    if value is None:
        return None
    number = mobile_number(value)
    if number is None:
        raise ValueError("not a mainland mobile number")
    return number


def _identity(value: str) -> str:
    return plain_number(value)


Yuan = Annotated[str, BeforeValidator(_yuan), Field(pattern=r"^[0-9]{1,15}\.[0-9]{2}$")]
Mobile = Annotated[str | None, BeforeValidator(_mobile)]
IdNumber = Annotated[str, BeforeValidator(_identity), Field(min_length=3, max_length=32)]
DocumentKind = Literal["ID_CARD", "USCC", "PASSPORT", "HMT_PERMIT", "FOREIGN_PR"]
Court = Annotated[str, Field(min_length=2, max_length=16)]
CaseNumberText = Annotated[str, Field(min_length=5, max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=5000)]
ItemId = Annotated[str, Field(min_length=1, max_length=128)]
Day = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


def _refuse_bad_number(id_type: str, id_number: str) -> None:
    problem = problem_with(id_type, id_number)
    if problem is not None:
        raise ValueError(f"INVALID_ID_NUMBER: {problem}")


class Party(Args):
    kind: Literal["person", "organisation"]
    name: Name
    id_type: DocumentKind
    id_number: IdNumber
    phone: Mobile = None
    #: what the gateway marks (and the court decides again itself): an early USCC to review by hand
    review: Literal["manual"] | None = None

    @model_validator(mode="after")
    def _checked(self) -> Party:
        _refuse_bad_number(self.id_type, self.id_number)
        self.review = "manual" if needs_manual_review(self.id_type, self.id_number) else None
        return self


class Agent(Args):
    name: Name
    id_type: DocumentKind = "ID_CARD"
    id_number: IdNumber
    license_no: Annotated[str | None, Field(pattern=r"^[0-9]{17}$")] = None
    phone: str | None = None

    @model_validator(mode="after")
    def _checked(self) -> Agent:
        _refuse_bad_number(self.id_type, self.id_number)
        return self


class DocumentRef(Args):
    upload_id: ItemId
    name: Name


Documents = Annotated[list[DocumentRef], Field(max_length=100)]
Parties = Annotated[list[Party], Field(min_length=1, max_length=50)]


class Page(Args):
    court: Court | None = None
    cursor: Annotated[str | None, Field(max_length=2048)] = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class CaseArgs(Args):
    case_no: CaseNumberText
    court: Court | None = None  # needed only with a legacy case number


class TemplateListArgs(Args):
    court: Court | None = None
    service: Annotated[str | None, Field(max_length=64)] = None
    q: Annotated[str | None, Field(max_length=100)] = None


class TemplateArgs(Args):
    template_id: ItemId
    court: Court | None = None


class FeeArgs(Args):
    court: Court | None = None
    case_type: Annotated[str, Field(min_length=1, max_length=8)]
    cause: Annotated[str | None, Field(max_length=100)] = None
    amount: Yuan | None = None
    property_case: bool = True


class UploadArgs(Args):
    court: Court


class FilingArgs(Args):
    court: Court
    case_type: Annotated[str, Field(min_length=1, max_length=8)]
    cause: Name
    plaintiffs: Parties
    defendants: Parties
    third_parties: Annotated[list[Party], Field(max_length=50)] = []
    agent: Agent | None = None
    claims: LongText
    facts: LongText
    amount: Yuan | None = None
    documents: Documents = []
    mediation_consent: bool | None = None


class FilingIdArgs(Args):
    filing_id: ItemId


class FilingCancelArgs(FilingIdArgs):
    reason: Annotated[str | None, Field(max_length=500)] = None


class MaterialsArgs(CaseArgs):
    kind: Literal["evidence", "supplement"]
    documents: Annotated[list[DocumentRef], Field(min_length=1, max_length=100)]
    note: Annotated[str | None, Field(max_length=2000)] = None


class PaymentCreateArgs(CaseArgs):
    fee_id: Annotated[str, Field(min_length=1, max_length=64)]


class BankAccount(Args):
    bank: Name
    account_name: Name
    account_no: Annotated[str, Field(pattern=r"^[0-9]{8,32}$")]


class RefundArgs(CaseArgs):
    amount: Yuan
    reason: LongText
    account: BankAccount


class CertificateArgs(CaseArgs):
    copies: Annotated[int, Field(ge=1, le=10)] = 1
    purpose: Annotated[str | None, Field(max_length=500)] = None


class FileReviewArgs(CaseArgs):
    purpose: Name
    mode: Literal["online", "onsite"] = "online"
    preferred_date: Day | None = None


class AppealArgs(CaseArgs):
    requests: LongText
    reasons: LongText
    served_at: Day | None = None
    documents: Documents = []


class EnforcementArgs(CaseArgs):
    requests: LongText
    amount: Yuan | None = None
    respondents: Annotated[list[Party], Field(max_length=50)] = []
    documents: Documents = []


class ApplicationIdArgs(Args):
    application_id: ItemId


class JudgeMessageArgs(CaseArgs):
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    callback_phone: Mobile = None


class HearingJoinArgs(CaseArgs):
    hearing_id: ItemId


class MediationArgs(Args):
    court: Court
    applicants: Annotated[list[Party], Field(min_length=1, max_length=20)]
    respondents: Annotated[list[Party], Field(min_length=1, max_length=20)]
    dispute: LongText
    amount: Yuan | None = None


class MediationIdArgs(Args):
    mediation_id: ItemId


class ConsultationArgs(Args):
    court: Court
    topic: Name
    question: Annotated[str, Field(min_length=1, max_length=2000)]
    case_no: CaseNumberText | None = None
    callback_phone: Mobile = None


class ConsultationIdArgs(Args):
    consultation_id: ItemId


class PetitionArgs(Args):
    court: Court
    subject: Name
    content: LongText
    case_no: CaseNumberText | None = None
    documents: Documents = []


class WitnessArgs(Args):
    court: Court
    case_no: CaseNumberText | None = None
    agent: Agent
    scope: Annotated[str, Field(min_length=1, max_length=1000)]
    preferred_at: Annotated[str | None, Field(max_length=40)] = None


class WitnessIdArgs(Args):
    witness_id: ItemId


class Empty(Args):
    pass


# --- answers the court promises (what verify-backend holds a court to) ----------------------------


class ProgressNode(Answer):
    code: str
    label: str
    at: str


class NextHearing(Answer):
    hearing_id: str
    at: str
    place: str
    mode: Literal["in_person", "online"]


class Progress(Answer):
    """``cases.progress`` (CONTRACTS.md section 3, core bodies)."""

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
