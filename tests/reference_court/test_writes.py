"""Every write deduplicated by Idempotency-Key; lifecycle rules and "own" access on the items they create."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from gateway.catalog import OPERATIONS
from gateway.domain.id_numbers import uscc_check_char
from reference_court import DEMO_CASES, DEMO_PEOPLE, court_slug, default_seed
from reference_court.seed import DemoPerson
from tests.reference_court.conftest import RefCourt, case_path, problem

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ZHANG = DEMO_PEOPLE["zhangwei"]
COMPANY = "91440106MA59ABCD1"
COMPANY_USCC = COMPANY + uscc_check_char(COMPANY)


def person(who: DemoPerson) -> dict[str, Any]:
    return {"kind": "person", "name": who.name, "id_type": who.id_type, "id_number": who.id_number,
            "phone": who.phone}


def filing_body(code: str = "粤0106", documents: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "court": code, "case_type": "民初", "cause": "买卖合同纠纷",
        "plaintiffs": [person(ZHANG)],
        "defendants": [{"kind": "organisation", "name": "广州市某某贸易有限公司", "id_type": "USCC",
                        "id_number": COMPANY_USCC}],
        "claims": "1. 判令被告支付货款50000元；2. 本案诉讼费用由被告负担。",
        "facts": "原告与被告于2026年3月签订买卖合同，原告依约交货，被告至今未付款。",
        "amount": 50000,
        "documents": documents or [],
    }


def seed_person(code: str, name: str) -> DemoPerson:
    case = next(c for c in default_seed().courts[code].cases for p in c.parties if p.person.name == name)
    found = next(p.person for p in case.parties if p.person.name == name)
    return DemoPerson(name, found.name, found.id_type, found.id_number, "", "")


async def upload(court: RefCourt, code: str = "粤0106", who: str = "zhangwei", data: bytes = PDF,
                 key: str | None = None) -> httpx.Response:
    return await court.client.post(court.base(code) + "/api/v1/uploads", params={"court": code},
                                   files={"file": ("证据一.pdf", data, "application/pdf")},
                                   headers=court.headers(code, who, key=key or uuid.uuid4().hex))


async def records(court: RefCourt, code: str) -> dict[str, Any]:
    response = await court.client.get(f"{court.url}/_ref/{court_slug(code)}/records")
    body: dict[str, Any] = response.json()
    return body


def count(snapshot: dict[str, Any], what: str) -> int:
    if what in ("filings", "applications"):
        return len(snapshot[what])
    if what == "uploads":
        return int(snapshot["uploads"])
    return int(snapshot["items"].get(what, 0))


async def twice(court: RefCourt, code: str, path: str, who: str, body: Any, **options: Any
                ) -> tuple[httpx.Response, httpx.Response]:
    key = uuid.uuid4().hex
    first = await court.post(code, path, who, body, key=key, **options)
    second = await court.post(code, path, who, body, key=key, **options)
    return first, second


def assert_replayed(first: httpx.Response, second: httpx.Response) -> None:
    assert first.status_code == 201, first.text
    assert second.status_code == first.status_code
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers


J0106 = case_path(DEMO_CASES["zhangwei_yue0106_judged"])
T0106 = case_path(DEMO_CASES["zhangwei_yue0106_trial"])
E0192 = case_path(DEMO_CASES["zhangwei_yue0192_effective"])
O0192 = case_path(DEMO_CASES["zhangwei_yue0192_online"])

# (operation id, court, path, person, body, what is counted, token options)
DEDUPE_CASES: list[tuple[str, str, str, str, dict[str, Any], str | None, dict[str, Any]]] = [
    ("filings.submit", "粤0106", "/filings", "zhangwei", filing_body(), "filings", {}),
    ("materials.submit", "粤0106", f"/cases/{T0106}/materials", "zhangwei",
     {"kind": "evidence", "documents": "UPLOAD"}, "submission", {}),
    ("refunds.apply", "粤0106", f"/cases/{J0106}/refunds", "zhangwei",
     {"amount": "100.00", "reason": "判决由被告负担诉讼费，申请退还预交的案件受理费。",
      "account": {"bank": "中国工商银行广州天河支行", "account_name": "张伟", "account_no": "6222021234567890123"}},
     "applications", {}),
    ("certificates.request", "粤0192", f"/cases/{E0192}/effective-certificates", "zhangwei",
     {"copies": 2, "purpose": "申请强制执行"}, "applications", {}),
    ("file_reviews.request", "粤0106", f"/cases/{T0106}/file-reviews", "zhangwei",
     {"purpose": "查阅被告提交的证据", "mode": "online"}, "applications", {}),
    ("appeals.file", "粤0106", f"/cases/{J0106}/appeals", "zhangwei",
     {"requests": "撤销一审判决第二项，改判被告支付利息。", "reasons": "一审认定利息起算时间错误。"}, "applications", {}),
    ("enforcement.apply", "粤0192", f"/cases/{E0192}/enforcement-applications", "zhangwei",
     {"requests": "强制被执行人支付货款及赔偿金3680元。", "amount": "3680.00"}, "applications", {}),
    ("judge_messages.send", "粤0106", f"/cases/{T0106}/judge-messages", "zhangwei",
     {"text": "被告的新证据何时可以查阅？", "callback_phone": "13631415926"}, "message", {}),
    ("mediations.apply", "粤0106", "/mediations", "zhangwei",
     {"court": "粤0106", "applicants": [person(ZHANG)],
      "respondents": [{"kind": "organisation", "name": "广州市某某贸易有限公司", "id_type": "USCC",
                       "id_number": COMPANY_USCC}],
      "dispute": "货款纠纷，希望先行调解。", "amount": "50000.00"}, "mediation", {}),
    ("consultations.create", "粤0106", "/consultations", "zhangwei",
     {"court": "粤0106", "topic": "诉讼费", "question": "诉讼费可以申请缓交吗？"}, "consultation", {"assurance": "L1"}),
    ("petitions.submit", "粤0106", "/petitions", "zhangwei",
     {"court": "粤0106", "subject": "反映案件审理进度", "content": "本案立案已久，希望尽快开庭。",
      "case_no": DEMO_CASES["zhangwei_yue0106_trial"]}, "applications", {}),
    ("witness.book", "粤0106", "/authorization-witnesses", "zhangwei",
     {"court": "粤0106", "case_no": DEMO_CASES["zhangwei_yue0106_trial"],
      "agent": {"name": "陈志强", "id_number": DEMO_PEOPLE["chenzhiqiang"].id_number,
                "license_no": "14401201010587316"},
      "scope": "特别授权：代为承认、放弃、变更诉讼请求，进行和解，提起上诉。"}, "witness", {"assurance": "L3"}),
]


def test_every_canonical_write_is_covered() -> None:
    covered = {case[0] for case in DEDUPE_CASES} | {"uploads.create", "filings.cancel", "payments.create",
                                                     "hearings.join"}
    assert covered == {op.id for op in OPERATIONS if op.is_write}


@pytest.mark.parametrize(("op_id", "code", "path", "who", "body", "counted", "options"), DEDUPE_CASES,
                         ids=[c[0] for c in DEDUPE_CASES])
async def test_write_is_deduplicated(court: RefCourt, op_id: str, code: str, path: str, who: str,
                                     body: dict[str, Any], counted: str | None, options: dict[str, Any]) -> None:
    if body.get("documents") == "UPLOAD":
        uploaded = (await upload(court, code, who)).json()
        body = {**body, "documents": [{"upload_id": uploaded["upload_id"], "name": "补充证据"}]}
    before = await records(court, code)
    first, second = await twice(court, code, path, who, body, **options)
    assert_replayed(first, second)
    if counted is not None:
        assert count(await records(court, code), counted) == count(before, counted) + 1


async def test_upload_is_deduplicated(court: RefCourt) -> None:
    before = await records(court, "粤0106")
    key = uuid.uuid4().hex
    first, second = await upload(court, key=key), await upload(court, key=key)
    assert_replayed(first, second)
    body = first.json()
    assert body["content_type"] == "application/pdf" and body["size"] == len(PDF)
    assert len(body["sha256"]) == 64
    assert count(await records(court, "粤0106"), "uploads") == count(before, "uploads") + 1


async def test_cancel_payment_and_join_are_deduplicated(court: RefCourt) -> None:
    filing = (await court.post("粤0106", "/filings", "zhangwei", filing_body())).json()
    assert_replayed(*await twice(court, "粤0106", f"/filings/{filing['filing_id']}/cancel", "zhangwei",
                                 {"reason": "已与被告和解"}))
    fees = (await court.get("粤0106", f"/cases/{T0106}/payments", "zhangwei")).json()["items"]
    open_fee = next(f for f in fees if f["status"] in ("ASSESSED", "PENDING"))
    assert_replayed(*await twice(court, "粤0106", f"/cases/{T0106}/payments", "zhangwei",
                                 {"fee_id": open_fee["fee_id"]}))
    hearing = (await court.get("粤0192", f"/cases/{O0192}/hearings", "zhangwei")).json()["items"][0]
    first, second = await twice(court, "粤0192", f"/cases/{O0192}/hearings/{hearing['hearing_id']}/join",
                                "zhangwei", {}, assurance="L3")
    assert_replayed(first, second)  # the same join ticket, not a second one


@pytest.mark.parametrize("key", [None, b"", "钥匙".encode(), b"tab\tkey", b"x" * 256])
async def test_write_needs_a_valid_idempotency_key(court: RefCourt, key: bytes | None) -> None:
    headers = {k.encode(): v.encode() for k, v in court.headers("粤0106", "zhangwei").items()}
    if key is not None:
        headers[b"Idempotency-Key"] = key
    response = await court.client.post(court.base("粤0106") + "/api/v1/consultations", headers=headers,
                                       json={"court": "粤0106", "topic": "t", "question": "q"})
    body = problem(response, 400, "VALIDATION_FAILED")
    assert body["errors"][0]["field"] == "Idempotency-Key"


async def test_upload_without_key_is_refused(court: RefCourt) -> None:
    response = await court.client.post(court.base("粤0106") + "/api/v1/uploads", params={"court": "粤0106"},
                                       files={"file": ("a.pdf", PDF, "application/pdf")},
                                       headers=court.headers("粤0106", "zhangwei"))
    problem(response, 400, "VALIDATION_FAILED")


# --- filings ------------------------------------------------------------------------------------


async def test_filing_lifecycle_reads_are_own(court: RefCourt) -> None:
    uploaded = (await upload(court)).json()
    docs = [{"upload_id": uploaded["upload_id"], "name": "买卖合同"}]
    created = await court.post("粤0106", "/filings", "zhangwei", filing_body(documents=docs))
    assert created.status_code == 201
    filing = created.json()
    assert set(filing) == {"filing_id", "court", "status", "submitted_at"}
    assert filing["status"] == "SUBMITTED" and filing["court"] == "粤0106"
    mine = await court.get("粤0106", f"/filings/{filing['filing_id']}", "zhangwei")
    assert mine.json()["documents"][0]["sha256"] == uploaded["sha256"]
    problem(await court.get("粤0106", f"/filings/{filing['filing_id']}", "wangfang"), 404, "NOT_FOUND")
    listed = (await court.get("粤0106", "/filings", "zhangwei")).json()["items"]
    assert filing["filing_id"] in {f["filing_id"] for f in listed}
    assert (await court.get("粤0106", "/filings", "wangfang")).json()["items"] == []


async def test_filing_refusals(court: RefCourt) -> None:
    problem(await court.post("粤0106", "/filings", "wangfang", filing_body()), 400, "VALIDATION_FAILED")
    problem(await court.post("粤0106", "/filings", "zhangwei", filing_body("粤0105")), 400, "VALIDATION_FAILED")
    bad_id = filing_body()
    bad_id["plaintiffs"][0] = {**person(ZHANG), "id_number": "440106199001011234"}
    problem(await court.post("粤0106", "/filings", "zhangwei", bad_id), 400, "INVALID_ID_NUMBER")
    problem(await court.post("粤0106", "/filings", "zhangwei", {**filing_body(), "status": "DOCKETED"}),
            400, "VALIDATION_FAILED")
    theirs = (await upload(court, who="wangfang")).json()
    stolen = filing_body(documents=[{"upload_id": theirs["upload_id"], "name": "x"}])
    problem(await court.post("粤0106", "/filings", "zhangwei", stolen), 404, "NOT_FOUND")
    problem(await court.post("粤0106", "/filings", "zhangwei", {**filing_body(), "case_type": "民X"}),
            400, "VALIDATION_FAILED")


async def test_agent_may_file_for_the_plaintiff(court: RefCourt) -> None:
    lawyer = DEMO_PEOPLE["chenzhiqiang"]
    body = {**filing_body(), "agent": {"name": lawyer.name, "id_number": lawyer.id_number,
                                       "license_no": "14401201010587316"}}
    assert (await court.post("粤0106", "/filings", "chenzhiqiang", body)).status_code == 201


async def test_decided_filing_cannot_be_cancelled(court: RefCourt) -> None:
    filing = (await court.post("粤0106", "/filings", "zhangwei", filing_body())).json()
    advance = await court.client.post(f"{court.url}/_ref/yue0106/filings/{filing['filing_id']}/advance",
                                      json={"status": "ACCEPTED"})
    assert advance.status_code == 200
    problem(await court.post("粤0106", f"/filings/{filing['filing_id']}/cancel", "zhangwei", {}),
            409, "ALREADY_DECIDED")
    problem(await court.post("粤0106", f"/filings/{filing['filing_id']}/cancel", "wangfang", {}), 404, "NOT_FOUND")


# --- applications -------------------------------------------------------------------------------


async def test_application_shapes_and_own_reads(court: RefCourt) -> None:
    response = await court.post("粤0106", f"/cases/{J0106}/appeals", "zhangwei",
                                {"requests": "改判", "reasons": "事实认定错误"})
    body = response.json()
    assert set(body) == {"application_id", "kind", "status", "submitted_at"}
    assert body["kind"] == "appeal" and body["status"] == "SUBMITTED"
    detail = (await court.get("粤0106", f"/applications/{body['application_id']}", "zhangwei")).json()
    assert detail["details"]["forwarded_to"] == "粤01"
    problem(await court.get("粤0106", f"/applications/{body['application_id']}", "liuyang"), 404, "NOT_FOUND")
    listed = (await court.get("粤0106", "/applications", "zhangwei")).json()["items"]
    assert body["application_id"] in {a["application_id"] for a in listed}


async def test_appeal_after_the_deadline(court: RefCourt) -> None:
    late = seed_person("粤0115", "谭思敏")
    case = next(c for c in default_seed().courts["粤0115"].cases if c.cause == "劳动争议")
    response = await court.post("粤0115", f"/cases/{case_path(case.case_no)}/appeals", late,
                                {"requests": "改判", "reasons": "不服"})
    problem(response, 422, "DEADLINE_PASSED")


async def test_appeal_needs_a_first_instance_judgment(court: RefCourt) -> None:
    problem(await court.post("粤0106", f"/cases/{T0106}/appeals", "zhangwei", {"requests": "a", "reasons": "b"}),
            422, "NOT_APPEALABLE")


async def test_certificate_needs_an_effective_judgment(court: RefCourt) -> None:
    problem(await court.post("粤0106", f"/cases/{J0106}/effective-certificates", "zhangwei", {}),
            422, "NOT_EFFECTIVE")
    legacy = case_path(DEMO_CASES["chenjing_yue01_legacy"])
    ok = await court.post("粤01", f"/cases/{legacy}/effective-certificates", "chenjing", {"court": "粤01"})
    assert ok.status_code == 201 and ok.json()["kind"] == "certificate"


async def test_refund_cannot_exceed_what_was_paid(court: RefCourt) -> None:
    body = {"amount": "99999.00", "reason": "多交", "account": {"bank": "工行", "account_name": "张伟",
                                                                "account_no": "6222021234567890"}}
    problem(await court.post("粤0106", f"/cases/{J0106}/refunds", "zhangwei", body), 422, "REFUND_EXCEEDS_PAID")
    refund = await court.post("粤0106", f"/cases/{J0106}/refunds", "zhangwei", {**body, "amount": "50.00"})
    assert refund.json()["status"] == "APPLIED"
    stored = (await court.get("粤0106", f"/applications/{refund.json()['application_id']}", "zhangwei")).json()
    assert stored["details"]["account"]["account_no"].endswith("7890")
    assert "6222021234567890" not in str(stored)


# --- items without a case -----------------------------------------------------------------------


async def test_items_are_own(court: RefCourt) -> None:
    mediation = (await court.post("粤0106", "/mediations", "zhangwei", DEDUPE_CASES[8][4])).json()
    assert mediation["status"] == "APPLIED"
    consultation = (await court.post("粤0106", "/consultations", "zhangwei", DEDUPE_CASES[9][4])).json()
    assert consultation["status"] == "RECEIVED" and consultation["answer_due"].endswith("+08:00")
    witness = (await court.post("粤0106", "/authorization-witnesses", "zhangwei", DEDUPE_CASES[11][4],
                                assurance="L3")).json()
    assert witness["status"] == "BOOKED" and witness["at"].endswith("+08:00")
    for path in (f"/mediations/{mediation['mediation_id']}", f"/consultations/{consultation['consultation_id']}",
                 f"/authorization-witnesses/{witness['witness_id']}"):
        assert (await court.get("粤0106", path, "zhangwei")).status_code == 200
        problem(await court.get("粤0106", path, "wangfang"), 404, "NOT_FOUND")
    # an id of another kind is not found either
    problem(await court.get("粤0106", f"/mediations/{witness['witness_id']}", "zhangwei"), 404, "NOT_FOUND")


async def test_witness_needs_face_match(court: RefCourt) -> None:
    problem(await court.post("粤0106", "/authorization-witnesses", "zhangwei", DEDUPE_CASES[11][4],
                             assurance="L2"), 403, "ASSURANCE_TOO_LOW")


async def test_upload_type_and_size(court: RefCourt) -> None:
    problem(await upload(court, data=b"MZ\x90\x00 not a document"), 415, "UNSUPPORTED_MEDIA_TYPE")
    png = await upload(court, data=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert png.json()["content_type"] == "image/png"
    problem(await upload(court, data=b"%PDF-" + b"0" * (20 * 2**20)), 413, "PAYLOAD_TOO_LARGE")


async def test_json_body_limits(court: RefCourt) -> None:
    headers = {**court.headers("粤0106", "zhangwei", key=uuid.uuid4().hex), "Content-Type": "application/json"}
    url = court.base("粤0106") + "/api/v1/consultations"
    problem(await court.client.post(url, content=b"{" * 10, headers=headers), 400, "VALIDATION_FAILED")
    problem(await court.client.post(url, content=b"[1]", headers=headers), 400, "VALIDATION_FAILED")
    big = b'{"question": "' + b"x" * (2**20 + 10) + b'"}'
    problem(await court.client.post(url, content=big, headers=headers), 413, "PAYLOAD_TOO_LARGE")
