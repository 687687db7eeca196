"""The reference court's own copy of the contract agrees with the gateway's.

The court reads CONTRACTS.md and DOMAIN.md with its own code (reference_court/contract/) so that
it checks the gateway instead of sharing its mistakes; these tests are where the two readings
meet. A difference here is a question for the contract, not something to paper over.
"""

from __future__ import annotations

import pytest

from gateway import models as gateway_models
from gateway.catalog import OPERATIONS
from gateway.domain import case_numbers as gateway_case_numbers
from gateway.domain import id_numbers as gateway_id_numbers
from gateway.domain.courts import GUANGZHOU_COURTS, court_env_suffix
from reference_court.contract import case_numbers, id_numbers
from reference_court.contract.courts import COURT_NAMES, env_name_part
from reference_court.contract.routes import ROUTES
from reference_court.handlers import GATEWAY_ONLY

CASE_NUMBERS = [
    "（2024）粤0106民初88号", "(2024)粤0106民初88号", "〔２０２４〕 粤73知民初1024号之一", "（2026）最高法民申5号",
    "（2014）穗中法民一初字第4713号", "【2025】粤01民辖终7号", "(2024)粤0106民初88", "2024粤0106民初88号",
    "（1899）粤0106民初1号", "（2024）粤0106民初123456789号", "（2024） 粤 0106 民初 88 号", "（2024）XX民初1号",
]
ID_NUMBERS = [
    ("ID_CARD", "440106199001011235"), ("ID_CARD", "440106199001011234"), ("ID_CARD", "44010619900101123x"),
    ("ID_CARD", "440106900101123"), ("ID_CARD", "440106199002301235"), ("ID_CARD", "４４０１０６１９９００１０１１２３５"),
    ("USCC", "91440101MA59XXXX0X"), ("USCC", "9144010123456789OI"), ("USCC", "91440106MA5CYJ6L1W"),
    ("HMT_PERMIT", "H12345678"), ("HMT_PERMIT", "M1234567890"), ("HMT_PERMIT", "12345678"), ("HMT_PERMIT", "X1234567"),
    ("HMT_PERMIT", "810000199001011236"), ("FOREIGN_PR", "USA123456789012"), ("FOREIGN_PR", "9" + "1" * 17),
    ("PASSPORT", "E12345678"), ("PASSPORT", "E1"), ("PASSPORT", "e12345678"), ("NONE", "123"),
]
PHONES = ["13631415926", "+86 136 3141 5926", "0086-13631415926", "12631415926", "1363141592", "021-12345678"]


def test_the_court_serves_every_canonical_route_the_gateway_relays() -> None:
    gateway_side = {(op.id, op.method, op.path, op.is_write, op.success_status)
                    for op in OPERATIONS if op.id not in GATEWAY_ONLY}
    court_side = {(r.id, r.method, r.path, r.write, r.success_status) for r in ROUTES}
    assert court_side == gateway_side


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_the_court_accepts_the_fields_the_gateway_sends(route: object) -> None:
    from reference_court.contract.routes import Route

    assert isinstance(route, Route)
    gateway_args = next(op.args for op in OPERATIONS if op.id == route.id)
    assert set(route.args.model_fields) == set(gateway_args.model_fields)


@pytest.mark.parametrize("text", CASE_NUMBERS)
def test_both_read_a_case_number_alike(text: str) -> None:
    try:
        theirs = gateway_case_numbers.parse_case_number(text)
    except gateway_case_numbers.CaseNumberError:
        with pytest.raises(case_numbers.NotACaseNumber):
            case_numbers.read_case_no(text)
        return
    ours = case_numbers.read_case_no(text)
    assert (ours.text, ours.court, ours.type_code, ours.sequence) == (
        theirs.text, theirs.court, theirs.type_code, theirs.sequence)


def test_both_know_the_same_type_codes_and_courts() -> None:
    assert case_numbers.TYPE_CODES == gateway_case_numbers.KNOWN_TYPE_CODES
    assert COURT_NAMES == GUANGZHOU_COURTS
    assert all(env_name_part(code) == court_env_suffix(code) for code in COURT_NAMES)


@pytest.mark.parametrize(("id_type", "number"), ID_NUMBERS)
def test_both_judge_an_id_number_alike(id_type: str, number: str) -> None:
    theirs = gateway_id_numbers.check_id_number(id_type, number)
    assert id_numbers.problem_with(id_type, number) == theirs.problem
    assert id_numbers.needs_manual_review(id_type, number) == theirs.manual_review


@pytest.mark.parametrize("phone", PHONES)
def test_both_read_a_mobile_number_alike(phone: str) -> None:
    assert id_numbers.mobile_number(phone) == gateway_id_numbers.normalise_mobile(phone)


@pytest.mark.parametrize("amount", [50000, "50000.5", "1.230", "1.234", -1, True, "x", "1e3", "NaN", 1e30, None])
def test_both_read_an_amount_alike(amount: object) -> None:
    from pydantic import ValidationError

    from reference_court.contract.shapes import FeeArgs

    def read(model: type[FeeArgs | gateway_models.FeeArgs]) -> object:
        try:
            return model.model_validate({"case_type": "民初", "amount": amount}).amount
        except ValidationError:
            return "refused"

    assert read(FeeArgs) == read(gateway_models.FeeArgs)
