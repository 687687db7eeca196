"""Who stands at the kiosk: the ID card's chip read and the live face check (pure).

A session opens at L3 only when all of these hold (DOMAIN.md section 3;
CONTRACTS.md section 4.4):

1. the ID number passes GB 11643-1999 (shape, a real birth date, check
   character), else ``INVALID_ID_NUMBER``;
2. the chip's own fields agree with the number: the birth date is the one the
   number carries, the gender is the sequence's parity (odd male, even female),
   the validity period is a real period; else the card is not trusted
   (``IDENTITY_REJECTED``, reason ``CARD_UNREADABLE``);
3. the card is valid today (Beijing time): not before ``valid_from``, not after
   ``valid_to``; ``长期`` never expires (``CARD_NOT_YET_VALID`` / ``CARD_EXPIRED``);
4. the face check passed (``result`` "0") with a similarity at or above the
   channel's ``face_threshold`` (``FACE_MISMATCH``).

Only the name, the ID number and a phone the person typed in leave this
module; the address, the photo and the face image never do. The face outcome
is kept as (passed, score).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway import (
    ErrorCode,
    FieldError,
    GatewayError,
    is_valid_resident_id,
    normalise_id_number,
    normalise_mobile,
    validation_error,
)

BEIJING = timezone(timedelta(hours=8))
NO_EXPIRY = "长期"
FACE_PASSED = "0"
_NAME = re.compile(r"^[^\d\x00-\x1f<>{}\[\]\\/|@#$%^&*=+~`]{1,60}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class IdCardRead(_Strict):
    """The chip read of a second-generation resident ID card (GA 450)."""

    name: Annotated[str, Field(min_length=1, max_length=60)]
    gender: Annotated[str | None, Field(max_length=4)] = None
    nation: Annotated[str | None, Field(max_length=20)] = None
    birth: Annotated[str, Field(pattern=r"^\d{8}$")]
    address: Annotated[str | None, Field(max_length=200)] = None  # read by the device; never kept
    id_number: Annotated[str, Field(min_length=1, max_length=32)]
    issuer: Annotated[str | None, Field(max_length=60)] = None
    valid_from: Annotated[str, Field(pattern=r"^\d{8}$")]
    valid_to: Annotated[str, Field(pattern=r"^(\d{8}|长期)$")]
    photo: Annotated[str | None, Field(max_length=65536)] = None  # the chip's photo; never kept


class FaceCheck(_Strict):
    """The terminal's live face comparison against the chip photo."""

    result: Annotated[str, Field(min_length=1, max_length=16)]
    similarity: Annotated[float, Field(ge=0, le=100)]


class SessionRequest(_Strict):
    id_card: IdCardRead
    face: FaceCheck
    phone: Annotated[str | None, Field(max_length=20)] = None


@dataclass(frozen=True)
class VerifiedPerson:
    name: str
    id_number: str
    phone: str | None
    face_score: float


def parse_request(raw: dict[str, object]) -> SessionRequest:
    try:
        return SessionRequest.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc) from None


def beijing_today(now: datetime | None = None) -> date:
    return (now or datetime.now(BEIJING)).astimezone(BEIJING).date()


def verify(request: SessionRequest, *, face_threshold: float, today: date) -> VerifiedPerson:
    """Every check of the module docstring, in order; raises on the first that fails."""
    card = request.id_card
    number = normalise_id_number(card.id_number)
    if not is_valid_resident_id(number):
        raise refusal(ErrorCode.INVALID_ID_NUMBER, "ID_NUMBER", "resident ID number fails GB 11643")
    check_card_fields(card, number)
    check_validity(card, today)
    check_face(request.face, face_threshold)
    return VerifiedPerson(card.name, number, _phone(request.phone), request.face.similarity)


def check_card_fields(card: IdCardRead, number: str) -> None:
    if not _NAME.match(card.name):
        raise refusal(ErrorCode.IDENTITY_REJECTED, "CARD_UNREADABLE", "name on the chip is not a name")
    if card.birth != number[6:14]:
        raise refusal(ErrorCode.IDENTITY_REJECTED, "CARD_UNREADABLE", "chip birth date differs from the ID number")
    expected_gender = "男" if int(number[16]) % 2 else "女"
    if card.gender in ("男", "女") and card.gender != expected_gender:
        raise refusal(ErrorCode.IDENTITY_REJECTED, "CARD_UNREADABLE", "chip gender differs from the ID number")
    valid_from = _day(card.valid_from)
    valid_to = None if card.valid_to == NO_EXPIRY else _day(card.valid_to)
    if valid_from is None or (card.valid_to != NO_EXPIRY and (valid_to is None or valid_to < valid_from)):
        raise refusal(ErrorCode.IDENTITY_REJECTED, "CARD_UNREADABLE", "validity period is not a real period")


def check_validity(card: IdCardRead, today: date) -> None:
    """A card is valid from ``valid_from`` through ``valid_to`` inclusive; 长期 never expires."""
    valid_from = _day(card.valid_from)
    if valid_from is not None and today < valid_from:
        raise refusal(ErrorCode.IDENTITY_REJECTED, "CARD_NOT_YET_VALID", "card not valid yet")
    if card.valid_to == NO_EXPIRY:
        return
    valid_to = _day(card.valid_to)
    if valid_to is None or today > valid_to:
        raise refusal(ErrorCode.IDENTITY_REJECTED, "CARD_EXPIRED", "card expired")


def check_face(face: FaceCheck, threshold: float) -> None:
    if face.result != FACE_PASSED or face.similarity < threshold:
        raise refusal(ErrorCode.IDENTITY_REJECTED, "FACE_MISMATCH", "face check below the channel's threshold")


def refusal(code: ErrorCode, reason: str, detail: str) -> GatewayError:
    """``reason`` picks the refusal screen; it names what failed, never whose card it was."""
    return GatewayError(code, detail, extra={"reason": reason})


def _day(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def _phone(text: str | None) -> str | None:
    if not text:
        return None
    phone = normalise_mobile(text)
    if phone is None:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "not a mainland mobile number",
                           [FieldError("phone", "手机号码格式不正确，可不填。")])
    return phone
