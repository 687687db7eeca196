"""gateway.vocabulary: one set of words for statuses and operations, for every channel and notification."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gateway import application_kind_label, hearing_mode_label, operation_label, status_label
from gateway.catalog import BY_ID

#: every status of DOMAIN.md section 4, a witness booking's, and a queued write's
DOMAIN_STATUSES = (
    "SUBMITTED", "UNDER_REVIEW", "CORRECTION_REQUIRED", "ACCEPTED", "REJECTED", "CANCELLED", "DOCKETED",
    "NOT_ACCEPTED", "RECEIVED", "ANSWERED", "DISPATCHED", "REPLIED", "CLOSED", "ASSESSED", "PENDING", "PAID",
    "OVERDUE", "APPLIED", "RETURNED_FOR_CORRECTION", "APPROVED", "REFUNDED", "FAILED", "ASSIGNED",
    "IN_MEDIATION", "SETTLED", "CONVERTED_TO_FILING", "SCHEDULED", "NOTIFIED", "CHECKED_IN", "IN_SESSION",
    "ADJOURNED", "CONCLUDED", "BOOKED", "queued", "delivering", "delivered", "failed",
)


def test_the_national_words_for_a_filings_review() -> None:
    assert [status_label("filing", s) for s in ("ACCEPTED", "REJECTED", "NOT_ACCEPTED")] == [
        "审核通过", "审核不通过", "不予立案"]


def test_a_kind_says_a_shared_status_better_and_an_unknown_one_is_shown_as_it_is() -> None:
    assert (status_label("refund", "FAILED"), status_label("mediation", "FAILED"), status_label(None, "FAILED")) \
        == ("退费失败", "调解未成功", "未成功")
    assert status_label(None, "SOMETHING_NEW") == "SOMETHING_NEW"
    assert (application_kind_label("file_review"), hearing_mode_label("online")) == ("阅卷", "在线庭审")
    assert application_kind_label("new_kind") == "new_kind" and hearing_mode_label("hybrid") == "hybrid"


@pytest.mark.parametrize("status", DOMAIN_STATUSES)
def test_every_status_has_a_label_that_fits_a_wechat_phrase_field(status: str) -> None:
    label = status_label(None, status)
    assert label != status and 1 <= len(label) <= 5  # WeChat's phrase fields hold 5 characters


def test_every_operation_of_the_catalog_has_a_name() -> None:
    assert [op for op in BY_ID if operation_label(op) == op] == []


def test_the_vocabulary_loads_nothing_else() -> None:
    code = ("import sys, gateway; gateway.status_label; gateway.citizen_events; "
            "print(sorted(m for m in sys.modules if m.startswith(('gateway', 'starlette', 'redis', 'httpx', "
            "'pydantic'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['gateway', 'gateway.event_types', 'gateway.vocabulary']"
