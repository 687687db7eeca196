"""The hotline's driver, as the shared parity and contract tests will use it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.ivr12368.driver import LANDLINE, OFFERED_OPERATIONS
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.adapters.ivr12368.support import IvrStack, ivr_stack
from workbench.drivers import Person

ZHANGWEI = Person(DEMO_PEOPLE["zhangwei"].name, DEMO_PEOPLE["zhangwei"].id_number, phone=DEMO_PEOPLE["zhangwei"].phone)
WANGFANG = Person(DEMO_PEOPLE["wangfang"].name, DEMO_PEOPLE["wangfang"].id_number)
CASE = DEMO_CASES["zhangwei_yue0106_trial"]


@pytest.fixture(scope="module")
async def ivr() -> AsyncIterator[IvrStack]:
    async with ivr_stack() as stack:
        yield stack


async def test_the_driver_runs_each_offered_operation_as_a_whole_call(ivr: IvrStack) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        session = await ivr.driver.sign_in(client, ivr.gateway_url, ZHANGWEI, "L3")
        assert session.assurance == "L2" and session.values["caller"] == ZHANGWEI.phone
        progress = await ivr.driver.call(client, ivr.gateway_url, session, "cases.progress", {"case_no": CASE})
        fees = await ivr.driver.call(client, ivr.gateway_url, session, "payments.list", {"case_no": CASE})
        sent = await ivr.driver.call(client, ivr.gateway_url, session, "judge_messages.send",
                                     {"case_no": CASE, "text": "请回电"}, idempotency_key="drv-key-1")
        again = await ivr.driver.call(client, ivr.gateway_url, session, "judge_messages.send",
                                      {"case_no": CASE, "text": "请回电"}, idempotency_key="drv-key-1")
    assert progress.ok and progress.http_status == 200 and progress.data["case_no"] == CASE
    assert fees.ok and isinstance(fees.data["items"], list)
    assert sent.ok and sent.data["status"] == "RECEIVED"
    assert again.ok and again.data == sent.data and again.headers.get("idempotent-replayed") == "true"


async def test_a_person_without_the_password_of_a_case_gets_not_found(ivr: IvrStack) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        session = await ivr.driver.sign_in(client, ivr.gateway_url, WANGFANG)
        assert session.values["caller"] == LANDLINE
        answer = await ivr.driver.call(client, ivr.gateway_url, session, "cases.progress", {"case_no": CASE})
    assert not answer.ok and answer.code == "NOT_FOUND" and answer.http_status == 200 and answer.data is None


async def test_operations_the_menu_does_not_offer_are_refused_by_the_driver(ivr: IvrStack) -> None:
    assert set(OFFERED_OPERATIONS) == {"cases.progress", "judge_messages.send", "payments.list"}
    async with httpx.AsyncClient(timeout=20) as client:
        session = await ivr.driver.sign_in(client, ivr.gateway_url, ZHANGWEI)
        with pytest.raises(ValueError, match="offers"):
            await ivr.driver.call(client, ivr.gateway_url, session, "materials.submit", {"case_no": CASE})
