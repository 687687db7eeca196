"""Channel parity: the same citizen doing the same thing on every channel gets the same result,
and the court receives the same canonical request every time.

Runs over every installed channel with a driver (tests/drivers), beside the canonical API.
The hotline and the 5G chatbot are left out here: their menus offer fixed operations and
answer in words (spoken prompts, cards), so their own parity tests compare those facts and the
court's requests with the canonical API (tests/adapters/ivr12368, tests/adapters/rcs5g).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.drivers import installed_drivers
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack
from workbench.drivers import ChannelDriver, Person

CASE = DEMO_CASES["zhangwei_yue0106_trial"]
PDF = b"%PDF-1.7\n% parity\n%%EOF\n"
ZHANG = Person(DEMO_PEOPLE["zhangwei"].name, DEMO_PEOPLE["zhangwei"].id_number,
               phone=DEMO_PEOPLE["zhangwei"].phone)
WANG = Person(DEMO_PEOPLE["wangfang"].name, DEMO_PEOPLE["wangfang"].id_number, phone=DEMO_PEOPLE["wangfang"].phone)
DRIVERS = installed_drivers(exclude=("ivr12368", "rcs5g"))


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with channel_stack(DRIVERS) as running:
        yield running


def identity(entry: dict[str, Any]) -> tuple[Any, ...]:
    actor = entry["actor"]
    return actor["sub"], actor["name"], actor["id_type"], actor["id_number"]


def canonical_request(entry: dict[str, Any]) -> tuple[Any, ...]:
    """What must be identical across channels: method, path, query, body (upload ids aside) and who."""
    body = entry["body"]
    if isinstance(body, dict) and "documents" in body:
        body = {**body, "documents": [{**d, "upload_id": "<upload>"} for d in body["documents"]]}
    return entry["method"], entry["path"], entry["query"], body, identity(entry)


async def canonical(stack: Stack, client: httpx.AsyncClient, person: Person, op: str, args: dict[str, Any],
                    key: str | None = None) -> httpx.Response:
    token = stack.issuer.citizen({"name": person.name, "id_number": person.id_number})
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    case = quote(CASE, safe="")
    if op == "cases.progress":
        return await client.get(f"/api/v1/cases/{case}/progress", headers=headers)
    if op == "uploads.create":
        name, content, content_type = args["file"]
        return await client.post("/api/v1/uploads", params={"court": args["court"]}, headers=headers,
                                 files={"file": (name, content, content_type)})
    path = {"materials.submit": "materials", "judge_messages.send": "judge-messages"}[op]
    body = {k: v for k, v in args.items() if k != "case_no"}
    return await client.post(f"/api/v1/cases/{case}/{path}", headers=headers, json=body)


def new_entries(stack: Stack, since: int, suffix: str, method: str) -> list[dict[str, Any]]:
    return [e for e in stack.journal.entries(since=since) if e["path"].endswith(suffix) and e["method"] == method]


def last_seq(stack: Stack) -> int:
    entries = stack.journal.entries()
    return int(entries[-1]["seq"]) if entries else 0


async def journey(stack: Stack, client: httpx.AsyncClient, driver: ChannelDriver | None) -> dict[str, Any]:
    """progress, upload + materials, judge message; returns results and what the court received."""
    session = await driver.sign_in(client, stack.gateway_url, ZHANG) if driver else None

    async def call(op: str, args: dict[str, Any], key: str | None = None) -> Any:
        if driver is None:
            answer = await canonical(stack, client, ZHANG, op, args, key)
            assert answer.status_code in (200, 201), answer.text
            return answer.json()
        channel_answer = await driver.call(client, stack.gateway_url, session, op, args, key)
        assert channel_answer.ok, (driver.channel, op, channel_answer.body)
        return channel_answer.data

    since = last_seq(stack)
    progress = await call("cases.progress", {"case_no": CASE})
    upload = await call("uploads.create", {"court": "粤0106", "file": ("合同.pdf", PDF + secrets.token_bytes(4),
                                                                        "application/pdf")})
    materials = await call("materials.submit", {"case_no": CASE, "kind": "evidence", "note": "补充证据",
                                                "documents": [{"upload_id": upload["upload_id"], "name": "合同"}]},
                           "k-" + secrets.token_hex(6))
    message = await call("judge_messages.send", {"case_no": CASE, "text": "请问开庭时间是否可以调整？"},
                         "k-" + secrets.token_hex(6))
    received = {
        "progress": new_entries(stack, since, "/progress", "GET"),
        "materials": new_entries(stack, since, "/materials", "POST"),
        "message": new_entries(stack, since, "/judge-messages", "POST"),
    }
    return {"progress": progress, "materials": materials, "message": message, "received": received}


@pytest.mark.skipif(not DRIVERS, reason="no channel adapter installed")
async def test_every_channel_sends_the_court_the_same_canonical_requests(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        reference = await journey(stack, client, None)
        for driver in DRIVERS:
            seen = await journey(stack, client, driver)
            assert seen["progress"] == reference["progress"], driver.channel
            for step in ("progress", "materials", "message"):
                ours = [canonical_request(e) for e in seen["received"][step]]
                theirs = [canonical_request(e) for e in reference["received"][step]]
                assert ours == theirs, (driver.channel, step)
            assert set(seen["materials"]) == set(reference["materials"]), driver.channel
            assert set(seen["message"]) == set(reference["message"]), driver.channel
            channels = {e["actor"]["channel"] for e in seen["received"]["progress"]}
            assert channels == {driver.channel}


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: d.channel)
async def test_a_non_party_gets_not_found_and_the_court_never_sees_it(stack: Stack, driver: ChannelDriver) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        session = await driver.sign_in(client, stack.gateway_url, WANG)
        since = last_seq(stack)
        progress = await driver.call(client, stack.gateway_url, session, "cases.progress", {"case_no": CASE})
        message = await driver.call(client, stack.gateway_url, session, "judge_messages.send",
                                    {"case_no": CASE, "text": "你好"}, "k-" + secrets.token_hex(6))
        missing = await driver.call(client, stack.gateway_url, session, "cases.progress",
                                    {"case_no": "（2026）粤0106民初99998号"})
    assert progress.code == message.code == missing.code == "NOT_FOUND"
    assert progress.body == missing.body or _same_shape(progress.body, missing.body)
    assert all(e["path"].endswith("/access") for e in stack.journal.entries(since=since))


def _same_shape(a: Any, b: Any) -> bool:
    """Identical apart from per-request identifiers: no enumeration through the error text."""
    volatile = {"request_id", "requestId", "screen", "display"}
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: v for k, v in a.items() if k not in volatile} == {k: v for k, v in b.items() if k not in volatile}
    return bool(a == b)
