"""OWASP API7:2023 Server-side request forgery (QUALITY.md security item 7): no user input becomes a
URL the gateway calls. An id that looks like a URL or a path climbs nowhere: it is either refused by
the router or reaches the court percent-encoded as one segment under its own route.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.support.stack import Stack

HOSTILE_IDS = ["http://127.0.0.1:1/steal", "../../admin/sla", "..%2F..%2Fadmin", "@evil.invalid", "a/../../b"]


@pytest.mark.parametrize("template_id", HOSTILE_IDS)
async def test_an_id_that_looks_like_a_url_stays_an_id(stack: Stack, client: httpx.AsyncClient,
                                                       template_id: str) -> None:
    since = stack.journal.entries()[-1]["seq"] if stack.journal.entries() else 0
    answer = await client.get(f"{stack.gateway_url}/api/v1/templates/{quote(template_id, safe='')}")
    assert answer.status_code in (400, 404) and answer.json()["code"] in ("NOT_FOUND", "VALIDATION_FAILED")
    reached = [entry["path"] for entry in stack.journal.entries(since=int(since))]
    for path in reached:
        assert path.startswith("/yue01/api/v1/templates/"), path
        assert "/" not in path.removeprefix("/yue01/api/v1/templates/")  # one encoded segment
    if "/" not in template_id:
        assert len(reached) == 1  # it did reach the court: as an id, not as a place
