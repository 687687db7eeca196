"""Participant access, progress, lists, payments, hearings and messages across courts."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.case_numbers import parse_case_number
from gateway.models import ProgressResult
from reference_court import DEMO_CASES, DEMO_PASSWORDS, DEMO_PEOPLE, timeutil
from tests.reference_court.conftest import RefCourt, case_path, problem

ZHANG_CASES = [
    ("粤01", DEMO_CASES["zhangwei_yue01_appeal"], "plaintiff"),
    ("粤0106", DEMO_CASES["zhangwei_yue0106_trial"], "plaintiff"),
    ("粤0192", DEMO_CASES["zhangwei_yue0192_online"], "plaintiff"),
    ("粤73", DEMO_CASES["zhangwei_yue73_trademark"], "legal_representative"),
]
STAGES = {"FILED", "ASSIGNED", "IN_TRIAL", "HEARING_SCHEDULED", "JUDGED", "CLOSED", "SUSPENDED"}


@pytest.mark.parametrize(("code", "case_no", "role"), ZHANG_CASES)
async def test_participant_has_access_with_role(court: RefCourt, code: str, case_no: str, role: str) -> None:
    response = await court.get(code, f"/cases/{case_path(case_no)}/access", "zhangwei")
    assert response.status_code == 200
    assert response.json()["role"] == role


@pytest.mark.parametrize(("code", "case_no", "role"), ZHANG_CASES)
async def test_stranger_gets_not_found(court: RefCourt, code: str, case_no: str, role: str) -> None:
    for path in ("access", "progress", "payments", "hearings", "judge-messages"):
        problem(await court.get(code, f"/cases/{case_path(case_no)}/{path}", "wangfang"), 404, "NOT_FOUND")


@pytest.mark.parametrize(("code", "case_no", "role"), ZHANG_CASES)
async def test_progress_shape(court: RefCourt, code: str, case_no: str, role: str) -> None:
    response = await court.get(code, f"/cases/{case_path(case_no)}/progress", "zhangwei")
    assert response.status_code == 200
    body = response.json()
    progress = ProgressResult.model_validate(body)
    assert progress.case_no == case_no and progress.court == code
    assert progress.stage in STAGES and progress.stage_label
    assert progress.nodes and all(n.at.endswith("+08:00") for n in progress.nodes)
    assert progress.filed_at.endswith("+08:00") and progress.updated_at.endswith("+08:00")
    expected = {"case_no", "court", "court_name", "cause", "stage", "stage_label", "filed_at", "judge", "nodes",
                "next_hearing", "updated_at"}
    assert expected <= body.keys()
    if progress.next_hearing is not None:
        assert timeutil.parse_iso(progress.next_hearing.at) > timeutil.now()


async def test_progress_of_online_hearing_case(court: RefCourt) -> None:
    body = (await court.get("粤0106", f"/cases/{case_path(DEMO_CASES['zhangwei_yue0106_trial'])}/progress",
                            "zhangwei")).json()
    assert body["stage"] == "HEARING_SCHEDULED" and body["stage_label"] == "已排期开庭"
    assert body["next_hearing"]["mode"] == "online"
    assert {"name": "张伟", "role": "plaintiff", "role_label": "原告"} in body["parties"]
    assert all("id_number" not in p for p in body["parties"])


async def test_agent_and_lawyer_see_the_case(court: RefCourt) -> None:
    response = await court.get("粤0106", f"/cases/{case_path(DEMO_CASES['zhangwei_yue0106_trial'])}/access",
                               "chenzhiqiang")
    assert response.json()["role"] == "agent"


async def test_case_of_another_court_is_not_found(court: RefCourt) -> None:
    problem(await court.get("粤0105", f"/cases/{case_path(DEMO_CASES['zhangwei_yue0106_trial'])}/progress",
                            "zhangwei"), 404, "NOT_FOUND")


async def test_missing_case_is_not_found(court: RefCourt) -> None:
    problem(await court.get("粤0106", f"/cases/{case_path('（2026）粤0106民初99999号')}/progress", "zhangwei"),
            404, "NOT_FOUND")


async def test_bad_case_number(court: RefCourt) -> None:
    body = problem(await court.get("粤0106", "/cases/not-a-case/progress", "zhangwei"), 400, "INVALID_CASE_NUMBER")
    assert body["errors"][0]["field"] == "case_no"


async def test_half_width_and_lower_case_encoding_are_understood(court: RefCourt) -> None:
    half_width = DEMO_CASES["zhangwei_yue0106_trial"].replace("（", "(").replace("）", ")")
    lower = case_path(DEMO_CASES["zhangwei_yue0106_trial"]).lower()
    for path in (case_path(half_width), lower):
        response = await court.get("粤0106", f"/cases/{path}/access", "zhangwei")
        assert response.status_code == 200, path


async def test_legacy_case_number_known_to_the_court(court: RefCourt) -> None:
    legacy = DEMO_CASES["chenjing_yue01_legacy"]
    response = await court.get("粤01", f"/cases/{case_path(legacy)}/progress", "chenjing")
    assert response.status_code == 200
    assert response.json()["stage"] == "CLOSED"
    problem(await court.get("粤0106", f"/cases/{case_path(legacy)}/progress", "chenjing"), 404, "NOT_FOUND")
    unknown = "（2013）穗中法民二初字第1号"
    problem(await court.get("粤01", f"/cases/{case_path(unknown)}/progress", "chenjing"), 404, "NOT_FOUND")


async def test_cases_list_is_the_actors_cases_with_paging(court: RefCourt) -> None:
    first = await court.get("粤0106", "/cases?limit=2", "zhangwei")
    assert first.status_code == 200
    page1 = first.json()
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    second = (await court.get("粤0106", f"/cases?limit=2&cursor={page1['next_cursor']}", "zhangwei")).json()
    numbers = {i["case_no"] for i in page1["items"] + second["items"]}
    assert numbers == {DEMO_CASES["zhangwei_yue0106_trial"], DEMO_CASES["zhangwei_yue0106_judged"],
                       DEMO_CASES["zhangwei_yue0106_appealed"]}
    assert second["next_cursor"] is None
    assert (await court.get("粤0106", "/cases", "wangfang")).json() == {"items": [], "next_cursor": None}
    problem(await court.get("粤0106", "/cases?cursor=bogus!", "zhangwei"), 400, "VALIDATION_FAILED")
    problem(await court.get("粤0106", "/cases?limit=0", "zhangwei"), 400, "VALIDATION_FAILED")


async def test_payments_and_pay_notice_without_links(court: RefCourt) -> None:
    case = case_path(DEMO_CASES["zhangwei_yue0106_trial"])
    fees = (await court.get("粤0106", f"/cases/{case}/payments", "zhangwei")).json()["items"]
    assessed = next(f for f in fees if f["status"] == "ASSESSED")
    assert {"fee_id", "item", "amount", "status", "due"} <= assessed.keys()
    response = await court.post("粤0106", f"/cases/{case}/payments", "zhangwei", {"fee_id": assessed["fee_id"]})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "PENDING" and body["amount"] == assessed["amount"]
    notice = body["pay_notice"]
    assert {"notice_no", "payee", "amount", "pay_before", "how"} <= notice.keys()
    assert notice["payee"] == "广州市天河区人民法院"
    assert "http" not in notice["how"] and "www" not in notice["how"]
    paid = next(f for f in fees if f["status"] == "PAID")
    problem(await court.post("粤0106", f"/cases/{case}/payments", "zhangwei", {"fee_id": paid["fee_id"]}),
            409, "ALREADY_PAID")
    problem(await court.post("粤0106", f"/cases/{case}/payments", "zhangwei", {"fee_id": "nope"}), 404, "NOT_FOUND")


async def test_hearings_and_joining_online(court: RefCourt) -> None:
    case = case_path(DEMO_CASES["zhangwei_yue0192_online"])
    hearings = (await court.get("粤0192", f"/cases/{case}/hearings", "zhangwei")).json()["items"]
    online = hearings[0]
    assert online["mode"] == "online"
    path = f"/cases/{case}/hearings/{online['hearing_id']}/join"
    problem(await court.post("粤0192", path, "zhangwei", {}, assurance="L2"), 403, "ASSURANCE_TOO_LOW")
    joined = await court.post("粤0192", path, "zhangwei", {}, assurance="L3")
    assert joined.status_code == 201
    assert {"hearing_id", "room_id", "join_ticket", "valid_until"} <= joined.json().keys()


async def test_in_person_hearing_cannot_be_joined_online(court: RefCourt) -> None:
    case = case_path(DEMO_CASES["zhangwei_yue01_appeal"])
    hearing = (await court.get("粤01", f"/cases/{case}/hearings", "zhangwei")).json()["items"][0]
    assert hearing["mode"] == "in_person"
    problem(await court.post("粤01", f"/cases/{case}/hearings/{hearing['hearing_id']}/join", "zhangwei", {},
                             assurance="L3"), 409, "HEARING_NOT_ONLINE")


async def test_judge_message_reply_due_is_two_working_days(court: RefCourt) -> None:
    case = case_path(DEMO_CASES["zhangwei_yue0106_trial"])
    response = await court.post("粤0106", f"/cases/{case}/judge-messages", "zhangwei", {"text": "请问开庭时间能否调整？"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "RECEIVED"
    due = timeutil.add_working_days(timeutil.today(), 2).day
    assert body["reply_due"] == f"{due.isoformat()}T23:59:59+08:00"
    listed = (await court.get("粤0106", f"/cases/{case}/judge-messages", "zhangwei")).json()["items"]
    assert body["message_id"] in {m["message_id"] for m in listed}
    others = (await court.get("粤0106", f"/cases/{case}/judge-messages", "chenzhiqiang")).json()["items"]
    assert body["message_id"] not in {m["message_id"] for m in others}


@pytest.mark.parametrize(("start", "due"), [
    (date(2026, 11, 27), date(2026, 12, 1)),  # Friday: the weekend does not count
    (date(2026, 9, 30), date(2026, 10, 9)),  # National Day holiday, first day not counted
    (date(2026, 2, 13), date(2026, 2, 24)),  # Saturday 14 Feb is a make-up working day, then 15-23 off
])
def test_working_days(start: date, due: date) -> None:
    answer = timeutil.add_working_days(start, 2)
    assert answer.day == due and not answer.provisional


def test_unknown_year_is_counted_provisionally() -> None:
    answer = timeutil.add_working_days(date(2027, 3, 5), 2)
    assert answer.provisional and answer.day == date(2027, 3, 9)


def _serial(case_no: str) -> str:
    return str(parse_case_number(case_no).sequence)


async def test_case_query_password_verification(court: RefCourt) -> None:
    password, (code, case_no, person) = next(iter(DEMO_PASSWORDS.items()))
    url = court.base(code) + "/api/v1/case-query-passwords/verify"
    response = await court.client.post(url, json={"password": password, "caller": "13631415926",
                                                  "serial": _serial(case_no)},
                                       headers=court.headers(code, None))
    assert response.status_code == 200
    body = response.json()
    assert body["case_no"] == case_no
    assert body["person"] == {"name": DEMO_PEOPLE[person].name, "id_type": "ID_CARD",
                              "id_number": DEMO_PEOPLE[person].id_number}
    wrong = await court.client.post(url, json={"password": "000000", "caller": "13631415926",
                                               "serial": _serial(case_no)}, headers=court.headers(code, None))
    problem(wrong, 404, "NOT_FOUND")
    malformed = await court.client.post(url, json={"password": "12ab", "serial": "1"},
                                        headers=court.headers(code, None))
    problem(malformed, 400, "VALIDATION_FAILED")
    no_serial = await court.client.post(url, json={"password": password}, headers=court.headers(code, None))
    problem(no_serial, 400, "VALIDATION_FAILED")


async def test_a_password_opens_only_the_case_of_its_serial(court: RefCourt) -> None:
    """Issue 14, finding 3: without the serial a guess could match any case of the court."""
    password, (code, case_no, _) = next(iter(DEMO_PASSWORDS.items()))
    url = court.base(code) + "/api/v1/case-query-passwords/verify"
    other_serial = str(int(_serial(case_no)) + 1)
    response = await court.client.post(url, json={"password": password, "serial": other_serial},
                                       headers=court.headers(code, None))
    problem(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(("password", "expected"), list(DEMO_PASSWORDS.items()))
async def test_every_demo_password(court: RefCourt, password: str, expected: tuple[str, str, str]) -> None:
    code, case_no, _ = expected
    response = await court.client.post(court.base(code) + "/api/v1/case-query-passwords/verify",
                                       json={"password": password, "serial": _serial(case_no)},
                                       headers=court.headers(code, None))
    assert response.json()["case_no"] == case_no
