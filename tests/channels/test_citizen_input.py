"""Citizen input as people type it (issue 14; DOMAIN.md sections 2 and 3): case numbers in full-width
digits, mixed, with U+3000 or no-break spaces, with 〔〕 【】 ［］ brackets; ID numbers of every type;
a USCC with a bad check character. Each row runs through the canonical API and two signed channels
(粤省事, 穗好办), the case numbers also typed into the 5G chatbot's conversation, and what reaches the
court is the one normal form.

Rows that fail on f0109a2: every case-number row but the plain one; the 15-digit ID message; the
HMT_PERMIT and FOREIGN_PR rows; the USCC review row.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from adapters.rcs5g.driver import Rcs5gDriver
from adapters.suihaoban.driver import SuihaobanDriver
from adapters.yueshengshi.driver import YueshengshiDriver
from gateway.domain.id_numbers import resident_id_check_char
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.support.channel_stack import channel_stack
from tests.support.stack import Stack
from workbench.drivers import ChannelDriver, Person, Session

TRIAL = DEMO_CASES["zhangwei_yue0106_trial"]  # （2026）粤0106民初22468号
ZW = DEMO_PEOPLE["zhangwei"]
PERSON = Person(ZW.name, ZW.id_number, phone=ZW.phone)
CHANNELS = ["api", "yueshengshi", "suihaoban"]


def _checked(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


CASE_NUMBERS = {
    "plain": TRIAL,
    "full-width digits": "（２０２６）粤０１０６民初２２４６８号",
    "mixed": "(2026)粤0106民初２２４６８号",
    "ideographic space": "（2026）\u3000粤0106民初22468号",
    "no-break space": "（2026）粤0106\u00a0民初 22468号",
    "〔〕": "〔2026〕粤0106民初22468号",
    "【】": "【2026】粤0106民初22468号",
    "［］ full-width": "［２０２６］粤０１０６民初２２４６８号",
}


@dataclass(frozen=True)
class IdRow:
    id_type: str
    typed: str
    normal: str | None  # None: refused with INVALID_ID_NUMBER
    kind: str = "person"
    message: str | None = None  # a fragment the refusal must carry
    review: bool = False


ID_ROWS = {
    "resident, lower-case full-width x": IdRow("ID_CARD", "11010519491231002ｘ", "11010519491231002X"),
    "resident, bad check": IdRow("ID_CARD", "110105194912310021", None),
    "resident, 15-digit legacy": IdRow("ID_CARD", "110105491231002", None, message="18位"),
    "HMT residence permit": IdRow("HMT_PERMIT", _checked("81000019900101123"), _checked("81000019900101123")),
    "HMT residence permit, bad check": IdRow("HMT_PERMIT", "810000199001011230"
                                             if _checked("81000019900101123")[-1] != "0" else "810000199001011231",
                                             None),
    "回乡证": IdRow("HMT_PERMIT", "H12345678", "H12345678"),
    "回乡证, old": IdRow("HMT_PERMIT", "m1234567890", "M1234567890"),
    "台胞证": IdRow("HMT_PERMIT", "１２３４５６７８", "12345678"),
    "HMT nonsense": IdRow("HMT_PERMIT", "abc", None),
    "foreign PR 2023": IdRow("FOREIGN_PR", _checked("93101119850101001"), _checked("93101119850101001")),
    "foreign PR 2023, bad check": IdRow("FOREIGN_PR", "931011198501010010"
                                        if _checked("93101119850101001")[-1] != "0" else "931011198501010011", None),
    "foreign PR 2017": IdRow("FOREIGN_PR", "usa 123456789012", "USA123456789012"),
    "foreign PR nonsense": IdRow("FOREIGN_PR", "X1234", None),
    "passport": IdRow("PASSPORT", "e12345678", "E12345678"),
    "USCC": IdRow("USCC", "91350100M000100Y43", "91350100M000100Y43", "organisation"),
    "USCC, bad check character": IdRow("USCC", "91350100m000100y44", "91350100M000100Y44", "organisation",
                                       review=True),
    "USCC, wrong shape": IdRow("USCC", "9135010", None, "organisation"),
}

DRIVERS: dict[str, ChannelDriver] = {"yueshengshi": YueshengshiDriver(), "suihaoban": SuihaobanDriver(),
                                     "rcs5g": Rcs5gDriver()}


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with channel_stack(list(DRIVERS.values())) as running:
        yield running


@pytest.fixture(scope="module")
async def sessions(stack: Stack) -> dict[str, Session]:
    async with httpx.AsyncClient(timeout=30) as client:
        return {name: await d.sign_in(client, stack.gateway_url, PERSON) for name, d in DRIVERS.items()}


@dataclass
class Answer:
    ok: bool
    code: str | None
    data: Any
    detail: str


async def call(stack: Stack, sessions: dict[str, Session], channel: str, operation: str, args: dict[str, Any],
               key: str | None = None) -> Answer:
    async with httpx.AsyncClient(timeout=30) as client:
        if channel == "api":
            return await _canonical(stack, client, operation, args, key)
        answer = await DRIVERS[channel].call(client, stack.gateway_url, sessions[channel], operation, args, key)
        return Answer(answer.ok, answer.code, answer.data, str(answer.body))


async def _canonical(stack: Stack, client: httpx.AsyncClient, operation: str, args: dict[str, Any],
                     key: str | None) -> Answer:
    token = stack.issuer.citizen({"name": ZW.name, "id_number": ZW.id_number})
    headers = {"Authorization": f"Bearer {token}"}
    if operation == "cases.progress":
        response = await client.get(f"{stack.gateway_url}/api/v1/cases/{quote(args['case_no'], safe='')}/progress",
                                    headers=headers)
    else:
        response = await client.post(f"{stack.gateway_url}/api/v1/mediations", json=args,
                                     headers={**headers, "Idempotency-Key": key or "k"})
    body = response.json()
    ok = response.status_code < 400
    return Answer(ok, None if ok else body["code"], body if ok else None, response.text)


def _since(stack: Stack) -> int:
    entries = stack.journal.entries()
    return int(entries[-1]["seq"]) if entries else 0


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("row", list(CASE_NUMBERS))
async def test_case_numbers_as_typed(stack: Stack, sessions: dict[str, Session], channel: str, row: str) -> None:
    since = _since(stack)
    answer = await call(stack, sessions, channel, "cases.progress", {"case_no": CASE_NUMBERS[row]})
    assert answer.ok, answer.detail
    assert answer.data["case_no"] == TRIAL
    assert _progress_asked(stack, since) == [f"/yue0106/api/v1/cases/{quote(TRIAL, safe='')}/progress"]


@pytest.mark.parametrize("row", list(CASE_NUMBERS))
async def test_case_numbers_as_typed_to_the_5g_chatbot(stack: Stack, sessions: dict[str, Session], row: str) -> None:
    """Typed into the conversation (the password then verified for the case it names): the case's card."""
    since = _since(stack)
    answer = await call(stack, sessions, "rcs5g", "cases.progress", {"case_no": CASE_NUMBERS[row]})
    assert answer.ok, answer.detail
    assert answer.data["title"] == TRIAL
    assert _progress_asked(stack, since) == [f"/yue0106/api/v1/cases/{quote(TRIAL, safe='')}/progress"]


def _progress_asked(stack: Stack, since: int) -> list[str]:
    """The court's mount and the one normal form of the case number, once."""
    return [e["path"] for e in stack.journal.entries(since=since) if e["path"].endswith("/progress")]


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("row", list(ID_ROWS))
async def test_id_numbers_of_every_type(stack: Stack, sessions: dict[str, Session], channel: str, row: str) -> None:
    case = ID_ROWS[row]
    respondent = {"kind": case.kind, "name": "某某有限公司" if case.kind == "organisation" else "Li Lei",
                  "id_type": case.id_type, "id_number": case.typed}
    args = {"court": "粤0106", "dispute": "买卖合同纠纷，请求调解。",
            "applicants": [{"kind": "person", "name": ZW.name, "id_type": "ID_CARD", "id_number": ZW.id_number}],
            "respondents": [respondent]}
    since = _since(stack)
    answer = await call(stack, sessions, channel, "mediations.apply", args, "k-" + secrets.token_hex(6))
    sent = [e["body"] for e in stack.journal.entries(since=since) if e["path"].endswith("/mediations")]
    if case.normal is None:
        assert (answer.ok, answer.code) == (False, "INVALID_ID_NUMBER"), answer.detail
        assert case.message is None or case.message in answer.detail
        assert sent == []  # refused before any court call
        return
    assert answer.ok, answer.detail
    assert len(sent) == 1
    forwarded = sent[0]["respondents"][0]
    assert forwarded["id_number"] == case.normal
    assert forwarded.get("review") == ("manual" if case.review else None)
