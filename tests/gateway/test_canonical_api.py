"""The canonical API end to end: real gateway, real reference court, real HTTP on loopback.

The whole module runs three times: with in-memory state, a private redis-server, and a private
3-primary Redis Cluster.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import zipfile
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from reference_court.seed import DEMO_CASES, DEMO_PEOPLE, DemoPerson
from tests.support.redis_servers import RedisClusterNodes
from tests.support.stack import RedisServer, Stack, running_stack

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ZW = DEMO_PEOPLE["zhangwei"]
WF = DEMO_PEOPLE["wangfang"]
CJ = DEMO_PEOPLE["chenjing"]
TRIAL = DEMO_CASES["zhangwei_yue0106_trial"]
JUDGED = DEMO_CASES["zhangwei_yue0106_judged"]


@pytest.fixture(scope="module", params=["memory", "redis", "cluster"])
async def stack(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[Stack]:
    if request.param == "cluster":
        cluster: RedisClusterNodes = request.getfixturevalue("redis_cluster")
        state = cluster.url
    else:
        state = "memory" if request.param == "memory" else redis_server.url
    async with running_stack(state=state) as running:
        yield running


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as http:
        yield http


def auth(stack: Stack, person: DemoPerson, acr: str = "L2") -> dict[str, str]:
    token = stack.issuer.citizen({"name": person.name, "id_number": person.id_number}, acr=acr,
                                 sub=secrets.token_hex(4))
    return {"Authorization": f"Bearer {token}"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": "k-" + secrets.token_hex(8)}


def progress_path(case_no: str) -> str:
    return f"/api/v1/cases/{quote(case_no, safe='')}/progress"


def court_requests(stack: Stack, since: int, fragment: str) -> list[dict[str, Any]]:
    return [e for e in stack.journal.entries(since=since) if fragment in e["path"]]


def last_seq(stack: Stack) -> int:
    entries = stack.journal.entries()
    return int(entries[-1]["seq"]) if entries else 0


async def upload(client: httpx.AsyncClient, stack: Stack, person: DemoPerson, court: str) -> str:
    answer = await client.post("/api/v1/uploads", params={"court": court}, headers=auth(stack, person),
                               files={"file": ("证据一.pdf", PDF, "application/pdf")})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["content_type"] == "application/pdf" and body["size"] == len(PDF)
    return str(body["upload_id"])


# --- public operations ----------------------------------------------------------------------------


async def test_courts_templates_and_fees_are_public(client: httpx.AsyncClient) -> None:
    courts = (await client.get("/api/v1/courts")).json()["items"]
    assert {"code": "粤0192", "name": "广州互联网法院"} in courts and len(courts) == 17
    templates = (await client.get("/api/v1/templates", params={"q": "起诉"})).json()["items"]
    assert any(t["title"] == "民事起诉状" for t in templates)
    template_id = templates[0]["template_id"]
    one = await client.get(f"/api/v1/templates/{template_id}")
    assert one.status_code == 200 and one.json()["template_id"] == template_id
    file = await client.get(f"/api/v1/templates/{template_id}/file")
    assert file.status_code == 200 and "filename*=UTF-8''" in file.headers["content-disposition"]
    assert "word/document.xml" in zipfile.ZipFile(io.BytesIO(file.content)).namelist()
    fee = await client.post("/api/v1/fees/calculate", json={"case_type": "民初", "amount": 50000})
    assert fee.status_code == 200 and fee.json()["total"] == "1050.00"


# --- routing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case_key", "person", "court"),
    [
        ("zhangwei_yue0106_trial", ZW, "粤0106"),
        ("zhangwei_yue01_appeal", ZW, "粤01"),
        ("zhangwei_yue0192_online", ZW, "粤0192"),
        ("zhangwei_yue73_trademark", ZW, "粤73"),
        ("chenjing_yue0111_labour", CJ, "粤0111"),
    ],
)
async def test_progress_is_routed_by_the_case_numbers_court(
    client: httpx.AsyncClient, stack: Stack, case_key: str, person: DemoPerson, court: str
) -> None:
    case_no = DEMO_CASES[case_key]
    since = last_seq(stack)
    answer = await client.get(progress_path(case_no), headers=auth(stack, person))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["case_no"] == case_no and body["court"] == court
    assert body["stage"] in {"FILED", "ASSIGNED", "IN_TRIAL", "HEARING_SCHEDULED", "JUDGED", "CLOSED", "SUSPENDED"}
    seen = court_requests(stack, since, "/progress")
    assert [e["court"] for e in seen] == [court]
    assert seen[0]["path"].endswith(quote(case_no, safe="") + "/progress")  # upper-case percent-encoding
    assert seen[0]["actor"]["sub"].startswith("p_") and seen[0]["actor"]["channel"] == "api"


async def test_half_width_parentheses_reach_the_court_in_full_width(client: httpx.AsyncClient, stack: Stack) -> None:
    half = TRIAL.replace("（", "(").replace("）", ")")
    since = last_seq(stack)
    answer = await client.get(progress_path(half), headers=auth(stack, ZW))
    assert answer.status_code == 200 and answer.json()["case_no"] == TRIAL
    assert "%EF%BC%88" in court_requests(stack, since, "/progress")[0]["path"]


async def test_legacy_number_needs_a_court(client: httpx.AsyncClient, stack: Stack) -> None:
    legacy = DEMO_CASES["chenjing_yue01_legacy"]
    refused = await client.get(progress_path(legacy), headers=auth(stack, CJ))
    assert refused.status_code == 400 and refused.json()["code"] == "VALIDATION_FAILED"
    assert refused.json()["errors"][0]["field"] == "court"
    answer = await client.get(progress_path(legacy), params={"court": "粤01"}, headers=auth(stack, CJ))
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(("case_no", "code", "status"), [
    ("（2026）粤0199民初1号", "NOT_FOUND", 404),  # a court code not in courts:
    ("粤0106民初1号", "INVALID_CASE_NUMBER", 400),
    ("（2026）粤0106民初号", "INVALID_CASE_NUMBER", 400),
])
async def test_bad_case_numbers(client: httpx.AsyncClient, stack: Stack, case_no: str, code: str, status: int) -> None:
    answer = await client.get(progress_path(case_no), headers=auth(stack, ZW))
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_an_appeal_goes_to_the_court_of_first_instance(client: httpx.AsyncClient, stack: Stack) -> None:
    since = last_seq(stack)
    answer = await client.post(f"/api/v1/cases/{quote(JUDGED, safe='')}/appeals", headers={**auth(stack, ZW), **key()},
                               json={"requests": "撤销原判，改判驳回被上诉人全部诉讼请求", "reasons": "原审认定事实不清"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["kind"] == "appeal"
    assert [e["court"] for e in court_requests(stack, since, "/appeals")] == ["粤0106"]


# --- who may see what -----------------------------------------------------------------------------


async def test_a_non_participant_gets_not_found_and_the_court_never_sees_the_operation(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    since = last_seq(stack)
    stranger = await client.get(progress_path(TRIAL), headers=auth(stack, WF))
    missing = await client.get(progress_path("（2026）粤0106民初99999号"), headers=auth(stack, WF))
    assert stranger.status_code == missing.status_code == 404
    assert stranger.json()["code"] == missing.json()["code"] == "NOT_FOUND"
    assert stranger.json()["detail"] == missing.json()["detail"]
    paths = [e["path"] for e in stack.journal.entries(since=since)]
    assert all(p.endswith("/access") for p in paths), paths
    for op in ("payments", "hearings", "judge-messages"):
        answer = await client.get(f"/api/v1/cases/{quote(TRIAL, safe='')}/{op}", headers=auth(stack, WF))
        assert answer.json()["code"] == "NOT_FOUND"
    assert not [e for e in stack.journal.entries(since=since) if not e["path"].endswith("/access")]


async def test_assurance_is_checked_before_any_court_call(client: httpx.AsyncClient, stack: Stack) -> None:
    since = last_seq(stack)
    l1 = await client.get(progress_path(TRIAL), headers=auth(stack, ZW, acr="L1"))
    assert (l1.status_code, l1.json()["code"]) == (403, "ASSURANCE_TOO_LOW")
    hearings = (await client.get(f"/api/v1/cases/{quote(TRIAL, safe='')}/hearings", headers=auth(stack, ZW))).json()
    online = next(h for h in hearings["items"] if h.get("mode") == "online")
    join = f"/api/v1/cases/{quote(TRIAL, safe='')}/hearings/{online['hearing_id']}/join"
    l2 = await client.post(join, headers={**auth(stack, ZW), **key()}, json={})
    assert (l2.status_code, l2.json()["code"]) == (403, "ASSURANCE_TOO_LOW")
    l3 = await client.post(join, headers={**auth(stack, ZW, acr="L3"), **key()}, json={})
    assert l3.status_code == 201, l3.text
    assert not court_requests(stack, since, "/join")[:-1]  # only the L3 call reached the court


@pytest.mark.parametrize("header", [
    None, "Bearer not-a-jwt", "Basic abc", "Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
])
async def test_unauthenticated_callers(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    answer = await client.get(progress_path(TRIAL), headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (401, "UNAUTHENTICATED")


async def test_token_checks(client: httpx.AsyncClient, stack: Stack) -> None:
    claims: dict[str, Any] = {"name": ZW.name, "id_number": ZW.id_number, "acr": "L2"}
    expired = stack.issuer.mint(ttl_s=-120, **claims)
    wrong_audience = stack.issuer.mint(aud="someone-else", **claims)
    wrong_issuer = stack.issuer.mint(iss="https://evil.invalid", **claims)
    for token, code in [(expired, "SESSION_EXPIRED"), (wrong_audience, "UNAUTHENTICATED"),
                        (wrong_issuer, "UNAUTHENTICATED")]:
        answer = await client.get(progress_path(TRIAL), headers={"Authorization": f"Bearer {token}"})
        assert answer.json()["code"] == code, token
    good = stack.issuer.mint(**claims)
    header, payload, signature = good.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    answer = await client.get(progress_path(TRIAL), headers={"Authorization": f"Bearer {tampered}"})
    assert answer.json()["code"] == "UNAUTHENTICATED"


async def test_another_persons_items_are_not_found_without_asking_a_court(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    filed = await client.post("/api/v1/filings", headers={**auth(stack, ZW), **key()}, json=filing_args(ZW))
    filing_id = filed.json()["filing_id"]
    since = last_seq(stack)
    other = await client.get(f"/api/v1/filings/{filing_id}", headers=auth(stack, WF))
    unknown = await client.get("/api/v1/filings/no-such-filing", headers=auth(stack, WF))
    assert other.json()["code"] == unknown.json()["code"] == "NOT_FOUND"
    assert stack.journal.entries(since=since) == []
    mine = await client.get(f"/api/v1/filings/{filing_id}", headers=auth(stack, ZW))
    assert mine.status_code == 200 and mine.json()["filing_id"] == filing_id


async def test_someone_elses_upload_cannot_be_referenced(client: httpx.AsyncClient, stack: Stack) -> None:
    upload_id = await upload(client, stack, ZW, "粤0106")
    args = filing_args(WF, documents=[{"upload_id": upload_id, "name": "证据"}])
    answer = await client.post("/api/v1/filings", headers={**auth(stack, WF), **key()}, json=args)
    assert answer.json()["code"] == "NOT_FOUND"


# --- idempotency ----------------------------------------------------------------------------------


async def test_replay_reused_key_and_missing_key(client: httpx.AsyncClient, stack: Stack) -> None:
    upload_id = await upload(client, stack, ZW, "粤0106")
    path = f"/api/v1/cases/{quote(TRIAL, safe='')}/materials"
    body = {"kind": "evidence", "documents": [{"upload_id": upload_id, "name": "买卖合同"}], "note": "补充证据"}
    headers = {**auth(stack, ZW), **key()}
    since = last_seq(stack)
    first = await client.post(path, headers=headers, json=body)
    again = await client.post(path, headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert first.json() == again.json()
    received = [e for e in court_requests(stack, since, "/materials") if e["method"] == "POST"]
    assert len(received) == 1 and len(received[0]["headers"]["idempotency-key"]) == 64
    changed = await client.post(path, headers=headers, json={**body, "note": "另一份"})
    assert (changed.status_code, changed.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    missing = await client.post(path, headers=auth(stack, ZW), json=body)
    assert (missing.status_code, missing.json()["code"]) == (400, "VALIDATION_FAILED")


async def test_concurrent_first_attempt_is_in_progress(client: httpx.AsyncClient, stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.court_root) as court:
        await court.post("/_ref/faults", json={"court": "粤0106", "mode": "slow", "seconds": 1.0, "count": 1})
    path = f"/api/v1/cases/{quote(TRIAL, safe='')}/judge-messages"
    headers = {**auth(stack, ZW), **key()}
    body = {"text": "请问何时开庭？"}
    first, second = await asyncio.gather(
        client.post(path, headers=headers, json=body),
        _after(0.3, client.post(path, headers=headers, json=body)),
    )
    assert first.status_code == 201, first.text
    assert (second.status_code, second.json()["code"]) == (409, "IDEMPOTENCY_IN_PROGRESS")


async def _after(delay: float, awaitable: Any) -> Any:
    await asyncio.sleep(delay)
    return await awaitable


# --- every operation ------------------------------------------------------------------------------


def filing_args(person: DemoPerson, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "court": "粤0106", "case_type": "民初", "cause": "民间借贷纠纷",
        "plaintiffs": [{"kind": "person", "name": person.name, "id_type": "ID_CARD", "id_number": person.id_number,
                        "phone": person.phone}],
        "defendants": [{"kind": "person", "name": "刘洋", "id_type": "ID_CARD",
                        "id_number": DEMO_PEOPLE["liuyang"].id_number}],
        "claims": "判令被告偿还借款本金50000元及利息", "facts": "2025年3月被告向原告借款50000元，到期未还。",
        "amount": 50000, "documents": [], "mediation_consent": True,
    }
    args.update(extra)
    return args


async def test_filing_lifecycle(client: httpx.AsyncClient, stack: Stack) -> None:
    upload_id = await upload(client, stack, ZW, "粤0106")
    args = filing_args(ZW, documents=[{"upload_id": upload_id, "name": "借条"}])
    filed = await client.post("/api/v1/filings", headers={**auth(stack, ZW), **key()}, json=args)
    assert filed.status_code == 201, filed.text
    filing = filed.json()
    assert filing["status"] == "SUBMITTED" and filing["court"] == "粤0106"
    listed = (await client.get("/api/v1/filings", headers=auth(stack, ZW))).json()
    assert filing["filing_id"] in {f["filing_id"] for f in listed["items"]} and listed["partial"] == []
    cancelled = await client.post(f"/api/v1/filings/{filing['filing_id']}/cancel", headers={**auth(stack, ZW), **key()},
                                  json={"reason": "已与被告和解"})
    assert cancelled.status_code == 201 and cancelled.json()["status"] == "CANCELLED"


async def test_a_filing_must_be_made_by_a_plaintiff_or_their_agent(client: httpx.AsyncClient, stack: Stack) -> None:
    answer = await client.post("/api/v1/filings", headers={**auth(stack, WF), **key()}, json=filing_args(ZW))
    assert answer.json()["code"] == "VALIDATION_FAILED"


async def test_mass_assignment_and_bad_ids_are_refused(client: httpx.AsyncClient, stack: Stack) -> None:
    forged = await client.post("/api/v1/filings", headers={**auth(stack, ZW), **key()},
                               json={**filing_args(ZW), "status": "DOCKETED", "fee_paid": True})
    assert forged.json()["code"] == "VALIDATION_FAILED"
    assert {e["field"] for e in forged.json()["errors"]} == {"status", "fee_paid"}
    bad_id = filing_args(ZW)
    bad_id["defendants"][0]["id_number"] = "440106199001011234"
    answer = await client.post("/api/v1/filings", headers={**auth(stack, ZW), **key()}, json=bad_id)
    assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_ID_NUMBER")


async def test_case_operations(client: httpx.AsyncClient, stack: Stack) -> None:
    case = quote(TRIAL, safe="")
    who = auth(stack, ZW)
    payments = (await client.get(f"/api/v1/cases/{case}/payments", headers=who)).json()["items"]
    due = next(p for p in payments if p["status"] in ("ASSESSED", "PENDING"))
    paying = await client.post(f"/api/v1/cases/{case}/payments", headers={**who, **key()}, json={"fee_id": due["fee_id"]})
    assert paying.status_code == 201 and "http" not in str(paying.json()["pay_notice"])
    message = await client.post(f"/api/v1/cases/{case}/judge-messages", headers={**who, **key()},
                                json={"text": "申请延期举证", "callback_phone": ZW.phone})
    assert message.status_code == 201 and message.json()["status"] == "RECEIVED" and message.json()["reply_due"]
    listed = (await client.get(f"/api/v1/cases/{case}/judge-messages", headers=who)).json()
    assert message.json()["message_id"] in {m["message_id"] for m in listed["items"]}
    review = await client.post(f"/api/v1/cases/{case}/file-reviews", headers={**who, **key()},
                               json={"purpose": "查阅庭审笔录", "mode": "online"})
    assert review.status_code == 201 and review.json()["kind"]
    application_id = review.json()["application_id"]
    got = await client.get(f"/api/v1/applications/{application_id}", headers=who)
    assert got.status_code == 200 and got.json()["application_id"] == application_id
    apps = (await client.get("/api/v1/applications", headers=who)).json()["items"]
    assert application_id in {a["application_id"] for a in apps}


async def test_effective_judgment_operations(client: httpx.AsyncClient, stack: Stack) -> None:
    case = quote(DEMO_CASES["zhangwei_yue0192_effective"], safe="")
    who = auth(stack, ZW)
    for path, body in [
        ("effective-certificates", {"copies": 2, "purpose": "申请强制执行"}),
        ("enforcement-applications", {"requests": "强制执行判决确定的给付义务", "amount": "12000.00"}),
        ("refunds", {"amount": "12.50", "reason": "调解结案减半收取",
                     "account": {"bank": "中国工商银行广州天河支行", "account_name": ZW.name,
                                 "account_no": "6222020200112233445"}}),
    ]:
        answer = await client.post(f"/api/v1/cases/{case}/{path}", headers={**who, **key()}, json=body)
        assert answer.status_code == 201, (path, answer.text)
        assert answer.json()["application_id"]


async def test_items_without_a_case_number(client: httpx.AsyncClient, stack: Stack) -> None:
    who = auth(stack, ZW)
    party = {"kind": "person", "name": ZW.name, "id_type": "ID_CARD", "id_number": ZW.id_number}
    other = {"kind": "person", "name": "刘洋", "id_type": "ID_CARD", "id_number": DEMO_PEOPLE["liuyang"].id_number}
    mediation = await client.post("/api/v1/mediations", headers={**who, **key()},
                                  json={"court": "粤0106", "applicants": [party], "respondents": [other],
                                        "dispute": "借款纠纷，希望诉前调解", "amount": "8000"})
    assert mediation.status_code == 201, mediation.text
    mediation_id = mediation.json()["mediation_id"]
    assert (await client.get(f"/api/v1/mediations/{mediation_id}", headers=who)).status_code == 200
    consultation = await client.post("/api/v1/consultations", headers={**auth(stack, ZW, "L1"), **key()},
                                     json={"court": "粤01", "topic": "立案咨询", "question": "网上立案需要哪些材料？"})
    assert consultation.status_code == 201, consultation.text
    petition = await client.post("/api/v1/petitions", headers={**who, **key()},
                                 json={"court": "粤01", "subject": "对执行进度的意见", "content": "执行案件长期未有进展"})
    assert petition.status_code == 201 and petition.json()["kind"] == "petition"
    lawyer = DEMO_PEOPLE["chenzhiqiang"]
    witness_args = {"court": "粤0106", "agent": {"name": lawyer.name, "id_number": lawyer.id_number,
                                                 "license_no": "14401201010587316"}, "scope": "特别授权：代为起诉、调解"}
    l2 = await client.post("/api/v1/authorization-witnesses", headers={**who, **key()}, json=witness_args)
    assert l2.json()["code"] == "ASSURANCE_TOO_LOW"
    witness = await client.post("/api/v1/authorization-witnesses", headers={**auth(stack, ZW, "L3"), **key()},
                                json=witness_args)
    assert witness.status_code == 201, witness.text
    got = await client.get(f"/api/v1/authorization-witnesses/{witness.json()['witness_id']}", headers=who)
    assert got.status_code == 200
    unknown = await client.get("/api/v1/deliveries/d-unknown", headers=who)
    assert unknown.json()["code"] == "NOT_FOUND"


# --- uploads --------------------------------------------------------------------------------------


async def test_uploads_are_sniffed_and_limited(client: httpx.AsyncClient, stack: Stack) -> None:
    who = auth(stack, ZW)
    fake_pdf = await client.post("/api/v1/uploads", params={"court": "粤0106"}, headers=who,
                                 files={"file": ("a.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")})
    assert (fake_pdf.status_code, fake_pdf.json()["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    png = await client.post("/api/v1/uploads", params={"court": "粤0106"}, headers=who,
                            files={"file": ("scan.bin", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "application/pdf")})
    assert png.status_code == 201 and png.json()["content_type"] == "image/png"
    big = b"%PDF-" + b"0" * (20 * 2**20)
    too_big = await client.post("/api/v1/uploads", params={"court": "粤0106"}, headers=who,
                                files={"file": ("big.pdf", big, "application/pdf")})
    assert (too_big.status_code, too_big.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")
    no_court = await client.post("/api/v1/uploads", headers=who, files={"file": ("a.pdf", PDF, "application/pdf")})
    assert no_court.json()["code"] == "VALIDATION_FAILED"
    anonymous = await client.post("/api/v1/uploads", params={"court": "粤0106"},
                                  files={"file": ("a.pdf", PDF, "application/pdf")})
    assert anonymous.json()["code"] == "UNAUTHENTICATED"


async def test_the_same_upload_twice_is_one_upload(client: httpx.AsyncClient, stack: Stack) -> None:
    body = PDF + secrets.token_bytes(8)
    ids = []
    for _ in range(2):
        answer = await client.post("/api/v1/uploads", params={"court": "粤0106"}, headers=auth(stack, ZW),
                                   files={"file": ("x.pdf", body, "application/pdf")})
        ids.append(answer.json()["upload_id"])
    assert ids[0] == ids[1]


# --- malformed input never becomes a 500 ----------------------------------------------------------


@pytest.mark.parametrize(("content", "code", "status"), [
    (b"{not json", "VALIDATION_FAILED", 400),
    (b"[1,2,3]", "VALIDATION_FAILED", 400),
    (b'{"kind": "evidence", "documents": ' + b"[" * 40 + b"]" * 40 + b"}", "VALIDATION_FAILED", 400),
    (b'{"kind": ' + b"9" * 10000 + b"}", "VALIDATION_FAILED", 400),
    (b'{"kind": "' + b"x" * (2 * 2**20) + b'"}', "PAYLOAD_TOO_LARGE", 413),
    (b"\xff\xfe\x00garbage", "VALIDATION_FAILED", 400),
])
async def test_malformed_bodies(client: httpx.AsyncClient, stack: Stack, content: bytes, code: str, status: int) -> None:
    answer = await client.post(f"/api/v1/cases/{quote(TRIAL, safe='')}/materials",
                               headers={**auth(stack, ZW), **key(), "Content-Type": "application/json"}, content=content)
    assert (answer.status_code, answer.json()["code"]) == (status, code)


async def test_unknown_routes_and_methods_are_problem_json(client: httpx.AsyncClient) -> None:
    for method, path in [("GET", "/nope"), ("DELETE", "/api/v1/courts"), ("GET", "/api/v1/cases/x/unknown")]:
        answer = await client.request(method, path)
        assert answer.status_code in (404, 405)
        assert answer.json()["code"] == "NOT_FOUND" and answer.headers["x-request-id"]


async def test_query_arguments_are_validated(client: httpx.AsyncClient, stack: Stack) -> None:
    answer = await client.get("/api/v1/cases", params={"limit": "lots"}, headers=auth(stack, ZW))
    assert answer.json()["code"] == "VALIDATION_FAILED"
    cursor = await client.get("/api/v1/cases", params={"cursor": "!!!"}, headers=auth(stack, ZW))
    assert cursor.json()["code"] == "VALIDATION_FAILED"


# --- operations surface ---------------------------------------------------------------------------


async def test_operations_surface(client: httpx.AsyncClient, stack: Stack) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["state"] == "up"
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert jwks["keys"][0]["kid"] and "d" not in jwks["keys"][0]
    metrics = await client.get("/metrics")
    assert "court_gateway_requests_total" in metrics.text


async def test_openapi_matches_the_routes(client: httpx.AsyncClient, stack: Stack) -> None:
    from starlette.routing import Mount, Route

    document = (await client.get("/api/v1/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert stack.host.runtime is not None
    api = next(r for r in stack.host.runtime.app.routes if isinstance(r, Mount) and r.path == "/api/v1")
    served = {
        (method, "/api/v1" + route.path) for route in api.routes if isinstance(route, Route)
        and route.path != "/openapi.json" for method in (route.methods or set()) if method != "HEAD"
    }
    assert documented == served
