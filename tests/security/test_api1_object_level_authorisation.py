"""OWASP API1:2023 Broken object-level authorisation (QUALITY.md security item 1): through every
channel, a citizen asking for another person's case, payments or hearings gets NOT_FOUND exactly as
for a case that does not exist (same HTTP status, same code, same message), and the court never
receives the operation itself (only the participant check). The 12368 line opens a case only by its
password: test_api2_ivr_password_guessing.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.security.conftest import DRIVERS, MENU_BOUND, driver
from tests.support.stack import Stack
from workbench.drivers import ChannelAnswer, Person

SOMEONE_ELSES = DEMO_CASES["zhangwei_yue0106_trial"]
MISSING = "（2026）粤0106民初99999998号"
WF = DEMO_PEOPLE["wangfang"]
CHANNELS = [d.channel for d in DRIVERS if d.adapter not in MENU_BOUND]
OPERATIONS = ["cases.progress", "payments.list", "hearings.list", "judge_messages.list"]


def _comparable(answer: ChannelAnswer) -> tuple[int, str | None, Any]:
    body = {k: v for k, v in answer.body.items() if k.lower() not in ("request_id", "requestid")} \
        if isinstance(answer.body, dict) else answer.body
    return answer.http_status, answer.code, body


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("channel", CHANNELS)
async def test_another_persons_case_is_not_found_like_a_missing_one(
        stack: Stack, client: httpx.AsyncClient, channel: str, operation: str) -> None:
    d = driver(channel)
    session = await d.sign_in(client, stack.gateway_url, Person(WF.name, WF.id_number))
    since = _last_seq(stack)
    foreign = await d.call(client, stack.gateway_url, session, operation, {"case_no": SOMEONE_ELSES})
    missing = await d.call(client, stack.gateway_url, session, operation, {"case_no": MISSING})
    assert foreign.code == "NOT_FOUND" and not foreign.ok
    assert _comparable(foreign) == _comparable(missing)
    encoded = quote(SOMEONE_ELSES, safe="")
    reached = [e["path"] for e in stack.journal.entries(since=since) if encoded in e["path"]]
    # the participant check at most (it is cached briefly), never the operation itself
    assert all(path.endswith("/access") for path in reached), reached


def _last_seq(stack: Stack) -> int:
    entries = stack.journal.entries()
    return int(entries[-1]["seq"]) if entries else 0
