"""Case query passwords as the reference court's seed holds them, for drivers that need one (the hotline)."""

from __future__ import annotations

from gateway import parse_case_number
from reference_court.seed import default_seed
from workbench.drivers import Person


def case_password(person: Person, case_no: str, court: str | None = None) -> str:
    """The person's case query password for the case, from the reference court's seed; a password
    nobody at that court has when the person has none (a caller who does not know it)."""
    seed = default_seed()
    code = court or parse_case_number(case_no).court
    taken = set()
    for case in seed.courts[str(code)].cases if str(code) in seed.courts else []:
        for party in case.parties:
            if party.password:
                taken.add(party.password)
                if case.case_no == case_no and party.person.id_number == person.id_number.upper() and not party.left:
                    return party.password
    return next(f"{n:06d}" for n in range(100000, 1000000) if f"{n:06d}" not in taken)
