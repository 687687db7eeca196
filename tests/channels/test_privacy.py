"""No personal data in any log line through any channel: a full run per channel, then grep what was printed."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from gateway.logs import STDOUT
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.drivers import installed_drivers
from tests.support.channel_stack import channel_stack
from workbench.drivers import Person

CASE = DEMO_CASES["zhangwei_yue0106_trial"]
PDF = b"%PDF-1.7\n%%EOF\n"


def _strings(values: dict[str, Any]) -> list[str]:
    return [v for v in values.values() if isinstance(v, str) and len(v) >= 8]


async def test_channel_runs_print_no_personal_data(capfd: pytest.CaptureFixture[str]) -> None:
    drivers = installed_drivers(exclude=("ivr12368", "rcs5g"))
    people = [Person(p.name, p.id_number, phone=p.phone) for p in (DEMO_PEOPLE["zhangwei"], DEMO_PEOPLE["wangfang"])]
    secrets_seen: list[str] = []
    async with channel_stack(drivers) as stack, httpx.AsyncClient(timeout=30) as client:
        for driver in drivers:
            for person in people:
                session = await driver.sign_in(client, stack.gateway_url, person)
                secrets_seen += _strings(session.values)
                calls: list[tuple[str, dict[str, Any], str | None]] = [
                    ("cases.progress", {"case_no": CASE}, None),
                    ("cases.list", {}, None),
                    ("judge_messages.send", {"case_no": CASE, "text": f"{person.name} {person.phone}",
                                             "callback_phone": person.phone}, "k-" + secrets.token_hex(4)),
                    ("uploads.create", {"court": "粤0106", "file": (f"{person.name}.pdf", PDF, "application/pdf")},
                     None),
                    ("mediations.apply", {"court": "粤0106", "dispute": person.id_number,
                                          "applicants": [{"kind": "person", "name": person.name,
                                                          "id_type": "ID_CARD",
                                                          "id_number": person.id_number[:-1] + "9"}],
                                          "respondents": []}, "k-" + secrets.token_hex(4)),
                ]
                for operation, args, key in calls:
                    await driver.call(client, stack.gateway_url, session, operation, args, key)
    STDOUT.flush()
    captured = capfd.readouterr()
    printed = captured.out + captured.err
    assert '"event":"request"' in printed and '"channel":"' + drivers[0].channel + '"' in printed
    forbidden = [*secrets_seen]
    for person in people:
        forbidden += [person.name, person.id_number, person.phone or ""]
    assert [value for value in forbidden if value and value in printed] == []
