"""POST /internal/v1/events over real HTTP: signatures, replays, duplicates, malformed bodies.

The whole module runs twice: with in-memory state and with a private redis-server.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from gateway.config import ConfigContext, CourtSettings, default_sla_rules
from gateway.domain.courts import court_env_suffix
from gateway.events import CourtEvents, parse_event
from gateway.sla.calendar import StatutoryCalendar
from gateway.sla.timers import TimerStore, new_timer, timer_id
from gateway.state import StateUnavailable
from gateway.state.memory import MemoryState
from reference_court.events import encode_event, make_event, sign_event
from reference_court.seed import DEMO_PEOPLE
from tests.support.stack import RedisServer, Stack, running_stack

ZW = DEMO_PEOPLE["zhangwei"]
COURT = "粤0106"


@pytest.fixture(scope="module", params=["memory", "redis"])
async def stack(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[Stack]:
    state = "memory" if request.param == "memory" else redis_server.url
    async with running_stack(state=state) as running:
        yield running


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as http:
        yield http


def secret_of(stack: Stack, court: str = COURT) -> str:
    return stack.env[f"COURT_{court_env_suffix(court)}_EVENT_SECRET"]


def signed(stack: Stack, body: bytes, *, court: str = COURT, at: int | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Court-Signature": sign_event(secret_of(stack, court), body, at)}


def an_event(event_type: str = "filing.reviewed", data: dict[str, Any] | None = None, **extra: Any) -> bytes:
    body = make_event(event_type, COURT, data or {"filing_id": "LA-" + secrets.token_hex(4), "status": "ACCEPTED"})
    body.update(extra)
    return encode_event(body)


async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/internal/v1/events", content=body, headers=headers)


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["request_id"] == response.headers["x-request-id"]
    return body


async def test_a_signed_event_is_processed_once_and_a_replay_is_a_duplicate(client: httpx.AsyncClient,
                                                                           stack: Stack) -> None:
    body = an_event()
    headers = signed(stack, body)
    first = await post(client, body, headers)
    assert first.status_code == 200 and first.json()["status"] == "processed"
    replayed = await post(client, body, headers)  # the very same request, captured and sent again
    assert replayed.status_code == 200 and replayed.json() == {"id": first.json()["id"], "status": "duplicate"}
    resent = await post(client, body, signed(stack, body))  # the court's own retry, signed afresh
    assert resent.json()["status"] == "duplicate"


async def test_the_same_id_with_another_body_is_still_the_same_event(client: httpx.AsyncClient, stack: Stack) -> None:
    body = an_event(id="evt-fixed-" + secrets.token_hex(4))
    assert (await post(client, body, signed(stack, body))).json()["status"] == "processed"
    changed = body.replace(b"ACCEPTED", b"REJECTED")
    assert (await post(client, changed, signed(stack, changed))).json()["status"] == "duplicate"


async def test_bad_missing_and_foreign_signatures_are_refused(client: httpx.AsyncClient, stack: Stack) -> None:
    body = an_event()
    problem(await post(client, body, {"Content-Type": "application/json"}), 401, "SIGNATURE_INVALID")
    problem(await post(client, body, {"X-Court-Signature": f"t={int(time.time())},v1={'0' * 64}"}),
            401, "SIGNATURE_INVALID")
    problem(await post(client, body + b" ", signed(stack, body)), 401, "SIGNATURE_INVALID")
    # Signed with another court's secret while claiming to be 粤0106.
    problem(await post(client, body, signed(stack, body, court="粤01")), 401, "SIGNATURE_INVALID")
    # A court the gateway does not serve has no secret to check against: the same answer.
    foreign = encode_event(make_event("filing.reviewed", "粤9999", {"filing_id": "X", "status": "ACCEPTED"}))
    problem(await post(client, foreign, signed(stack, foreign)), 401, "SIGNATURE_INVALID")


async def test_a_stale_signature_is_a_replayed_request(client: httpx.AsyncClient, stack: Stack) -> None:
    body = an_event()
    stale = await post(client, body, signed(stack, body, at=int(time.time()) - 301))
    problem(stale, 401, "REPLAYED_REQUEST")
    # Nothing was processed: the same event, signed now, goes through.
    assert (await post(client, body, signed(stack, body))).json()["status"] == "processed"


async def test_malformed_bodies_are_refused_clearly(client: httpx.AsyncClient, stack: Stack) -> None:
    for raw in (b"not json", b"[1, 2]"):
        problem(await post(client, raw, signed(stack, raw)), 400, "VALIDATION_FAILED")
    missing = encode_event({"id": "evt-x", "type": "filing.reviewed", "court": COURT, "data": {"status": "X"}})
    body = problem(await post(client, missing, signed(stack, missing)), 400, "VALIDATION_FAILED")
    assert {e["field"] for e in body["errors"]} == {"occurred_at"}
    bad_data = an_event("filing.docketed", {"filing_id": "LA-1"})
    body = problem(await post(client, bad_data, signed(stack, bad_data)), 400, "VALIDATION_FAILED")
    assert body["errors"] == [{"field": "data.case_no", "message": "Field required"}]
    huge = an_event("filing.reviewed", {"filing_id": "LA-1", "status": "ACCEPTED", "note": "x" * 300_000})
    problem(await post(client, huge, signed(stack, huge)), 413, "PAYLOAD_TOO_LARGE")


async def test_unknown_types_are_accepted_and_logged(client: httpx.AsyncClient, stack: Stack) -> None:
    body = an_event("case.archived", {"case_no": "（2024）粤0106民初88号"})
    answer = await post(client, body, signed(stack, body))
    assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    assert (await post(client, body, signed(stack, body))).json()["status"] == "duplicate"


async def test_an_event_still_being_processed_asks_the_court_to_retry(client: httpx.AsyncClient,
                                                                        stack: Stack) -> None:
    body = an_event(id="evt-busy-" + secrets.token_hex(4))
    await stack.state.set(f"evt:seen:{parse_event(orjson.loads(body)).key}", b"processing", 30)
    busy = await post(client, body, signed(stack, body))
    problem(busy, 409, "IDEMPOTENCY_IN_PROGRESS")
    assert busy.headers["retry-after"] == "5"


async def test_events_move_the_timer_of_a_filing_made_through_the_gateway(client: httpx.AsyncClient,
                                                                          stack: Stack) -> None:
    token = stack.issuer.citizen({"name": ZW.name, "id_number": ZW.id_number}, sub=secrets.token_hex(4))
    args = {"court": COURT, "case_type": "民初", "cause": "民间借贷纠纷",
            "plaintiffs": [{"kind": "person", "name": ZW.name, "id_type": "ID_CARD", "id_number": ZW.id_number}],
            "defendants": [{"kind": "person", "name": "刘洋", "id_type": "ID_CARD",
                            "id_number": DEMO_PEOPLE["liuyang"].id_number}],
            "claims": "偿还借款", "facts": "借款未还", "documents": []}
    filed = await client.post("/api/v1/filings", json=args,
                              headers={"Authorization": f"Bearer {token}", "Idempotency-Key": secrets.token_hex(8)})
    assert filed.status_code == 201, filed.text
    filing_id = filed.json()["filing_id"]
    runtime = stack.host.runtime
    assert runtime is not None
    timers: TimerStore = runtime.sla.timers
    tid = timer_id(COURT, "filing_id", filing_id)
    assert (started := await timers.get(tid)) is not None and started.status == "running"

    correction = an_event("filing.correction_required", {"filing_id": filing_id, "items": ["证据清单"]})
    assert (await post(client, correction, signed(stack, correction))).json()["status"] == "processed"
    assert (paused := await timers.get(tid)) is not None and paused.status == "paused"
    received = an_event("filing.received", {"filing_id": filing_id, "handler": "staff-0106-lian-01"})
    assert (await post(client, received, signed(stack, received))).json()["status"] == "processed"
    assert (again := await timers.get(tid)) is not None
    assert (again.status, again.cycle, again.handler) == ("running", 2, "staff-0106-lian-01")
    docketed = an_event("filing.docketed", {"filing_id": filing_id, "case_no": "（2026）粤0106民初77号"})
    assert (await post(client, docketed, signed(stack, docketed))).json()["status"] == "processed"
    assert (ended := await timers.get(tid)) is not None and ended.status == "stopped"


async def test_a_state_store_failure_is_a_503_and_the_court_retry_completes_the_event() -> None:
    class Flaky(MemoryState):
        down = False

        async def swap(self, *args: Any, **kwargs: Any) -> bool:
            if self.down:
                raise StateUnavailable("down")
            return await super().swap(*args, **kwargs)

    secret = "e" * 40
    court = CourtSettings.model_validate({"name": "天河区人民法院", "base_url": "http://127.0.0.1:9",
                                          "event_secret_env": "S"}, context=ConfigContext(env={"S": secret}))
    state = Flaky()
    rules = default_sla_rules()
    timers = TimerStore(state, rules.get)
    calendar = StatutoryCalendar()
    filing = "LA-" + secrets.token_hex(4)
    await timers.create(new_timer(calendar, court=COURT, operation="filings.submit", item_kind="filing_id",
                                  item_id=filing, rule=rules["filings.submit"], now=time.time()), time.time())
    events = CourtEvents({COURT: court}, state, timers, calendar)
    body = an_event("filing.docketed", {"filing_id": filing, "case_no": "（2026）粤0106民初1号"})
    transport = httpx.ASGITransport(app=Starlette(routes=events.routes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        state.down = True
        down = await http.post("/internal/v1/events", content=body, headers={"X-Court-Signature": sign_event(secret, body)})
        problem(down, 503, "SERVICE_UNAVAILABLE")
        assert down.headers["retry-after"] == "5"
        assert await state.get(f"evt:seen:{parse_event(orjson.loads(body)).key}") is None  # not marked seen
        state.down = False
        retried = await http.post("/internal/v1/events", content=body,
                                  headers={"X-Court-Signature": sign_event(secret, body)})
    assert retried.json()["status"] == "processed"
    assert (timer := await timers.get(timer_id(COURT, "filing_id", filing))) is not None and timer.status == "stopped"
