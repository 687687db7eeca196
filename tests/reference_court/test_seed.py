"""The seed data: every court, valid identities, the demo people, and the file format's checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from demo_data import DEMO_CASES, DEMO_PASSWORDS, DEMO_PEOPLE
from gateway.domain.case_numbers import parse_case_number
from gateway.domain.courts import GUANGZHOU_COURTS
from gateway.domain.id_numbers import is_valid_resident_id, uscc_checksum_ok
from reference_court import default_seed, demo_summary, load_seed
from reference_court.seed import STAGES, SeedError, cases_of, parse_seed


@pytest.fixture(scope="module")
def seed() -> Any:
    return default_seed()


def test_every_court_has_several_cases(seed: Any) -> None:
    assert set(seed.courts) == set(GUANGZHOU_COURTS)
    for code, court in seed.courts.items():
        assert len(court.cases) >= 3, code
        for case in court.cases:
            number = parse_case_number(case.case_no)
            assert number.court in (code, None)
            assert case.stage in STAGES


def test_identities_pass_their_checks(seed: Any) -> None:
    for court in seed.courts.values():
        for case in court.cases:
            for party in case.parties:
                person = party.person
                if person.id_type == "ID_CARD":
                    assert is_valid_resident_id(person.id_number), person.name
                if person.id_type == "USCC":
                    assert uscc_checksum_ok(person.id_number), person.name


def test_case_variety(seed: Any) -> None:
    all_cases = [c for court in seed.courts.values() for c in court.cases]
    causes = {c.cause for c in all_cases}
    assert {"买卖合同纠纷", "民间借贷纠纷", "机动车交通事故责任纠纷", "劳动争议", "网络购物合同纠纷",
            "船舶碰撞损害责任纠纷", "侵害商标权纠纷"} <= causes
    types = {(c.court, c.case_type) for c in all_cases}
    assert {("粤01", "民终"), ("粤73", "知民初"), ("粤0106", "执"), ("粤0106", "民初")} <= types
    roles = {p.role for c in all_cases for p in c.parties}
    assert roles == {"plaintiff", "defendant", "third_party", "agent", "legal_representative", "defender"}
    modes = {h.mode for c in all_cases for h in c.hearings}
    assert modes == {"in_person", "online"}
    assert {f.status for c in all_cases for f in c.fees} >= {"ASSESSED", "PAID"}
    assert any(parse_case_number(c.case_no).is_legacy for c in all_cases)


def test_demo_people_match_the_data_file(seed: Any) -> None:
    for key, person in DEMO_PEOPLE.items():
        stored = seed.people[key]
        assert (stored.name, stored.id_type, stored.id_number, stored.phone) == (
            person.name, person.id_type, person.id_number, person.phone)
    assert DEMO_PEOPLE["zhangwei"].id_number == "440106199001011235"
    zhang_courts = {case.court for case, _ in cases_of(seed, "ID_CARD", DEMO_PEOPLE["zhangwei"].id_number)}
    assert {"粤01", "粤0106", "粤0192", "粤73"} <= zhang_courts
    assert cases_of(seed, "ID_CARD", DEMO_PEOPLE["wangfang"].id_number) == []


def test_demo_cases_and_passwords_exist(seed: Any) -> None:
    numbers = {c.case_no for court in seed.courts.values() for c in court.cases}
    assert set(DEMO_CASES.values()) <= numbers
    for password, (code, case_no, key) in DEMO_PASSWORDS.items():
        case = next(c for c in seed.courts[code].cases if c.case_no == case_no)
        party = next(p for p in case.parties if p.password == password)
        assert party.person.id_number == DEMO_PEOPLE[key].id_number


def test_relative_times_follow_the_load_day() -> None:
    early = default_seed(today=date(2026, 1, 10))
    late = default_seed(today=date(2027, 6, 1))
    judged = DEMO_CASES["zhangwei_yue0106_judged"]
    judgments = [next(c for c in s.courts["粤0106"].cases if c.case_no == judged).judgment for s in (early, late)]
    served = [j.served_at if j is not None else None for j in judgments]
    assert served == ["2026-01-07", "2027-05-29"]


def test_summary_names_people_cases_and_passwords(seed: Any) -> None:
    text = demo_summary(seed)
    assert "张伟" in text and "440106199001011235" in text and "260615" in text and "王芳" in text


DOC: dict[str, Any] = {
    "version": 1,
    "people": {"li": {"name": "李雷", "id_type": "ID_CARD", "id_number": "11010519491231002X"}},
    "courts": {"粤0106": {"cases": [{
        "case_no": "(2026)粤0106民初1号", "cause": "民间借贷纠纷", "filed_at": "today-10 09:00", "stage": "FILED",
        "judge": None,
        "parties": [{"person": "li", "role": "plaintiff", "password": "123456"},
                    {"name": "韩梅梅", "id_type": "ID_CARD", "id_number": "440524188001010014", "role": "defendant"}],
    }]}},
}


def broken(path: str, value: Any) -> dict[str, Any]:
    document: Any = yaml.safe_load(yaml.safe_dump(DOC, allow_unicode=True))
    target = document
    keys = path.split("/")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[keys[-1] if not isinstance(target, list) else int(keys[-1])] = value
    return dict(document)


def test_a_small_file_loads(tmp_path: Path) -> None:
    file = tmp_path / "court.yaml"
    file.write_text(yaml.safe_dump(DOC, allow_unicode=True), encoding="utf-8")
    loaded = load_seed(file, today=date(2026, 5, 20))
    case = loaded.courts["粤0106"].cases[0]
    assert case.case_no == "（2026）粤0106民初1号" and case.filed_at == "2026-05-10T09:00:00+08:00"
    assert loaded.courts["粤01"].cases == ()  # courts not in the file are still served, empty


@pytest.mark.parametrize(("path", "value", "message"), [
    ("people/li/id_number", "110105194912310021", "people.li.id_number: fails the GB 11643 check"),
    ("courts/粤0106/cases/0/case_no", "（2026）粤0105民初1号", "belongs to 粤0105"),
    ("courts/粤0106/cases/0/stage", "DONE", "courts.粤0106.cases[0].stage: must be one of"),
    ("courts/粤0106/cases/0/parties/0/password", 123456, "password"),
    ("courts/粤0106/cases/0/parties/0/person", "nobody", "no person 'nobody'"),
    ("courts/粤0106/cases/0/filed_at", "yesterday", "filed_at: expected an ISO 8601 time"),
    ("version", 2, "version"),
])
def test_file_errors_name_the_place(path: str, value: Any, message: str) -> None:
    with pytest.raises(SeedError) as error:
        parse_seed(broken(path, value), "court.yaml")
    assert message in str(error.value) and str(error.value).startswith("court.yaml: ")


def test_agent_must_represent_a_party() -> None:
    document = broken("courts/粤0106/cases/0/parties/1/role", "agent")
    with pytest.raises(SeedError, match="must name who they act for"):
        parse_seed(document, "x.yaml")


def test_duplicate_password_in_a_court() -> None:
    document = broken("courts/粤0106/cases/0/parties/1/password", "123456")
    with pytest.raises(SeedError, match="password 123456 is used twice"):
        parse_seed(document, "x.yaml")


def test_the_readme_example_loads() -> None:
    readme = (Path(__file__).parents[2] / "reference_court" / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    loaded = parse_seed(yaml.safe_load(example), "README.md", today=date(2026, 11, 27))
    case = loaded.courts["粤0106"].cases[0]
    assert case.hearings[0].at == "2026-12-02T14:30:00+08:00"
    assert case.parties[1].represents == "张伟"
