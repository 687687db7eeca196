"""Lifecycle hooks send signed events to the gateway (CONTRACTS.md section 5)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reference_court import DEMO_CASES, create_reference_court, sign_event, verify_event_signature
from reference_court.events import encode_event, make_event
from tests.reference_court.conftest import Mint, RefCourt, case_path, problem
from tests.reference_court.test_writes import filing_body
from tests.support.servers import serve

SECRET = "粤0106-event-secret-for-tests"
T0106 = DEMO_CASES["zhangwei_yue0106_trial"]


@dataclass
class FakeGateway:
    """Receives events like the gateway's /internal/v1/events, and publishes the JWKS."""

    jwks: dict[str, Any]
    answer: int = 202
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def events(request: Request) -> Response:
            self.received.append((dict(request.headers), await request.body()))
            return Response(status_code=self.answer)

        async def keys(request: Request) -> Response:
            return JSONResponse(self.jwks)

        return Starlette(routes=[Route("/internal/v1/events", events, methods=["POST"]),
                                 Route("/.well-known/jwks.json", keys)])

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]

    def last(self) -> tuple[dict[str, str], bytes, dict[str, Any]]:
        headers, body = self.received[-1]
        return headers, body, json.loads(body)


@dataclass
class Setup:
    court: RefCourt
    gateway: FakeGateway


@pytest.fixture
async def setup(jwks: dict[str, Any], mint: Mint) -> AsyncIterator[Setup]:
    gateway = FakeGateway(jwks)
    async with serve(gateway.app()) as gateway_url:
        app = create_reference_court(jwks_provider=None, gateway_url=gateway_url, event_secrets={"粤0106": SECRET})
        async with serve(app) as url, httpx.AsyncClient(timeout=10) as client:
            yield Setup(RefCourt(url, app, client, mint), gateway)


def check_signature(headers: dict[str, str], body: bytes) -> None:
    """Recompute the signature independently of reference_court.events."""
    parts = dict(part.split("=", 1) for part in headers["x-court-signature"].split(","))
    assert abs(int(parts["t"]) - time.time()) < 30
    expected = hmac.new(SECRET.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)


async def hook(court: RefCourt, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await court.client.post(f"{court.url}/_ref/yue0106{path}", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_filing_lifecycle_events(setup: Setup) -> None:
    court, gateway = setup.court, setup.gateway
    filing = (await court.post("粤0106", "/filings", "zhangwei", filing_body())).json()
    fid = filing["filing_id"]

    result = await hook(court, f"/filings/{fid}/advance", {"status": "UNDER_REVIEW"})
    assert result["events"][0]["delivery"] == "delivered"
    headers, body, event = gateway.last()
    check_signature(headers, body)
    assert headers["content-type"] == "application/json"
    assert set(event) == {"id", "type", "court", "occurred_at", "data"}
    assert event["type"] == "filing.received" and event["court"] == "粤0106"
    assert event["data"]["filing_id"] == fid and event["data"]["handler"]
    assert event["occurred_at"].endswith("+08:00")

    await hook(court, f"/filings/{fid}/advance", {"status": "CORRECTION_REQUIRED", "items": ["补充身份证复印件"]})
    assert gateway.last()[2]["type"] == "filing.correction_required"
    assert gateway.last()[2]["data"] == {"filing_id": fid, "items": ["补充身份证复印件"]}

    await hook(court, f"/filings/{fid}/advance", {"status": "ACCEPTED"})
    assert gateway.last()[2]["data"] == {"filing_id": fid, "status": "ACCEPTED"}

    docketed = await hook(court, f"/filings/{fid}/advance", {"status": "DOCKETED"})
    _, body, event = gateway.last()
    check_signature(gateway.received[-1][0], body)
    assert event["type"] == "filing.docketed"
    case_no = event["data"]["case_no"]
    assert case_no.startswith("（") and "粤0106民初" in case_no
    assert docketed["filing"]["case_no"] == case_no
    assert [e["type"] for e in gateway.events()] == ["filing.received", "filing.correction_required",
                                                     "filing.reviewed", "filing.docketed"]
    assert len({e["id"] for e in gateway.events()}) == 4

    # the new case is the filer's now
    progress = await court.get("粤0106", f"/cases/{case_path(case_no)}/progress", "zhangwei")
    assert progress.status_code == 200 and progress.json()["stage"] == "FILED"
    fees = (await court.get("粤0106", f"/cases/{case_path(case_no)}/payments", "zhangwei")).json()["items"]
    assert fees[0]["amount"] == "1050.00" and fees[0]["status"] == "ASSESSED"
    assert (await court.get("粤0106", f"/filings/{fid}", "zhangwei")).json()["status"] == "DOCKETED"

    again = await court.client.post(f"{court.url}/_ref/yue0106/filings/{fid}/advance", json={"status": "REJECTED"})
    problem(again, 409, "FILING_FINAL")


async def test_rejection_carries_the_reason(setup: Setup) -> None:
    court, gateway = setup.court, setup.gateway
    fid = (await court.post("粤0106", "/filings", "zhangwei", filing_body())).json()["filing_id"]
    await hook(court, f"/filings/{fid}/advance", {"status": "NOT_ACCEPTED", "reason": "不属于本院管辖"})
    assert gateway.last()[2]["data"] == {"filing_id": fid, "status": "NOT_ACCEPTED", "reason": "不属于本院管辖"}


async def test_judge_reply_hearing_payment_and_application_events(setup: Setup) -> None:
    court, gateway = setup.court, setup.gateway
    case = case_path(T0106)
    message = (await court.post("粤0106", f"/cases/{case}/judge-messages", "zhangwei", {"text": "何时开庭？"})).json()
    await hook(court, f"/cases/{case}/judge-messages/{message['message_id']}/reply", {"text": "已排期，请留意传票。"})
    assert gateway.last()[2]["type"] == "judge_message.replied"
    assert gateway.last()[2]["data"] == {"case_no": T0106, "message_id": message["message_id"]}
    listed = (await court.get("粤0106", f"/cases/{case}/judge-messages", "zhangwei")).json()["items"]
    assert next(m for m in listed if m["message_id"] == message["message_id"])["reply"]["text"] == "已排期，请留意传票。"

    await hook(court, f"/cases/{case}/hearings", {"at": "2030-01-08T09:30:00+08:00", "place": "第九法庭",
                                                  "mode": "in_person"})
    event = gateway.last()[2]
    assert event["type"] == "hearing.scheduled"
    assert {"case_no", "hearing_id", "at", "place", "mode"} == set(event["data"])

    fees = (await court.get("粤0106", f"/cases/{case}/payments", "zhangwei")).json()["items"]
    fee = next(f for f in fees if f["status"] in ("ASSESSED", "PENDING"))
    payment = (await court.post("粤0106", f"/cases/{case}/payments", "zhangwei", {"fee_id": fee["fee_id"]})).json()
    await hook(court, f"/payments/{payment['payment_id']}/confirm", {})
    assert gateway.last()[2]["data"] == {"case_no": T0106, "payment_id": payment["payment_id"],
                                         "amount": fee["amount"]}
    fees = (await court.get("粤0106", f"/cases/{case}/payments", "zhangwei")).json()["items"]
    assert next(f for f in fees if f["fee_id"] == fee["fee_id"])["status"] == "PAID"

    judged = case_path(DEMO_CASES["zhangwei_yue0106_judged"])
    refund = (await court.post("粤0106", f"/cases/{judged}/refunds", "zhangwei", {
        "amount": "20.00", "reason": "多交", "account": {"bank": "工行", "account_name": "张伟",
                                                       "account_no": "6222021234567890"}})).json()
    await hook(court, f"/applications/{refund['application_id']}/advance", {"status": "APPROVED"})
    assert gateway.last()[2]["data"] == {"application_id": refund["application_id"], "kind": "refund",
                                         "status": "APPROVED"}
    result = await hook(court, f"/applications/{refund['application_id']}/advance", {"status": "REFUNDED"})
    assert [e["event"]["type"] for e in result["events"]] == ["application.updated", "refund.completed"]
    assert gateway.last()[2]["data"]["amount"] == "20.00"
    bad = await court.client.post(f"{court.url}/_ref/yue0106/applications/{refund['application_id']}/advance",
                                  json={"status": "ACCEPTED"})
    problem(bad, 409, "APPLICATION_FINAL")
    for headers, body in gateway.received:
        check_signature(headers, body)


async def test_failed_delivery_does_not_break_the_court(setup: Setup) -> None:
    court, gateway = setup.court, setup.gateway
    gateway.answer = 503
    fid = (await court.post("粤0106", "/filings", "zhangwei", filing_body())).json()["filing_id"]
    result = await hook(court, f"/filings/{fid}/advance", {"status": "UNDER_REVIEW"})
    assert result["events"][0]["delivery"] == "retrying"
    assert len(gateway.received) == 3  # the inline attempts, all with the same event id
    assert len({json.loads(b)["id"] for _, b in gateway.received}) == 1
    gateway.answer = 401
    result = await hook(court, f"/filings/{fid}/advance", {"status": "ACCEPTED"})
    assert result["events"][0]["delivery"] == "refused"
    assert (await court.get("粤0106", "/health")).status_code == 200


async def test_court_without_secret_sends_nothing(setup: Setup) -> None:
    court, gateway = setup.court, setup.gateway
    filing = (await court.post("粤0105", "/filings", "zhangwei", filing_body("粤0105"))).json()
    response = await court.client.post(f"{court.url}/_ref/yue0105/filings/{filing['filing_id']}/advance",
                                       json={"status": "UNDER_REVIEW"})
    assert response.json()["events"][0]["delivery"] == "skipped"
    assert gateway.received == []


async def test_unknown_filing_and_court(setup: Setup) -> None:
    court = setup.court
    problem(await court.client.post(f"{court.url}/_ref/yue0106/filings/nope/advance", json={"status": "ACCEPTED"}),
            404, "NOT_FOUND")
    problem(await court.client.post(f"{court.url}/_ref/yue9999/filings/nope/advance", json={"status": "ACCEPTED"}),
            404, "NOT_FOUND")
    problem(await court.client.post(f"{court.url}/_ref/yue0106/filings/nope/advance", json={"status": "PAID"}),
            400, "VALIDATION_FAILED")


def test_signature_helpers() -> None:
    body = encode_event(make_event("filing.received", "粤0106", {"filing_id": "LA-0106-1"}))
    header = sign_event(SECRET, body, timestamp=1_800_000_000)
    assert header.startswith("t=1800000000,v1=")
    assert verify_event_signature(SECRET, header, body, now=1_800_000_100)
    assert not verify_event_signature(SECRET, header, body + b" ", now=1_800_000_100)
    assert not verify_event_signature("other", header, body, now=1_800_000_100)
    assert not verify_event_signature(SECRET, header, body, now=1_800_001_000)  # stale
    assert not verify_event_signature(SECRET, None, body)
    assert not verify_event_signature(SECRET, "v1=abc", body)
