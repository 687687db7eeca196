"""The staff board GET /api/v1/admin/sla, readiness and metrics, over real HTTP."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine

from gateway.sla.calendar import CHINA
from gateway.sla.engine import SlaEngine
from reference_court.seed import DEMO_PEOPLE
from tests.support.stack import RedisServer, Stack, running_stack

ZW = DEMO_PEOPLE["zhangwei"]
COURT = "粤0106"


@pytest.fixture(scope="module", params=["memory", "redis"])
async def stack(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[Stack]:
    state = "memory" if request.param == "memory" else redis_server.url
    if request.param == "redis":
        redis_server.flush()
    async with running_stack(state=state) as running:
        yield running


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as http:
        yield http


def staff(stack: Stack, court: str = COURT) -> dict[str, str]:
    token = stack.issuer.mint(sub="staff-" + secrets.token_hex(3), roles=["court_staff"], court=court)
    return {"Authorization": f"Bearer {token}"}


def citizen(stack: Stack) -> dict[str, str]:
    token = stack.issuer.citizen({"name": ZW.name, "id_number": ZW.id_number}, sub=secrets.token_hex(4))
    return {"Authorization": f"Bearer {token}"}


async def file_one(client: httpx.AsyncClient, stack: Stack) -> str:
    args = {"court": COURT, "case_type": "民初", "cause": "民间借贷纠纷",
            "plaintiffs": [{"kind": "person", "name": ZW.name, "id_type": "ID_CARD", "id_number": ZW.id_number}],
            "defendants": [{"kind": "person", "name": "刘洋", "id_type": "ID_CARD",
                            "id_number": DEMO_PEOPLE["liuyang"].id_number}],
            "claims": "偿还借款", "facts": "借款未还", "documents": []}
    answer = await client.post("/api/v1/filings", json=args,
                               headers={**citizen(stack), "Idempotency-Key": secrets.token_hex(8)})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["filing_id"])


def item_of(board: dict[str, Any], filing_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [i for i in board["items"] if i["item_id"] == filing_id]
    assert len(found) == 1, board
    return found[0]


async def test_staff_see_their_courts_items_with_due_date_status_and_rung(client: httpx.AsyncClient,
                                                                         stack: Stack) -> None:
    filing = await file_one(client, stack)
    answer = await client.get("/api/v1/admin/sla", headers=staff(stack))
    assert answer.status_code == 200, answer.text
    board = answer.json()
    assert board["court"] == COURT and board["court_name"] == "天河区人民法院"
    item = item_of(board, filing)
    assert (item["operation"], item["status"], item["overdue_by_s"], item["rung"]) == (
        "filings.submit", "running", 0, None)
    # Provisional exactly when the statutory calendar does not know a year the count ran through.
    calendar = stack.host.runtime.sla.calendar if stack.host.runtime else None
    assert calendar is not None
    years = range(datetime.fromisoformat(item["accepted_at"]).year, datetime.fromisoformat(item["deadline"]).year + 1)
    assert item["provisional"] is not all(calendar.knows(year) for year in years)
    assert item["deadline"].endswith("T00:00:00+08:00")
    assert board["counts"]["running"] >= 1
    # The morning after the deadline the gateway reported (weekends and holidays already counted in
    # it, whatever day the test runs on), the filing is overdue; the worker climbs the first rung
    # (nobody is configured to be texted here, but the rung is passed and shown).
    later = datetime.fromisoformat(item["deadline"]) + timedelta(hours=9, seconds=5)
    with time_machine.travel(later, tick=True):
        deadline = time.monotonic() + 10
        while True:
            board = (await client.get("/api/v1/admin/sla", params={"status": "overdue"},
                                      headers=staff(stack))).json()
            item = item_of(board, filing)
            if item["rung"] is not None or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
    assert item["status"] == "overdue" and item["overdue_by_days"] >= 1
    assert item["rung"]["level"] == 1 and item["rung"]["roles"] == ["handler", "division_head"]
    assert {i["status"] for i in board["items"]} == {"overdue"}


async def test_nobody_else_reaches_the_board(client: httpx.AsyncClient, stack: Stack) -> None:
    await file_one(client, stack)
    anonymous = await client.get("/api/v1/admin/sla")
    assert (anonymous.status_code, anonymous.json()["code"]) == (404, "NOT_FOUND")  # not even "log in first"
    for headers, params in ((citizen(stack), {}), (citizen(stack), {"court": COURT}),
                            (staff(stack, "粤01"), {"court": COURT}), (staff(stack), {"court": "粤9999"})):
        answer = await client.get("/api/v1/admin/sla", headers=headers, params=params)
        assert (answer.status_code, answer.headers["content-type"]) == (404, "application/problem+json")
        assert answer.json()["code"] == "NOT_FOUND"
    # Staff of 粤01 see 粤01's board, without 粤0106's filings.
    own = (await client.get("/api/v1/admin/sla", headers=staff(stack, "粤01"))).json()
    assert own["court"] == "粤01" and all(i["item_id"] for i in own["items"])
    assert not [i for i in own["items"] if i["operation"] == "filings.submit"]


async def test_bad_query_arguments_are_refused(client: httpx.AsyncClient, stack: Stack) -> None:
    for params in ({"status": "late"}, {"limit": "0"}, {"limit": "lots"}):
        answer = await client.get("/api/v1/admin/sla", headers=staff(stack), params=params)
        assert (answer.status_code, answer.json()["code"]) == (400, "VALIDATION_FAILED")


async def test_the_calendar_gap_is_reported_as_a_configuration_problem(client: httpx.AsyncClient,
                                                                      stack: Stack) -> None:
    runtime = stack.host.runtime
    assert runtime is not None
    expected = list(runtime.sla.unknown_years())
    ready = (await client.get("/readyz")).json()
    assert ready["sla"] == {"calendar": "provisional" if expected else "ok", "calendar_unknown_years": expected}
    with time_machine.travel(datetime(2026, 6, 1, 10, tzinfo=CHINA)):
        assert runtime.sla.readiness() == {"calendar": "ok", "calendar_unknown_years": []}
    with time_machine.travel(datetime(2026, 12, 20, 10, tzinfo=CHINA)):
        gap = [] if runtime.sla.calendar.knows(2027) else [2027]  # chinese-calendar 1.11.0 does not know it
        assert runtime.sla.readiness() == {"calendar": "provisional" if gap else "ok", "calendar_unknown_years": gap}
    # The worker turns the board into gauges; run one refresh now rather than wait for it.
    [engine] = [job for job in runtime.jobs if isinstance(job, SlaEngine)]
    await engine.observe(time.time())
    metrics = (await client.get("/metrics")).text
    open_items = len((await client.get("/api/v1/admin/sla", headers=staff(stack), params={"limit": "1000"})).json()[
        "items"])
    running = [line for line in metrics.splitlines()
               if line.startswith('court_gateway_sla_items{court="粤0106",status="running"}')]
    assert running and float(running[0].split()[-1]) == open_items > 0
    for year in expected:
        assert f'court_gateway_sla_calendar_unknown_year{{year="{year}"}} 1.0' in metrics
