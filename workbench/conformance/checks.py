"""The checks: each one drives one channel through its driver beside the canonical API and the court's journal.

A check is an async function of a :class:`Probe` that returns when the channel conforms and raises
:class:`CheckFailed` (saying what differed) when it does not. Each check names the operations it
calls; a driver whose channel offers fewer (``ChannelDriver.offered_operations``, the hotline's menu)
skips it rather than fail on something its terminals cannot express.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from workbench.conformance.logs import captured_log
from workbench.conformance.people import CASE, CHEN_JING, COURT, WANG, ZHANG
from workbench.drivers import CannotExpress, ChannelAnswer, ChannelDriver, Person, Session
from workbench.stack import Stack

PDF = b"%PDF-1.7\n% conformance\n%%EOF\n"
#: codes a court outage may leave as a 5xx; every other error is the caller's and never a 5xx
OUTAGE_CODES = frozenset({"BACKEND_UNAVAILABLE", "SERVICE_UNAVAILABLE", "BACKEND_TIMEOUT"})


class CheckFailed(AssertionError):
    """The channel broke the rule the check stands for; the message says how."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@dataclass
class Probe:
    """What a check works with: the running stack, the channel's driver, and an HTTP client."""

    stack: Stack
    driver: ChannelDriver
    client: httpx.AsyncClient

    async def sign_in(self, person: Person) -> Session:
        return await self.driver.sign_in(self.client, self.stack.gateway_url, person)

    async def call(self, session: Session | None, operation: str, args: dict[str, Any],
                   key: str | None = None) -> ChannelAnswer:
        return await self.driver.call(self.client, self.stack.gateway_url, session, operation, args, key)

    def last_seq(self) -> int:
        entries = self.stack.journal.entries()
        return int(entries[-1]["seq"]) if entries else 0

    def court_saw(self, since: int, suffix: str, method: str = "POST") -> list[dict[str, Any]]:
        """What reached the court since ``since`` on paths ending in ``suffix``."""
        return [e for e in self.stack.journal.entries(since=since)
                if e["path"].endswith(suffix) and e["method"] == method]


@dataclass(frozen=True)
class Check:
    name: str
    needs: frozenset[str]
    run: Callable[[Probe], Awaitable[None]]

    def applies_to(self, driver: ChannelDriver) -> bool:
        offered = driver.offered_operations
        return offered is None or self.needs <= offered


def new_key() -> str:
    return "k-" + secrets.token_hex(6)


# --- the canonical API, as the reference every channel is compared with --------------------------------------


async def canonical(probe: Probe, person: Person, operation: str, args: dict[str, Any],
                    key: str | None = None) -> Any:
    """One operation through the canonical API for ``person`` (a token of the stack's trusted issuer)."""
    token = probe.stack.issuer.citizen({"name": person.name, "id_number": person.id_number})
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    base = probe.stack.gateway_url + "/api/v1"
    case = quote(str(args.get("case_no", "")), safe="")
    if operation == "cases.progress":
        answer = await probe.client.get(f"{base}/cases/{case}/progress", headers=headers)
    elif operation == "uploads.create":
        name, content, content_type = args["file"]
        answer = await probe.client.post(f"{base}/uploads", params={"court": args["court"]}, headers=headers,
                                         files={"file": (name, content, content_type)})
    elif operation == "fees.calculate":
        answer = await probe.client.post(f"{base}/fees/calculate", json=args, headers=headers)
    else:
        path = {"materials.submit": "materials", "judge_messages.send": "judge-messages"}[operation]
        body = {k: v for k, v in args.items() if k != "case_no"}
        answer = await probe.client.post(f"{base}/cases/{case}/{path}", headers=headers, json=body)
    expect(answer.status_code in (200, 201), f"the canonical API refused {operation}: {answer.text[:200]}")
    return answer.json()


def _identity(entry: dict[str, Any]) -> tuple[Any, ...]:
    actor = entry["actor"]
    return actor["sub"], actor["name"], actor["id_type"], actor["id_number"]


def canonical_request(entry: dict[str, Any]) -> tuple[Any, ...]:
    """What must be identical across channels: method, path, query, body (upload ids aside) and who."""
    body = entry["body"]
    if isinstance(body, dict) and "documents" in body:
        body = {**body, "documents": [{**d, "upload_id": "<upload>"} for d in body["documents"]]}
    return entry["method"], entry["path"], entry["query"], body, _identity(entry)


# --- parity --------------------------------------------------------------------------------------------------

JOURNEY = frozenset({"cases.progress", "uploads.create", "materials.submit", "judge_messages.send"})


async def journey(probe: Probe, through_channel: bool) -> dict[str, Any]:
    """Progress, an upload and materials, a judge message; the results and what the court received."""
    session = await probe.sign_in(ZHANG) if through_channel else None

    async def call(operation: str, args: dict[str, Any], key: str | None = None) -> Any:
        if not through_channel:
            return await canonical(probe, ZHANG, operation, args, key)
        answer = await probe.call(session, operation, args, key)
        expect(answer.ok, f"{operation} failed: HTTP {answer.http_status} {str(answer.body)[:200]}")
        return answer.data

    since = probe.last_seq()
    progress = await call("cases.progress", {"case_no": CASE})
    upload = await call("uploads.create", {"court": COURT, "file": ("合同.pdf", PDF + secrets.token_bytes(4),
                                                                    "application/pdf")})
    materials = await call("materials.submit", {"case_no": CASE, "kind": "evidence", "note": "补充证据",
                                                "documents": [{"upload_id": upload["upload_id"], "name": "合同"}]},
                           new_key())
    message = await call("judge_messages.send", {"case_no": CASE, "text": "请问开庭时间是否可以调整？"}, new_key())
    received = {"progress": probe.court_saw(since, "/progress", "GET"),
                "materials": probe.court_saw(since, "/materials"),
                "message": probe.court_saw(since, "/judge-messages")}
    return {"progress": progress, "materials": materials, "message": message, "received": received}


async def same_requests_as_the_canonical_api(probe: Probe) -> None:
    reference = await journey(probe, through_channel=False)
    seen = await journey(probe, through_channel=True)
    progress = probe.driver.expected_data("cases.progress", {"case_no": CASE}, reference["progress"])
    expect(seen["progress"] == progress, "cases.progress: the channel's data differs from the API's")
    for step in ("progress", "materials", "message"):
        ours = [canonical_request(e) for e in seen["received"][step]]
        theirs = [canonical_request(e) for e in reference["received"][step]]
        expect(ours == theirs, f"{step}: the court received {ours} through the channel, {theirs} through the API")
    for step in ("materials", "message"):
        expect(set(seen[step]) == set(reference[step]), f"{step}: result fields {sorted(seen[step])} "
               f"differ from the API's {sorted(reference[step])}")
    channels = {e["actor"]["channel"] for e in seen["received"]["progress"]}
    expect(channels == {probe.driver.channel}, f"the court saw the channel as {channels}")


async def a_result_equals_the_canonical_result(probe: Probe) -> None:
    args = {"case_type": "民初", "amount": "200000"}
    answer = await probe.call(await probe.sign_in(ZHANG), "fees.calculate", dict(args))
    expected = await canonical(probe, ZHANG, "fees.calculate", args)
    expect(answer.ok and answer.http_status == 200, f"HTTP {answer.http_status} {str(answer.body)[:200]}")
    shown = probe.driver.expected_data("fees.calculate", args, expected)
    expect(answer.data == shown, f"fees.calculate: {answer.data} through the channel, {shown} (from {expected}) "
           "through the API")


async def a_non_party_gets_not_found(probe: Probe) -> None:
    session = await probe.sign_in(WANG)
    since = probe.last_seq()
    progress = await probe.call(session, "cases.progress", {"case_no": CASE})
    message = await probe.call(session, "judge_messages.send", {"case_no": CASE, "text": "你好"}, new_key())
    # Another non-party asks for a case nobody has (a channel may refuse a third miss in a row as guessing).
    missing = await probe.call(await probe.sign_in(CHEN_JING), "cases.progress",
                               {"case_no": "（2026）粤0106民初99998号"})
    codes = [progress.code, message.code, missing.code]
    expect(codes == ["NOT_FOUND"] * 3, f"a non-party got {codes}, not NOT_FOUND each time")
    expect(_same_shape(progress.body, missing.body), "a case the person is no party to answers differently "
           "from a case that does not exist (enumeration)")
    reached = [e["path"] for e in probe.stack.journal.entries(since=since) if not _access_check(e["path"])]
    expect(reached == [], f"the court was asked more than the access check: {reached}")


def _access_check(path: str) -> bool:
    """The court's own answers to "may this person see this case" (section 5): party access, case password."""
    return path.endswith(("/access", "/case-query-passwords/verify"))


def _same_shape(a: Any, b: Any) -> bool:
    """Identical apart from per-request identifiers and display text around the code."""
    volatile = {"request_id", "requestId", "screen", "display"}
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: v for k, v in a.items() if k not in volatile} == {k: v for k, v in b.items() if k not in volatile}
    return bool(a == b)


# --- errors in the channel's format --------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    name: str
    operation: str
    args: dict[str, Any]
    fault: str | None  # a fault the reference court is told to answer with once
    code: str


def error_cases() -> list[ErrorCase]:
    """One row per way a call fails before, at or behind the court; the channel must carry each code."""
    return [
        ErrorCase("unknown operation", "cases.nonsense", {}, None, "NOT_FOUND"),
        ErrorCase("bad arguments", "judge_messages.send", {"case_no": CASE, "text": ""}, None, "VALIDATION_FAILED"),
        ErrorCase("mass assignment", "judge_messages.send", {"case_no": CASE, "text": "x", "status": "REPLIED"},
                  None, "VALIDATION_FAILED"),
        ErrorCase("bad case number", "cases.progress", {"case_no": "粤0106民初1号"}, None, "INVALID_CASE_NUMBER"),
        ErrorCase("unknown court", "cases.progress", {"case_no": "（2026）粤0199民初1号"}, None, "NOT_FOUND"),
        ErrorCase("service not offered", "hearings.join", {"case_no": CASE, "hearing_id": "h"}, None,
                  "SERVICE_NOT_ENABLED"),
        ErrorCase("court down", "templates.list", {"court": COURT}, "unavailable_503", "BACKEND_UNAVAILABLE"),
        ErrorCase("court malformed", "templates.list", {"court": COURT}, "malformed", "BACKEND_UNAVAILABLE"),
        ErrorCase("court answers 10 MB", "templates.list", {"court": COURT}, "huge", "BACKEND_UNAVAILABLE"),
        ErrorCase("court redirects", "templates.list", {"court": COURT}, "redirect", "BACKEND_UNAVAILABLE"),
    ]


async def set_fault(probe: Probe, mode: str, **extra: Any) -> None:
    answer = await probe.client.post(probe.stack.court_root + "/_ref/faults",
                                     json={"court": COURT, "mode": mode, **extra})
    expect(answer.status_code == 200, f"the reference court refused the fault {mode}: {answer.text[:200]}")


async def court_back(probe: Probe, deadline_s: float = 20.0) -> None:
    """Leave the court as the check found it: no fault left over (a call that never went), and the gateway
    calling it again (a run of outage rows trips its circuit breaker, which would answer the next check's
    calls, or the next channel's, without asking the court)."""
    await set_fault(probe, "ok")
    url = f"{probe.stack.gateway_url}/api/v1/templates"
    stop = asyncio.get_running_loop().time() + deadline_s
    while (await probe.client.get(url, params={"court": COURT})).status_code != 200:
        expect(asyncio.get_running_loop().time() < stop, f"the court stayed unreachable for {deadline_s} s")
        await asyncio.sleep(0.2)


async def error_in_the_channels_format(probe: Probe, case: ErrorCase) -> None:
    session = await probe.sign_in(ZHANG)
    if case.fault:
        await set_fault(probe, case.fault, count=1)
    key = new_key() if case.operation in ("judge_messages.send", "hearings.join") else None
    try:
        answer = await probe.call(session, case.operation, case.args, key)
    finally:
        if case.fault:
            await court_back(probe)
    got = f"HTTP {answer.http_status} {str(answer.body)[:200]}"
    expect(not answer.ok and answer.code == case.code, f"expected {case.code}, got {got}")
    wanted = probe.driver.error_http_status(case.code)
    if wanted is not None:
        expect(answer.http_status == wanted, f"{case.code} must be HTTP {wanted} on this channel, got {got}")
    else:
        expect(answer.http_status < 500 or case.code in OUTAGE_CODES, f"a caller's mistake answered {got}")


def _error_check(case: ErrorCase) -> Check:
    async def run(probe: Probe) -> None:
        await error_in_the_channels_format(probe, case)

    return Check(f"error: {case.name} -> {case.code}", frozenset({case.operation}), run)


# --- idempotency ---------------------------------------------------------------------------------------------


async def idempotency_keys(probe: Probe) -> None:
    """A resent write is answered from the first (flagged as a replay) and reaches the court once;
    a new key is a new write; the key's field never reaches the court."""
    session = await probe.sign_in(ZHANG)
    key, args = new_key(), {"case_no": CASE, "text": "请问案件何时开庭？"}
    since = probe.last_seq()
    first = await probe.call(session, "judge_messages.send", dict(args), key)
    again = await probe.call(session, "judge_messages.send", dict(args), key)
    expect(first.ok and again.ok, f"a write or its resend failed: {str(first.body)[:150]} / {str(again.body)[:150]}")
    expect(again.data == first.data, f"the resend answered {again.data}, the first {first.data}")
    expect(again.headers.get("Idempotent-Replayed") == "true", "the resend's HTTP answer lacks Idempotent-Replayed")
    sent = probe.court_saw(since, "/judge-messages")
    expect(len(sent) == 1, f"the court received the message {len(sent)} times")
    expect(key not in json.dumps(sent[0]["body"], ensure_ascii=False),
           "the idempotency key reached the court: the channel's key field must not be forwarded")
    other = await probe.call(session, "judge_messages.send", dict(args), new_key())
    expect(other.ok and len(probe.court_saw(since, "/judge-messages")) == 2, "a new key did not make a new write")


async def a_reused_key_is_refused(probe: Probe) -> None:
    """The same key with other arguments is IDEMPOTENCY_KEY_REUSED, and the court never sees it. On a channel
    whose key is the platform's message id (``reused_key_is_deduplicated``) the reuse is a redelivery of a
    message already seen: answered as the first write and flagged as a replay; the court never sees it either."""
    session = await probe.sign_in(ZHANG)
    key, args = new_key(), {"case_no": CASE, "text": "请问案件何时开庭？"}
    first = await probe.call(session, "judge_messages.send", dict(args), key)
    expect(first.ok, f"a write failed: {str(first.body)[:150]}")
    since = probe.last_seq()
    reused = await probe.call(session, "judge_messages.send", {**args, "text": "另一条留言"}, key)
    if probe.driver.reused_key_is_deduplicated:
        expect(reused.ok and reused.data == first.data, f"the reused message id answered {reused.data}, "
               f"not the first write's {first.data}")
        expect(reused.headers.get("Idempotent-Replayed") == "true", "the reuse's HTTP answer lacks "
               "Idempotent-Replayed")
    else:
        expect(not reused.ok and reused.code == "IDEMPOTENCY_KEY_REUSED",
               f"the key reused with other arguments answered {reused.code or 'ok'}")
    expect(probe.court_saw(since, "/judge-messages") == [], "a refused reuse reached the court")


# --- privacy -------------------------------------------------------------------------------------------------


PRIVACY_CALLS = frozenset({"cases.progress", "cases.list", "judge_messages.send", "uploads.create",
                           "mediations.apply"})


def _long_strings(values: dict[str, Any]) -> list[str]:
    return [v for v in values.values() if isinstance(v, str) and len(v) >= 8]


async def no_personal_data_in_logs(probe: Probe) -> None:
    """Two people do what citizens do, personal data in every field; nothing of it may be printed."""
    forbidden: list[str] = []
    with captured_log() as printed:
        for person in (ZHANG, WANG):
            session = await probe.sign_in(person)
            forbidden += _long_strings(session.values) + [v for v in (person.name, person.id_number, person.phone)
                                                          if v]
            for operation, args, key in _privacy_calls(person):
                if probe.driver.offers(operation):
                    with contextlib.suppress(CannotExpress):
                        await probe.call(session, operation, args, key)
    text = printed()
    expect(f'"channel":"{probe.driver.channel}"' in text, "the run printed no request line for the channel "
           "(nothing to check: is the gateway logging?)")
    leaked = sorted({value for value in forbidden if value in text})
    expect(leaked == [], f"{len(leaked)} personal values printed (names, ID or phone numbers, tokens)")


def _privacy_calls(person: Person) -> list[tuple[str, dict[str, Any], str | None]]:
    return [
        ("cases.progress", {"case_no": CASE}, None),
        ("cases.list", {}, None),
        ("judge_messages.send", {"case_no": CASE, "text": f"{person.name} {person.phone}",
                                 "callback_phone": person.phone}, new_key()),
        ("uploads.create", {"court": COURT, "file": (f"{person.name}.pdf", PDF, "application/pdf")}, None),
        ("mediations.apply", {"court": COURT, "dispute": person.id_number,
                              "applicants": [{"kind": "person", "name": person.name, "id_type": "ID_CARD",
                                              "id_number": person.id_number[:-1] + "9"}],
                              "respondents": []}, new_key()),
    ]


#: every check, in the order of the table ``verify-adapter`` prints
CHECKS: list[Check] = [
    Check("parity: the court receives the canonical requests", JOURNEY, same_requests_as_the_canonical_api),
    Check("parity: a result equals the canonical result", frozenset({"fees.calculate"}),
          a_result_equals_the_canonical_result),
    Check("parity: a non-party gets NOT_FOUND", frozenset({"cases.progress", "judge_messages.send"}),
          a_non_party_gets_not_found),
    *(_error_check(case) for case in error_cases()),
    Check("idempotency: a resend is a replay, a new key a new write", frozenset({"judge_messages.send"}),
          idempotency_keys),
    Check("idempotency: a key reused with other arguments is refused or deduplicated", frozenset({"judge_messages.send"}),
          a_reused_key_is_refused),
    Check("no personal data in logs", frozenset({"cases.progress"}), no_personal_data_in_logs),
]
