"""The 5G channel carries every citizen event as a card (none falls to SMS for want of words)."""

from __future__ import annotations

import pytest

from adapters.rcs5g.notices import notice_card, notice_params
from gateway import citizen_events

#: a plausible payload of each event, as the court (or the gateway, for delivery.finished) sends it
SAMPLES: dict[str, dict[str, object]] = {
    "filing.received": {"filing_id": "LA-1"},
    "filing.correction_required": {"filing_id": "LA-1"},
    "filing.reviewed": {"filing_id": "LA-1", "status": "ACCEPTED"},
    "filing.docketed": {"filing_id": "LA-1", "case_no": "（2026）粤0106民初22468号"},
    "hearing.scheduled": {"case_no": "（2026）粤0106民初22468号", "at": "2026-12-10T09:30:00+08:00",
                          "place": "第三法庭"},
    "judge_message.replied": {"case_no": "（2026）粤0106民初22468号"},
    "application.updated": {"application_id": "AP-1", "kind": "refund", "status": "APPROVED"},
    "payment.confirmed": {"case_no": "（2026）粤0106民初22468号", "amount": "4300.00"},
    "refund.completed": {"case_no": "（2026）粤0106民初22468号", "amount": "50.00"},
    "delivery.finished": {"delivery_id": "dl-1", "operation": "filings.submit", "status": "delivered"},
}


def test_every_citizen_event_has_a_sample() -> None:
    assert set(SAMPLES) == set(citizen_events())


@pytest.mark.parametrize("event", sorted(SAMPLES))
def test_every_citizen_event_is_a_card_in_plain_words(event: str) -> None:
    card = notice_card(event, notice_params(SAMPLES[event], event))
    assert card is not None
    title, text = card
    assert title and text and "{" not in text
    assert not any(word in text for word in ("delivered", "APPROVED", "ACCEPTED", "filings.submit", "refund"))


def test_a_queued_write_s_outcome_names_the_service_and_the_vocabulary_s_words() -> None:
    card = notice_card("delivery.finished", notice_params(SAMPLES["delivery.finished"], "delivery.finished"))
    assert card is not None
    assert "网上立案" in card[1] and "dl-1" in card[1]
