"""Operation handlers by operation id (the canonical ids of gateway/catalog.py, plus the court-only routes).

``courts.list`` and ``deliveries.get`` are answered by the gateway itself and
have no handler here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from reference_court.context import OpContext, Outcome
from reference_court.handlers import applications, cases, filings, items, public

Handler = Callable[[OpContext, Any], Outcome | Response]

HANDLERS: dict[str, Handler] = {
    "templates.list": public.templates_list,
    "templates.get": public.templates_get,
    "templates.download": public.templates_download,
    "fees.calculate": public.fees_calculate,
    "uploads.create": filings.uploads_create,
    "filings.submit": filings.filings_submit,
    "filings.list": filings.filings_list,
    "filings.get": filings.filings_get,
    "filings.cancel": filings.filings_cancel,
    "cases.list": cases.cases_list,
    "cases.progress": cases.cases_progress,
    "materials.submit": cases.materials_submit,
    "payments.list": cases.payments_list,
    "payments.create": cases.payments_create,
    "refunds.apply": applications.refunds_apply,
    "certificates.request": applications.certificates_request,
    "file_reviews.request": applications.file_reviews_request,
    "appeals.file": applications.appeals_file,
    "enforcement.apply": applications.enforcement_apply,
    "applications.list": applications.applications_list,
    "applications.get": applications.applications_get,
    "judge_messages.send": cases.judge_messages_send,
    "judge_messages.list": cases.judge_messages_list,
    "hearings.list": cases.hearings_list,
    "hearings.join": cases.hearings_join,
    "mediations.apply": items.mediations_apply,
    "mediations.get": items.mediations_get,
    "consultations.create": items.consultations_create,
    "consultations.get": items.consultations_get,
    "petitions.submit": applications.petitions_submit,
    "witness.book": items.witness_book,
    "witness.get": items.witness_get,
    # court-only routes of CONTRACTS.md section 5
    "cases.access": cases.cases_access,
    "case_query_passwords.verify": cases.verify_password,
}

#: operations the gateway answers itself
GATEWAY_ONLY = frozenset({"courts.list", "deliveries.get"})
