"""The X-Court-Signature check and the event body rules, as pure functions."""

from __future__ import annotations

import time
from typing import Any

import pytest

from gateway.errors import GatewayError
from gateway.events import check_signature, expected_signature, parse_event
from reference_court.events import encode_event, make_event, sign_event

SECRET = "s" * 40


def event(**overrides: Any) -> dict[str, Any]:
    body = make_event("filing.reviewed", "粤0106", {"filing_id": "LA-1", "status": "ACCEPTED"})
    body.update(overrides)
    return body


def test_what_the_reference_court_signs_the_gateway_accepts() -> None:
    body = encode_event(event())
    assert check_signature(SECRET.encode(), sign_event(SECRET, body), body, time.time()) == "ok"


@pytest.mark.parametrize("header", [
    None, "", "t=123", "v1=abc", "t=abc,v1=00", "t=1,t=2,v1=00", "t=1;v1=00", "t=1,v2=00",
    "t=1,v1=zz", "t=99999999999999999999,v1=00",
])
def test_malformed_headers_are_invalid(header: str | None) -> None:
    assert check_signature(SECRET.encode(), header, b"{}", time.time()) == "invalid"


def test_a_wrong_secret_or_a_changed_body_is_invalid() -> None:
    body = encode_event(event())
    header = sign_event(SECRET, body)
    assert check_signature(b"another secret of enough length......", header, body, time.time()) == "invalid"
    assert check_signature(SECRET.encode(), header, body + b" ", time.time()) == "invalid"


def test_timestamps_outside_300_seconds_are_stale_but_only_once_the_signature_checks() -> None:
    body = encode_event(event())
    now = time.time()
    old = int(now) - 301
    assert check_signature(SECRET.encode(), sign_event(SECRET, body, old), body, now) == "stale"
    assert check_signature(SECRET.encode(), sign_event(SECRET, body, int(now) + 301), body, now) == "stale"
    assert check_signature(SECRET.encode(), sign_event(SECRET, body, int(now) - 299), body, now) == "ok"
    forged = f"t={old},v1={'0' * 64}"
    assert check_signature(SECRET.encode(), forged, body, now) == "invalid"


def test_several_v1_values_are_accepted_during_a_secret_change() -> None:
    body = encode_event(event())
    moment = int(time.time())
    old_secret = expected_signature(b"the previous secret, still in use.......", moment, body)
    header = f"t={moment},v1={old_secret},v1={expected_signature(SECRET.encode(), moment, body)}"
    assert check_signature(SECRET.encode(), header, body, time.time()) == "ok"


def test_a_good_event_parses() -> None:
    parsed = parse_event(event(id="evt-1", occurred_at="2026-03-02T10:00:00+08:00"))
    assert (parsed.id, parsed.type, parsed.court, parsed.known) == ("evt-1", "filing.reviewed", "粤0106", True)
    assert parsed.occurred_at == 1772416800.0


@pytest.mark.parametrize(("body", "fields"), [
    (event(id=""), {"id"}),
    (event(id="has space"), {"id"}),
    (event(type="Filing Reviewed"), {"type"}),
    (event(occurred_at="2026-03-02T10:00:00"), {"occurred_at"}),  # a time without its offset is ambiguous
    (event(data=[]), {"data"}),
    ({"type": "filing.reviewed"}, {"id", "court", "occurred_at", "data"}),
    (event(data={"status": "ACCEPTED"}), {"data.filing_id"}),
    (event(type="hearing.scheduled", data={"case_no": "C", "hearing_id": "H", "at": "tomorrow", "place": "一庭",
                                           "mode": "video"}), {"data.at", "data.mode"}),
])
def test_malformed_events_are_refused_naming_each_field(body: dict[str, Any], fields: set[str]) -> None:
    with pytest.raises(GatewayError) as caught:
        parse_event(body)
    assert caught.value.code.value == "VALIDATION_FAILED"
    assert {e.field for e in caught.value.errors} == fields


def test_unknown_types_parse_without_data_rules() -> None:
    parsed = parse_event(event(type="case.archived", data={"anything": 1}))
    assert not parsed.known
