"""ID-card and face checks of a kiosk session, without a server."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from adapters.kiosk.identity import SessionRequest, VerifiedPerson, beijing_today, parse_request, verify
from adapters.kiosk.standins import card_read
from gateway.errors import ErrorCode, GatewayError

TODAY = date(2026, 3, 16)
ZHANG = ("张伟", "440106199001011235")  # male (sequence 123 is odd)
WANG = ("王芳", "440104199203152244")  # female


def request(**changes: Any) -> SessionRequest:
    body = card_read(*ZHANG, phone="+86 136 3141 5926", today=TODAY)
    face = changes.pop("face", None)
    phone = changes.pop("phone", "keep")
    body["id_card"].update(changes)
    if face is not None:
        body["face"].update(face)
    if phone != "keep":
        body["phone"] = phone
    return parse_request(body)


def refused(req: SessionRequest, threshold: float = 80) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        verify(req, face_threshold=threshold, today=TODAY)
    return caught.value


def test_a_valid_card_and_face_pass_with_only_what_the_actor_needs() -> None:
    person = verify(request(), face_threshold=80, today=TODAY)
    assert person == VerifiedPerson("张伟", "440106199001011235", "13631415926", 93.5)


def test_a_lower_case_x_is_normalised() -> None:
    body = card_read("测试", "11010519491231002X", today=TODAY)
    body["id_card"]["id_number"] = "11010519491231002x"
    assert verify(parse_request(body), face_threshold=80, today=TODAY).id_number == "11010519491231002X"


@pytest.mark.parametrize("number", ["440106199001011234", "44010619900101123", "440106199002301238", "ABC"])
def test_a_bad_id_number_is_invalid_id_number(number: str) -> None:
    error = refused(request(id_number=number))
    assert error.code is ErrorCode.INVALID_ID_NUMBER and error.extra["reason"] == "ID_NUMBER"


def test_an_expired_card_is_rejected() -> None:
    error = refused(request(valid_from="20060315", valid_to="20260315"))
    assert error.code is ErrorCode.IDENTITY_REJECTED and error.extra["reason"] == "CARD_EXPIRED"


def test_a_card_is_valid_through_its_last_day_and_long_term_never_expires() -> None:
    assert verify(request(valid_from="20060316", valid_to="20260316"), face_threshold=80, today=TODAY)
    assert verify(request(valid_from="20060316", valid_to="长期"), face_threshold=80, today=TODAY)


def test_a_card_not_valid_yet_is_rejected() -> None:
    error = refused(request(valid_from="20260317", valid_to="20460317"))
    assert error.extra["reason"] == "CARD_NOT_YET_VALID"


@pytest.mark.parametrize("changes", [
    {"birth": "19900102"},  # the chip's birth date is not the number's
    {"gender": "女"},  # the sequence 123 is odd: male
    {"valid_from": "20200230"},  # not a real date
    {"valid_from": "20260301", "valid_to": "20250301"},  # ends before it starts
    {"name": "张伟<script>"},
])
def test_chip_fields_that_disagree_with_the_number_are_not_trusted(changes: dict[str, str]) -> None:
    error = refused(request(**changes))
    assert error.code is ErrorCode.IDENTITY_REJECTED and error.extra["reason"] == "CARD_UNREADABLE"


def test_a_female_number_with_a_female_card() -> None:
    assert verify(parse_request(card_read(*WANG, today=TODAY)), face_threshold=80, today=TODAY).name == "王芳"


@pytest.mark.parametrize(("face", "threshold", "passes"), [
    ({"similarity": 80.0}, 80, True),
    ({"similarity": 79.99}, 80, False),
    ({"similarity": 85.0}, 90, False),
    ({"similarity": 99.0, "result": "1"}, 80, False),
])
def test_face_against_the_channel_threshold(face: dict[str, Any], threshold: float, passes: bool) -> None:
    req = request(face=face)
    if passes:
        assert verify(req, face_threshold=threshold, today=TODAY).face_score == face["similarity"]
    else:
        error = refused(req, threshold)
        assert error.code is ErrorCode.IDENTITY_REJECTED and error.extra["reason"] == "FACE_MISMATCH"


def test_a_bad_phone_is_a_validation_error_and_no_phone_is_fine() -> None:
    error = refused(request(phone="12345"))
    assert error.code is ErrorCode.VALIDATION_FAILED and error.errors[0].field == "phone"
    assert verify(request(phone=None), face_threshold=80, today=TODAY).phone is None


def test_the_photo_and_address_are_read_but_never_returned() -> None:
    body = card_read(*ZHANG, today=TODAY)
    body["id_card"]["photo"] = "V0xU" * 100
    person = verify(parse_request(body), face_threshold=80, today=TODAY)
    assert set(vars(person)) == {"name", "id_number", "phone", "face_score"}


@pytest.mark.parametrize("body", [
    {"id_card": {}, "face": {"result": "0", "similarity": 90}},
    {"face": {"result": "0", "similarity": 90}},
    {**card_read(*ZHANG), "extra": 1},
    {**card_read(*ZHANG), "face": {"result": "0", "similarity": 101}},
])
def test_malformed_requests_are_validation_failures(body: dict[str, Any]) -> None:
    with pytest.raises(GatewayError) as caught:
        parse_request(body)
    assert caught.value.code is ErrorCode.VALIDATION_FAILED


def test_today_is_counted_in_beijing() -> None:
    from datetime import UTC, datetime

    assert beijing_today(datetime(2026, 3, 15, 16, 30, tzinfo=UTC)) == date(2026, 3, 16)
