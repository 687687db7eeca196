"""The fee scale of 《诉讼费用交纳办法》 art. 13 and 14."""

from __future__ import annotations

from typing import Any

import pytest

from reference_court.contract.shapes import FeeArgs
from reference_court.fees import calculate_fees
from tests.reference_court.conftest import RefCourt, problem


def fee(**args: Any) -> dict[str, Any]:
    return calculate_fees(FeeArgs.model_validate(args))


@pytest.mark.parametrize(("amount", "total"), [
    ("0.00", "50.00"),
    ("8000.00", "50.00"),
    ("10000.00", "50.00"),
    ("10000.01", "50.00"),  # 0.01 * 2.5% rounds to nothing
    ("50000.00", "1050.00"),
    ("100000.00", "2300.00"),
    ("200000.00", "4300.00"),
    ("500000.00", "8800.00"),
    ("1000000.00", "13800.00"),
    ("2000000.00", "22800.00"),
    ("5000000.00", "46800.00"),
    ("10000000.00", "81800.00"),
    ("20000000.00", "141800.00"),
    ("30000000.00", "191800.00"),
    ("12999.00", "124.98"),
])
def test_property_scale(amount: str, total: str) -> None:
    body = fee(case_type="民初", cause="买卖合同纠纷", amount=amount)
    assert body["total"] == total
    assert body["basis"] == "《诉讼费用交纳办法》第十三条"
    assert body["items"][0]["item"] == "案件受理费"


def test_amount_as_json_number_is_normalised() -> None:
    assert fee(case_type="民初", amount=50000)["amount"] == "50000.00"


def test_appeal_uses_the_same_scale() -> None:
    assert fee(case_type="民终", amount="1000000")["total"] == "13800.00"


def test_divorce_range_and_property_division() -> None:
    plain = fee(case_type="民初", cause="离婚纠纷")
    assert (plain["total"], plain["total_max"]) == ("50.00", "300.00")
    with_property = fee(case_type="民初", cause="离婚纠纷", amount="500000")
    assert with_property["items"][1]["amount"] == "1500.00"  # (500,000 - 200,000) x 0.5%


def test_personality_rights() -> None:
    body = fee(case_type="民初", cause="名誉权纠纷", amount="150000")
    assert body["items"][0]["amount"] == "100.00" and body["items"][0]["amount_max"] == "500.00"
    assert body["items"][1]["amount"] == "750.00"  # 50,000 x 1% + 50,000 x 0.5%


def test_labour_administrative_and_free_cases() -> None:
    assert fee(case_type="民初", cause="劳动争议", amount="80000")["total"] == "10.00"
    assert fee(case_type="行初", cause="商标行政管理")["total"] == "100.00"
    assert fee(case_type="行初", cause="政府信息公开")["total"] == "50.00"
    assert fee(case_type="刑初", cause="盗窃罪")["total"] == "0.00"
    assert fee(case_type="民特", cause="宣告失踪")["total"] == "0.00"


def test_ip_without_amount_is_a_range() -> None:
    body = fee(case_type="知民初", cause="侵害商标权纠纷")
    assert (body["total"], body["total_max"]) == ("500.00", "1000.00")
    assert fee(case_type="知民初", cause="侵害商标权纠纷", amount="500000")["total"] == "8800.00"


def test_enforcement_preservation_payment_order_bankruptcy() -> None:
    assert fee(case_type="执", amount="600000")["total"] == "8400.00"
    assert fee(case_type="执", amount="8000")["total"] == "50.00"
    assert fee(case_type="执")["total_max"] == "500.00"
    assert fee(case_type="财保", amount="100000")["total"] == "1020.00"
    assert fee(case_type="财保", amount="50000000")["total"] == "5000.00"  # capped
    assert fee(case_type="民督", amount="50000")["total"] == "350.00"
    assert fee(case_type="破申", amount="1000000000")["total"] == "300000.00"  # capped


def test_non_property_without_amount() -> None:
    body = fee(case_type="民初", cause="相邻关系纠纷", property_case=False)
    assert (body["total"], body["total_max"]) == ("50.00", "100.00")


async def test_fee_calculator_over_http(court: RefCourt) -> None:
    response = await court.post("粤0106", "/fees/calculate", None, {"case_type": "民初", "amount": "1000000"},
                                key=None)
    assert response.status_code == 200
    assert response.json()["total"] == "13800.00"
    problem(await court.post("粤0106", "/fees/calculate", None, {"case_type": "民初"}, key=None),
            400, "VALIDATION_FAILED")
    problem(await court.post("粤0106", "/fees/calculate", None, {"case_type": "民初", "amount": "-5"}, key=None),
            400, "VALIDATION_FAILED")
