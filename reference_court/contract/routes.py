"""The court's routes (CONTRACTS.md section 3, path for path under /api/v1, and section 5).

One row per operation the court serves: id, method and path, the body or query it accepts, and
whether it is a write (a write needs an ``Idempotency-Key`` and answers 201). ``courts.list`` and
``deliveries.get`` are the gateway's own and are not here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from reference_court.contract import shapes as s


@dataclass(frozen=True)
class Route:
    id: str
    method: str
    path: str  # below /api/v1, with {params}
    args: type[BaseModel]
    write: bool

    @property
    def success_status(self) -> int:
        return 201 if self.write else 200


def _rows(write: bool, *rows: tuple[str, str, type[BaseModel]]) -> list[Route]:
    routes = []
    for op, route, args in rows:
        method, path = route.split(" ", 1)
        routes.append(Route(op, method, path, args, write))
    return routes


ROUTES: tuple[Route, ...] = tuple(
    _rows(
        False,
        ("templates.list", "GET /templates", s.TemplateListArgs),
        ("templates.get", "GET /templates/{template_id}", s.TemplateArgs),
        ("templates.download", "GET /templates/{template_id}/file", s.TemplateArgs),
        ("fees.calculate", "POST /fees/calculate", s.FeeArgs),
        ("filings.list", "GET /filings", s.Page),
        ("filings.get", "GET /filings/{filing_id}", s.FilingIdArgs),
        ("cases.list", "GET /cases", s.Page),
        ("cases.progress", "GET /cases/{case_no}/progress", s.CaseArgs),
        ("payments.list", "GET /cases/{case_no}/payments", s.CaseArgs),
        ("applications.list", "GET /applications", s.Page),
        ("applications.get", "GET /applications/{application_id}", s.ApplicationIdArgs),
        ("judge_messages.list", "GET /cases/{case_no}/judge-messages", s.CaseArgs),
        ("hearings.list", "GET /cases/{case_no}/hearings", s.CaseArgs),
        ("mediations.get", "GET /mediations/{mediation_id}", s.MediationIdArgs),
        ("consultations.get", "GET /consultations/{consultation_id}", s.ConsultationIdArgs),
        ("witness.get", "GET /authorization-witnesses/{witness_id}", s.WitnessIdArgs),
    )
    + _rows(
        True,
        ("uploads.create", "POST /uploads", s.UploadArgs),
        ("filings.submit", "POST /filings", s.FilingArgs),
        ("filings.cancel", "POST /filings/{filing_id}/cancel", s.FilingCancelArgs),
        ("materials.submit", "POST /cases/{case_no}/materials", s.MaterialsArgs),
        ("payments.create", "POST /cases/{case_no}/payments", s.PaymentCreateArgs),
        ("refunds.apply", "POST /cases/{case_no}/refunds", s.RefundArgs),
        ("certificates.request", "POST /cases/{case_no}/effective-certificates", s.CertificateArgs),
        ("file_reviews.request", "POST /cases/{case_no}/file-reviews", s.FileReviewArgs),
        ("appeals.file", "POST /cases/{case_no}/appeals", s.AppealArgs),
        ("enforcement.apply", "POST /cases/{case_no}/enforcement-applications", s.EnforcementArgs),
        ("judge_messages.send", "POST /cases/{case_no}/judge-messages", s.JudgeMessageArgs),
        ("hearings.join", "POST /cases/{case_no}/hearings/{hearing_id}/join", s.HearingJoinArgs),
        ("mediations.apply", "POST /mediations", s.MediationArgs),
        ("consultations.create", "POST /consultations", s.ConsultationArgs),
        ("petitions.submit", "POST /petitions", s.PetitionArgs),
        ("witness.book", "POST /authorization-witnesses", s.WitnessArgs),
    )
)
