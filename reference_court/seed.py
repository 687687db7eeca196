"""Seed data of the reference court: courts, cases, parties, hearings, fees.

The default data file (``reference_court/data/seed.yaml``) holds several cases
for every court of DOMAIN.md section 1; ``load_seed(path)`` reads another file
of the same format (documented in ``reference_court/README.md``). Loading
validates everything a court system would: case numbers belong to their court,
resident ID numbers pass GB 11643, case query passwords are 6 digits and unique
per court, agents represent a party of the case.

Times may be written relative to the day the data is loaded (``today+5 14:30``,
``today-3``), so a hearing stays upcoming and a judgment stays appealable no
matter when the demo runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

# Re-exported for older callers (tests name them here); new code imports them from demo_data.
from demo_data import DEMO_CASES as DEMO_CASES  # noqa: PLC0414
from demo_data import DEMO_PASSWORDS as DEMO_PASSWORDS  # noqa: PLC0414
from demo_data import DEMO_PEOPLE as DEMO_PEOPLE  # noqa: PLC0414
from demo_data import DemoPerson as DemoPerson  # noqa: PLC0414
from reference_court import timeutil
from reference_court.contract.case_numbers import NotACaseNumber, read_case_no
from reference_court.contract.courts import COURT_NAMES
from reference_court.contract.id_numbers import is_resident_id, mobile_number, problem_with, uscc_check_ok

ROLES: dict[str, str] = {
    "plaintiff": "原告",
    "defendant": "被告",
    "third_party": "第三人",
    "agent": "委托诉讼代理人",
    "legal_representative": "法定代表人",
    "defender": "辩护人",
}
#: roles that act for another party of the case (and so must name it in ``represents``)
REPRESENTING_ROLES = frozenset({"agent", "legal_representative", "defender"})

STAGES: dict[str, str] = {
    "FILED": "已立案",
    "ASSIGNED": "已分案",
    "IN_TRIAL": "审理中",
    "HEARING_SCHEDULED": "已排期开庭",
    "JUDGED": "已宣判",
    "CLOSED": "已结案",
    "SUSPENDED": "中止审理",
}

NODE_LABELS: dict[str, str] = {
    "FILED": "立案",
    "FEE_ASSESSED": "预交诉讼费",
    "FEE_PAID": "诉讼费已交纳",
    "ASSIGNED": "分案至承办法官",
    "PANEL_FORMED": "组成合议庭",
    "SERVED": "送达起诉状副本及应诉材料",
    "EVIDENCE_DEADLINE": "举证期限届满",
    "PRESERVATION": "财产保全",
    "MEDIATION": "组织调解",
    "HEARING_SCHEDULED": "排期开庭",
    "HEARING_HELD": "开庭审理",
    "SUSPENDED": "中止审理",
    "JUDGED": "宣判",
    "JUDGMENT_SERVED": "裁判文书送达",
    "APPEALED": "当事人提起上诉",
    "EFFECTIVE": "裁判文书生效",
    "PROPERTY_INQUIRY": "网络查控被执行人财产",
    "PROPERTY_SEIZED": "查封、冻结、扣划财产",
    "CLOSED": "结案",
    "ARCHIVED": "归档",
}

HEARING_MODES = frozenset({"in_person", "online"})
HEARING_STATUSES = frozenset({"SCHEDULED", "NOTIFIED", "CHECKED_IN", "IN_SESSION", "ADJOURNED", "CONCLUDED"})
FEE_STATUSES = frozenset({"ASSESSED", "PENDING", "PAID", "OVERDUE"})
JUDGMENT_KINDS = frozenset({"judgment", "ruling", "mediation"})
ID_TYPES = frozenset({"ID_CARD", "USCC", "PASSPORT", "HMT_PERMIT", "FOREIGN_PR"})

_PASSWORD = re.compile(r"^\d{6}$")
_RELATIVE = re.compile(r"^today(?:(?P<sign>[+-])(?P<days>\d{1,4}))?(?: (?P<hh>\d{2}):(?P<mm>\d{2}))?$")
_OTHER_ID = re.compile(r"^[A-Z0-9]{5,20}$")
_COURT_CODE = re.compile(r"^[\u4e00-\u9fa5](?:\d{2}|\d{4})?$")
_AMOUNT = re.compile(r"^\d{1,15}\.\d{2}$")

DEFAULT_DATA = "seed.yaml"


class SeedError(ValueError):
    """The data file is wrong; the message names the file and the dotted place."""


@dataclass(frozen=True)
class Person:
    name: str
    id_type: str
    id_number: str
    kind: str = "person"  # person | organisation
    phone: str | None = None
    license_no: str | None = None  # 律师执业证号 (17 digits) for lawyers


@dataclass
class Party:
    person: Person
    role: str
    role_label: str
    represents: str | None = None  # name of the party an agent, representative or defender acts for
    password: str | None = None  # case query password (查询密码) printed on this party's notice
    left: bool = False  # a party who left the case has no access any more (DOMAIN.md section 6)


@dataclass
class Node:
    code: str
    label: str
    at: str


@dataclass
class Hearing:
    hearing_id: str
    at: str
    place: str
    mode: str
    status: str = "SCHEDULED"
    room_id: str | None = None


@dataclass
class Fee:
    fee_id: str
    item: str
    amount: str
    status: str
    due: str
    payer: str | None = None


@dataclass
class Judgment:
    kind: str
    document: str
    pronounced_at: str
    served_at: str | None = None
    effective_at: str | None = None
    performance_due: str | None = None


@dataclass
class Case:
    case_no: str
    court: str
    case_type: str
    cause: str
    filed_at: str
    stage: str
    judge: str | None
    parties: list[Party]
    nodes: list[Node] = field(default_factory=list)
    hearings: list[Hearing] = field(default_factory=list)
    fees: list[Fee] = field(default_factory=list)
    judgment: Judgment | None = None
    clerk: str | None = None
    procedure: str | None = None
    amount: str | None = None
    updated_at: str = ""
    related: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CourtSeed:
    code: str
    name: str
    cases: tuple[Case, ...]


@dataclass(frozen=True)
class SeedData:
    courts: dict[str, CourtSeed]
    people: dict[str, Person]
    source: str


# --- loading ------------------------------------------------------------------------------------


class _Reader:
    """Typed access to the parsed document with error messages that say where."""

    def __init__(self, source: str, today: date) -> None:
        self.source = source
        self.today = today

    def fail(self, where: str, message: str) -> SeedError:
        return SeedError(f"{self.source}: {where}: {message}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected a mapping")
        return {str(k): v for k, v in value.items()}

    def sequence(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, "expected a list")
        return value

    def text(self, obj: dict[str, Any], key: str, where: str) -> str:
        value = obj.get(key)
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", "required text is missing")
        return value.strip()

    def optional(self, obj: dict[str, Any], key: str, where: str) -> str | None:
        return self.text(obj, key, where) if obj.get(key) is not None else None

    def choice(self, obj: dict[str, Any], key: str, where: str, allowed: frozenset[str] | dict[str, str],
               default: str | None = None) -> str:
        value = self.text(obj, key, where) if obj.get(key) is not None or default is None else default
        if value not in allowed:
            raise self.fail(f"{where}.{key}", f"must be one of {', '.join(sorted(allowed))}")
        return value

    def when(self, obj: dict[str, Any], key: str, where: str, *, with_time: bool) -> str:
        return self._resolve(self.text(obj, key, where), f"{where}.{key}", with_time)

    def optional_when(self, obj: dict[str, Any], key: str, where: str, *, with_time: bool) -> str | None:
        return self.when(obj, key, where, with_time=with_time) if obj.get(key) is not None else None

    def _resolve(self, text: str, where: str, with_time: bool) -> str:
        relative = _RELATIVE.match(text)
        if relative:
            return self._relative(relative, where, with_time)
        try:
            if with_time:
                return timeutil.iso(timeutil.parse_iso(text))
            return date.fromisoformat(text).isoformat()
        except ValueError:
            kind = "an ISO 8601 time such as 2026-03-02T09:30:00+08:00" if with_time else "a date YYYY-MM-DD"
            raise self.fail(where, f"expected {kind} or a relative 'today+N HH:MM'") from None

    def _relative(self, match: re.Match[str], where: str, with_time: bool) -> str:
        days = int(match["days"] or 0) * (-1 if match["sign"] == "-" else 1)
        day = self.today + timedelta(days=days)
        if not with_time:
            if match["hh"]:
                raise self.fail(where, "a date takes no time of day")
            return day.isoformat()
        clock = time(int(match["hh"] or 9), int(match["mm"] or 0))
        return timeutil.iso(timeutil.at(day, clock))


def _check_id(reader: _Reader, id_type: str, id_number: str, where: str) -> None:
    if id_type == "ID_CARD" and not is_resident_id(id_number):
        raise reader.fail(f"{where}.id_number", "fails the GB 11643 check")
    if id_type == "USCC" and not uscc_check_ok(id_number):
        raise reader.fail(f"{where}.id_number", "fails the GB 32100 check")
    if id_type == "PASSPORT" and not _OTHER_ID.match(id_number):
        raise reader.fail(f"{where}.id_number", "expected 5-20 letters or digits")
    if id_type in ("HMT_PERMIT", "FOREIGN_PR") and problem_with(id_type, id_number) is not None:
        raise reader.fail(f"{where}.id_number", "not a number of this document type (DOMAIN.md section 3)")


def _person(reader: _Reader, obj: dict[str, Any], where: str) -> Person:
    id_type = reader.choice(obj, "id_type", where, ID_TYPES)
    id_number = reader.text(obj, "id_number", where).upper()
    _check_id(reader, id_type, id_number, where)
    phone = reader.optional(obj, "phone", where)
    if phone is not None and mobile_number(phone) is None:
        raise reader.fail(f"{where}.phone", "not a mainland mobile number")
    license_no = reader.optional(obj, "license_no", where)
    if license_no is not None and not re.fullmatch(r"\d{17}", license_no):
        raise reader.fail(f"{where}.license_no", "a lawyer's licence number has 17 digits")
    kind = reader.choice(obj, "kind", where, frozenset({"person", "organisation"}), default="person")
    return Person(reader.text(obj, "name", where), id_type, id_number, kind, phone, license_no)


def _people(reader: _Reader, value: Any) -> dict[str, Person]:
    if value is None:
        return {}
    return {key: _person(reader, reader.mapping(obj, f"people.{key}"), f"people.{key}")
            for key, obj in reader.mapping(value, "people").items()}


def _party(reader: _Reader, value: Any, where: str, people: dict[str, Person]) -> tuple[Party, str | None]:
    obj = reader.mapping(value, where)
    ref = reader.optional(obj, "person", where)
    if ref is not None:
        if ref not in people:
            raise reader.fail(f"{where}.person", f"no person '{ref}' under people")
        person = people[ref]
    else:
        person = _person(reader, obj, where)
    role = reader.choice(obj, "role", where, ROLES)
    password = obj.get("password")
    if password is not None and (not isinstance(password, str) or not _PASSWORD.match(password)):
        raise reader.fail(f"{where}.password", "a case query password is 6 digits, quoted (\"012345\")")
    party = Party(person, role, reader.optional(obj, "role_label", where) or ROLES[role],
                  password=password, left=bool(obj.get("left", False)))
    return party, reader.optional(obj, "represents", where)


def _link_represented(reader: _Reader, parties: list[tuple[Party, str | None]], where: str,
                      people: dict[str, Person]) -> list[Party]:
    names = {party.person.name for party, _ in parties}
    for index, (party, represents) in enumerate(parties):
        if party.role in REPRESENTING_ROLES and represents is None:
            raise reader.fail(f"{where}.parties[{index}].represents", f"a {party.role} must name who they act for")
        if represents is not None:
            name = people[represents].name if represents in people else represents
            if name not in names:
                raise reader.fail(f"{where}.parties[{index}].represents", f"'{represents}' is not a party of the case")
            party.represents = name
    return [party for party, _ in parties]


def _node(reader: _Reader, value: Any, where: str) -> Node:
    obj = reader.mapping(value, where)
    code = reader.text(obj, "code", where)
    label = reader.optional(obj, "label", where) or NODE_LABELS.get(code)
    if label is None:
        raise reader.fail(f"{where}.label", f"no default label for node code '{code}'")
    return Node(code, label, reader.when(obj, "at", where, with_time=True))


def _hearing(reader: _Reader, value: Any, where: str) -> Hearing:
    obj = reader.mapping(value, where)
    return Hearing(
        hearing_id=reader.text(obj, "hearing_id", where),
        at=reader.when(obj, "at", where, with_time=True),
        place=reader.text(obj, "place", where),
        mode=reader.choice(obj, "mode", where, HEARING_MODES),
        status=reader.choice(obj, "status", where, HEARING_STATUSES, default="SCHEDULED"),
        room_id=reader.optional(obj, "room_id", where),
    )


def _fee(reader: _Reader, value: Any, where: str) -> Fee:
    obj = reader.mapping(value, where)
    amount = reader.text(obj, "amount", where)
    if not _AMOUNT.match(amount):
        raise reader.fail(f"{where}.amount", "yuan as a quoted decimal string, e.g. \"1925.00\"")
    return Fee(
        fee_id=reader.text(obj, "fee_id", where),
        item=reader.text(obj, "item", where),
        amount=amount,
        status=reader.choice(obj, "status", where, FEE_STATUSES),
        due=reader.when(obj, "due", where, with_time=False),
        payer=reader.optional(obj, "payer", where),
    )


def _judgment(reader: _Reader, value: Any, where: str) -> Judgment | None:
    if value is None:
        return None
    obj = reader.mapping(value, where)
    return Judgment(
        kind=reader.choice(obj, "kind", where, JUDGMENT_KINDS),
        document=reader.text(obj, "document", where),
        pronounced_at=reader.when(obj, "pronounced_at", where, with_time=True),
        served_at=reader.optional_when(obj, "served_at", where, with_time=False),
        effective_at=reader.optional_when(obj, "effective_at", where, with_time=False),
        performance_due=reader.optional_when(obj, "performance_due", where, with_time=False),
    )


def _case_number(reader: _Reader, obj: dict[str, Any], court: str, where: str) -> tuple[str, str | None]:
    text = reader.text(obj, "case_no", where)
    try:
        number = read_case_no(text)
    except NotACaseNumber:
        raise reader.fail(f"{where}.case_no", f"'{text}' is not a case number") from None
    if number.court is not None and number.court != court:
        raise reader.fail(f"{where}.case_no", f"belongs to {number.court}, not {court}")
    return number.text, number.type_code


def _case(reader: _Reader, value: Any, court: str, where: str, people: dict[str, Person]) -> Case:
    obj = reader.mapping(value, where)
    case_no, type_code = _case_number(reader, obj, court, where)
    case_type = reader.optional(obj, "case_type", where) or type_code
    if case_type is None:
        raise reader.fail(f"{where}.case_type", "a legacy case number needs an explicit case_type (民初 ...)")
    raw_parties = reader.sequence(obj.get("parties"), f"{where}.parties")
    if not raw_parties:
        raise reader.fail(f"{where}.parties", "a case has at least one party")
    parsed = [_party(reader, p, f"{where}.parties[{i}]", people) for i, p in enumerate(raw_parties)]
    case = Case(
        case_no=case_no,
        court=court,
        case_type=case_type,
        cause=reader.text(obj, "cause", where),
        filed_at=reader.when(obj, "filed_at", where, with_time=True),
        stage=reader.choice(obj, "stage", where, STAGES),
        judge=reader.optional(obj, "judge", where),
        parties=_link_represented(reader, parsed, where, people),
        nodes=[_node(reader, n, f"{where}.nodes[{i}]") for i, n in enumerate(reader.sequence(obj.get("nodes"), where))],
        hearings=[_hearing(reader, h, f"{where}.hearings[{i}]")
                  for i, h in enumerate(reader.sequence(obj.get("hearings"), where))],
        fees=[_fee(reader, f, f"{where}.fees[{i}]") for i, f in enumerate(reader.sequence(obj.get("fees"), where))],
        judgment=_judgment(reader, obj.get("judgment"), f"{where}.judgment"),
        clerk=reader.optional(obj, "clerk", where),
        procedure=reader.optional(obj, "procedure", where),
        amount=reader.optional(obj, "amount", where),
        related=[str(r) for r in reader.sequence(obj.get("related"), f"{where}.related")],
    )
    case.updated_at = max([case.filed_at] + [n.at for n in case.nodes], key=timeutil.parse_iso)
    return case


def _check_unique(reader: _Reader, court: str, cases: list[Case]) -> None:
    seen: dict[str, str] = {}
    for case in cases:
        keys = [("case_no", case.case_no)] + [("hearing_id", h.hearing_id) for h in case.hearings]
        keys += [("fee_id", f.fee_id) for f in case.fees]
        keys += [("password", p.password) for p in case.parties if p.password]
        for kind, key in keys:
            if f"{kind}:{key}" in seen:
                raise reader.fail(f"courts.{court}", f"{kind} {key} is used twice ({seen[f'{kind}:{key}']})")
            seen[f"{kind}:{key}"] = case.case_no


def _court(reader: _Reader, code: str, value: Any, people: dict[str, Person]) -> CourtSeed:
    where = f"courts.{code}"
    obj = reader.mapping(value or {}, where)
    if code not in COURT_NAMES and not _COURT_CODE.match(code):
        raise reader.fail(where, "not a court code such as 粤0106")
    name = reader.optional(obj, "name", where) or COURT_NAMES.get(code)
    if name is None:
        raise reader.fail(f"{where}.name", "a court outside DOMAIN.md section 1 needs a name")
    cases = [_case(reader, c, code, f"{where}.cases[{i}]", people)
             for i, c in enumerate(reader.sequence(obj.get("cases"), f"{where}.cases"))]
    _check_unique(reader, code, cases)
    return CourtSeed(code, name, tuple(cases))


def parse_seed(document: Any, source: str = "<seed>", today: date | None = None) -> SeedData:
    """Build seed data from a parsed document (the YAML/JSON format of the README)."""
    reader = _Reader(source, today or timeutil.today())
    root = reader.mapping(document, "(top)")
    if root.get("version") != 1:
        raise reader.fail("version", "expected version: 1")
    people = _people(reader, root.get("people"))
    raw_courts = reader.mapping(root.get("courts") or {}, "courts")
    courts = {code: _court(reader, code, value, people) for code, value in raw_courts.items()}
    for code, name in COURT_NAMES.items():
        courts.setdefault(code, CourtSeed(code, name, ()))
    return SeedData(courts, people, source)


def load_seed(path: Path | str, today: date | None = None) -> SeedData:
    """Read a data file (YAML, or JSON, which YAML reads too); relative times count from ``today``."""
    file = Path(path)
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SeedError(f"{file}: cannot read: {exc}") from exc
    return parse_seed(document, str(file), today)


def default_seed(today: date | None = None) -> SeedData:
    """The data file shipped in the package."""
    text = resources.files("reference_court").joinpath("data", DEFAULT_DATA).read_text(encoding="utf-8")
    return parse_seed(yaml.safe_load(text), f"reference_court/data/{DEFAULT_DATA}", today)


# --- the demo at a glance ----------------------------------------------------------------------


def cases_of(seed: SeedData, id_type: str, id_number: str) -> list[tuple[Case, Party]]:
    found = []
    for court in seed.courts.values():
        for case in court.cases:
            found += [(case, p) for p in case.parties
                      if (p.person.id_type, p.person.id_number) == (id_type, id_number.upper())]
    return found


def demo_summary(seed: SeedData | None = None) -> str:
    """What a newcomer needs: the demo people, their cases at each court and their passwords."""
    data = seed or default_seed()
    lines = ["Demo people of the reference court (all data fictitious):"]
    for person in DEMO_PEOPLE.values():
        lines.append(f"  {person.name}  {person.id_type} {person.id_number}  phone {person.phone}  ({person.note})")
        for case, party in cases_of(data, person.id_type, person.id_number):
            password = f"  查询密码 {party.password}" if party.password else ""
            lines.append(f"      {case.court}  {case.case_no}  {party.role_label}  {STAGES[case.stage]}{password}")
    return "\n".join(lines)
