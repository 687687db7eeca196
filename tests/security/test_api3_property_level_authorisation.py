"""OWASP API3:2023 Broken object property level authorisation (QUALITY.md security item 3):
mass-assignment fields (``status``, ``fee_paid``) are refused on every channel as VALIDATION_FAILED
in the channel's format, and the court never receives the write.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.security.conftest import DRIVERS, MENU_BOUND, driver
from tests.support.stack import Stack
from workbench.drivers import Person

CASE = DEMO_CASES["zhangwei_yue0106_trial"]
ZW = DEMO_PEOPLE["zhangwei"]
CHANNELS = [d.channel for d in DRIVERS if d.adapter not in MENU_BOUND]


def _consultation(**extra: Any) -> dict[str, Any]:
    return {"court": "粤0106", "topic": "立案咨询", "question": "请问如何网上立案？", **extra}


WRITES: dict[str, tuple[str, dict[str, Any], str]] = {
    "status on a consultation": ("consultations.create", _consultation(status="ANSWERED"), "/consultations"),
    "fee_paid on a judge message": ("judge_messages.send", {"case_no": CASE, "text": "请问开庭时间", "fee_paid": True},
                                    "/judge-messages"),
}


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("channel", CHANNELS)
async def test_mass_assignment_fields_are_refused(stack: Stack, client: httpx.AsyncClient, channel: str,
                                                  write: str) -> None:
    d = driver(channel)
    session = await d.sign_in(client, stack.gateway_url, Person(ZW.name, ZW.id_number))
    operation, args, path = WRITES[write]
    before = len([e for e in stack.journal.entries() if e["path"].endswith(path)])
    answer = await d.call(client, stack.gateway_url, session, operation, args, "k-" + secrets.token_hex(6))
    assert (answer.ok, answer.code) == (False, "VALIDATION_FAILED")
    assert answer.http_status == d.error_http_status("VALIDATION_FAILED")  # 400 on kiosks, 200 in envelopes
    assert len([e for e in stack.journal.entries() if e["path"].endswith(path)]) == before
    # the same write without the field goes through: it was that field, and only it, that was refused
    clean = {k: v for k, v in args.items() if k not in ("status", "fee_paid")}
    accepted = await d.call(client, stack.gateway_url, session, operation, clean, "k-" + secrets.token_hex(6))
    assert accepted.ok, accepted.body
