"""The request journal: what each court received, as received."""

from __future__ import annotations

import uuid

from reference_court import DEMO_CASES
from tests.reference_court.conftest import RefCourt, case_path


async def test_requests_are_recorded(fresh_court: RefCourt) -> None:
    court = fresh_court
    case_no = DEMO_CASES["zhangwei_yue0106_trial"]
    await court.get("粤0106", f"/cases/{case_path(case_no)}/progress?court=%E7%B2%A40106", "zhangwei")
    key = uuid.uuid4().hex
    headers = {**court.headers("粤0106", "zhangwei", key=key), "X-Request-Id": "req-journal-1"}
    await court.client.post(court.base("粤0106") + f"/api/v1/cases/{case_path(case_no)}/judge-messages",
                            json={"text": "请联系我"}, headers=headers)
    await court.client.get(court.base("粤0192") + "/api/v1/health")

    response = await court.client.get(f"{court.url}/_ref/journal")
    entries = response.json()["entries"]
    assert [e["court"] for e in entries] == ["粤0106", "粤0106", "粤0192"]
    read, write, health = entries
    assert read["method"] == "GET"
    assert read["path"] == f"/yue0106/api/v1/cases/{case_path(case_no)}/progress"  # upper-case hex, as sent
    assert read["query"] == "court=%E7%B2%A40106"
    assert read["actor"]["id_number"] == "440106199001011235" and read["actor"]["aud"] == "粤0106"
    assert read["status"] == 200
    assert write["headers"]["idempotency-key"] == key
    assert write["headers"]["x-request-id"] == "req-journal-1"
    assert write["body"] == {"text": "请联系我"}
    assert write["status"] == 201
    assert "authorization" not in write["headers"] and write["authorization"] == "Bearer"
    assert health["actor"] is None

    assert [e["seq"] for e in court.app.state.journal.entries()] == [e["seq"] for e in entries]
    only = (await court.client.get(f"{court.url}/_ref/journal", params={"court": "粤0192"})).json()
    assert only["count"] == 1
    since = (await court.client.get(f"{court.url}/_ref/journal", params={"since": read["seq"]})).json()
    assert [e["seq"] for e in since["entries"]] == [write["seq"], health["seq"]]


async def test_refused_requests_are_recorded_too(fresh_court: RefCourt) -> None:
    court = fresh_court
    await court.client.get(court.base("粤0106") + "/api/v1/cases")
    entry = court.app.state.journal.entries()[-1]
    assert entry["status"] == 401 and entry["actor"] is None


async def test_journal_clears_and_ignores_hooks(fresh_court: RefCourt) -> None:
    court = fresh_court
    await court.client.get(court.base("粤0106") + "/api/v1/health")
    await court.client.get(f"{court.url}/_ref/faults")
    assert len(court.app.state.journal) == 1
    cleared = await court.client.delete(f"{court.url}/_ref/journal")
    assert cleared.json() == {"cleared": 1}
    assert (await court.client.get(f"{court.url}/_ref/journal")).json()["entries"] == []


def test_journal_is_bounded() -> None:
    from reference_court.journal import Journal

    journal = Journal(limit=3)
    for _ in range(5):
        journal.open({"type": "http", "method": "GET", "path": "/x", "headers": []}, "粤01")
    assert [e["seq"] for e in journal.entries()] == [3, 4, 5]
