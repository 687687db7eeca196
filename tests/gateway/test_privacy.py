"""No personal data in any log line (DOMAIN.md section 7): full flows, then grep what was printed."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from urllib.parse import quote

import httpx
import pytest

from gateway.logs import STDOUT
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.support.stack import running_stack

PDF = b"%PDF-1.7\n%%EOF\n"


def forbidden_strings(tokens: Iterable[str]) -> list[str]:
    values: list[str] = list(tokens)
    for person in DEMO_PEOPLE.values():
        values += [person.id_number, person.phone, person.name]
    return values


async def test_logs_of_a_full_run_carry_no_personal_data(capfd: pytest.CaptureFixture[str]) -> None:
    zhang, wang = DEMO_PEOPLE["zhangwei"], DEMO_PEOPLE["wangfang"]
    case = quote(DEMO_CASES["zhangwei_yue0106_trial"], safe="")
    tokens = []
    async with running_stack() as stack, httpx.AsyncClient(base_url=stack.gateway_url) as client:
        for person in (zhang, wang):
            token = stack.issuer.citizen({"name": person.name, "id_number": person.id_number})
            tokens.append(token)
            who = {"Authorization": f"Bearer {token}"}
            await client.get(f"/api/v1/cases/{case}/progress", headers=who)
            await client.get("/api/v1/cases", headers=who)
            upload = await client.post("/api/v1/uploads", params={"court": "粤0106"}, headers=who,
                                       files={"file": (f"{person.name}身份证.pdf", PDF, "application/pdf")})
            await client.post(f"/api/v1/cases/{case}/judge-messages",
                              headers={**who, "Idempotency-Key": secrets.token_hex(8)},
                              json={"text": f"我是{person.name}，电话{person.phone}，身份证{person.id_number}",
                                    "callback_phone": person.phone})
            await client.post("/api/v1/filings", headers={**who, "Idempotency-Key": secrets.token_hex(8)},
                              json={"court": "粤0106", "case_type": "民初", "cause": "民间借贷纠纷",
                                    "plaintiffs": [{"kind": "person", "name": person.name, "id_type": "ID_CARD",
                                                    "id_number": person.id_number[:-1] + "0"}],
                                    "defendants": [], "claims": "x", "facts": "y"})
            assert upload.status_code == 201
        await client.get(f"/api/v1/cases/{case}/progress", headers={"Authorization": "Bearer " + tokens[0][:-3]})
    STDOUT.flush()
    captured = capfd.readouterr()
    printed = captured.out + captured.err
    assert '"event":"request"' in printed and "cases.progress" in printed  # the logs were really captured
    assert '"stream":"audit"' in printed
    leaks = [value for value in forbidden_strings(tokens) if value in printed]
    assert leaks == []
