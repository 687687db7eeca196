"""Fault injection for the gateway's resilience tests."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from reference_court import DEMO_CASES
from tests.reference_court.conftest import RefCourt, case_path, problem


async def set_fault(ref: RefCourt, **body: Any) -> httpx.Response:
    return await ref.client.post(f"{ref.url}/_ref/faults", json=body)


async def health(ref: RefCourt, code: str = "粤0106") -> httpx.Response:
    return await ref.client.get(ref.base(code) + "/api/v1/health")


async def test_unavailable_for_one_court_then_ok(fresh_court: RefCourt) -> None:
    court = fresh_court
    assert (await set_fault(court, court="粤0106", mode="unavailable_503")).status_code == 200
    response = await health(court)
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json()["code"] == "UNAVAILABLE"
    assert (await health(court, "粤0192")).status_code == 200
    assert (await court.client.get(f"{court.url}/_ref/faults")).json()["faults"]["粤0106"]["mode"] == "unavailable_503"
    await set_fault(court, court="粤0106", mode="ok")
    assert (await health(court)).status_code == 200


async def test_all_courts_and_count(fresh_court: RefCourt) -> None:
    court = fresh_court
    await set_fault(court, court=None, mode="unavailable_503", count=2)
    assert [(await health(court, code)).status_code for code in ("粤01", "粤0192", "粤73")] == [503, 503, 200]
    await set_fault(court, court=None, mode="unavailable_503")
    await set_fault(court, court="粤73", mode="ok")  # a court's own setting wins
    assert (await health(court, "粤73")).status_code == 200
    assert (await health(court, "粤01")).status_code == 503
    await set_fault(court, court=None, mode="ok")  # clears everything
    assert (await health(court, "粤01")).status_code == 200


async def test_slow(fresh_court: RefCourt) -> None:
    court = fresh_court
    await set_fault(court, court="粤0106", mode="slow", seconds=0.3)
    started = time.monotonic()
    assert (await health(court)).status_code == 200
    assert time.monotonic() - started >= 0.3


async def test_huge_malformed_redirect(fresh_court: RefCourt) -> None:
    court = fresh_court
    await set_fault(court, court="粤0106", mode="huge", bytes=3 * 2**20)
    huge = await health(court)
    assert len(huge.content) == 3 * 2**20 and huge.json()["items"][0].startswith("xxx")
    await set_fault(court, court="粤0106", mode="malformed")
    malformed = await health(court)
    assert malformed.status_code == 200 and malformed.headers["content-type"] == "application/json"
    try:
        malformed.json()
        raise AssertionError("malformed mode answered valid JSON")
    except ValueError:
        pass
    await set_fault(court, court="粤0106", mode="redirect")
    redirect = await health(court)
    assert redirect.status_code == 307 and redirect.headers["location"].startswith("http://169.254.169.254/")


async def test_commit_then_503_and_redelivery(fresh_court: RefCourt) -> None:
    """A response lost after the court committed: the redelivery with the same key finds one record."""
    court = fresh_court
    case = case_path(DEMO_CASES["zhangwei_yue0106_trial"])
    key = uuid.uuid4().hex
    await set_fault(court, court="粤0106", mode="commit_then_503", count=1)
    lost = await court.post("粤0106", f"/cases/{case}/judge-messages", "zhangwei", {"text": "x"}, key=key)
    assert lost.status_code == 503
    again = await court.post("粤0106", f"/cases/{case}/judge-messages", "zhangwei", {"text": "x"}, key=key)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    records = (await court.client.get(f"{court.url}/_ref/yue0106/records")).json()
    assert records["items"] == {"message": 1}


async def test_bad_fault_requests(fresh_court: RefCourt) -> None:
    court = fresh_court
    problem(await set_fault(court, court=None, mode="explode"), 400, "VALIDATION_FAILED")
    problem(await set_fault(court, court="粤9999", mode="ok"), 400, "VALIDATION_FAILED")
    problem(await set_fault(court, court=None, mode="slow", seconds=-1), 400, "VALIDATION_FAILED")
    problem(await set_fault(court, court=None, mode="unavailable_503", count=0), 400, "VALIDATION_FAILED")
