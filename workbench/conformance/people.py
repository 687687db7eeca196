"""Who the checks act as, and on which case: people and a case of the reference court's seed."""

from __future__ import annotations

from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from workbench.drivers import Person

#: a case ZHANG is a party to and WANG is not (（2026）粤0106民初22468号)
CASE = DEMO_CASES["zhangwei_yue0106_trial"]
COURT = "粤0106"


def demo_person(key: str) -> Person:
    seeded = DEMO_PEOPLE[key]
    return Person(seeded.name, seeded.id_number, phone=seeded.phone)


ZHANG = demo_person("zhangwei")
WANG = demo_person("wangfang")
#: no party to CASE either
CHEN_JING = demo_person("chenjing")
