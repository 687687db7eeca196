"""Routes, mounting and the helpers the lead wires into the CLI."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.catalog import OPERATIONS
from gateway.domain.courts import GUANGZHOU_COURTS
from reference_court import DEMO_CASES, DEMO_PEOPLE, court_base_url, court_slug, create_reference_court
from reference_court.app import describe, event_secrets_from_env
from reference_court.court import specs
from reference_court.handlers import GATEWAY_ONLY, HANDLERS
from reference_court.seed import default_seed
from tests.reference_court.conftest import Mint, RefCourt, case_path, problem
from tests.support.servers import serve


def test_slugs_and_base_urls() -> None:
    assert court_slug("粤0106") == "yue0106"
    assert court_slug("粤01") == "yue01"
    assert court_slug("粤7101") == "yue7101"
    assert court_base_url("http://127.0.0.1:9100/", "粤0106") == "http://127.0.0.1:9100/yue0106"


def test_every_canonical_operation_has_a_route() -> None:
    routed = {(s.method, s.path) for s in specs()}
    for op in OPERATIONS:
        if op.id in GATEWAY_ONLY:
            continue
        assert (op.method, op.path) in routed, op.id
        assert op.id in HANDLERS
    assert ("GET", "/cases/{case_no}/access") in routed
    assert ("POST", "/case-query-passwords/verify") in routed


async def test_every_court_is_mounted(court: RefCourt) -> None:
    index = (await court.client.get(court.url + "/")).json()
    assert {c["code"] for c in index["courts"]} == set(GUANGZHOU_COURTS)
    for code in GUANGZHOU_COURTS:
        response = await court.client.get(court.base(code) + "/api/v1/health")
        assert response.json()["court"] == code


async def test_unknown_routes_are_problems(court: RefCourt) -> None:
    problem(await court.client.get(court.base("粤0106") + "/api/v1/nothing"), 404, "NOT_FOUND")
    problem(await court.client.get(court.url + "/yue9999/api/v1/health"), 404, "NOT_FOUND")
    problem(await court.client.delete(court.base("粤0106") + "/api/v1/health"), 405, "METHOD_NOT_ALLOWED")


async def test_courts_list_and_deliveries_are_not_served(court: RefCourt) -> None:
    problem(await court.get("粤0106", "/courts", "zhangwei"), 404, "NOT_FOUND")
    problem(await court.get("粤0106", "/deliveries/x", "zhangwei"), 404, "NOT_FOUND")


async def test_request_id_is_echoed(court: RefCourt) -> None:
    response = await court.client.get(court.base("粤0106") + "/api/v1/cases",
                                      headers={"X-Request-Id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json()["request_id"] == "abc-123"


async def test_only_court_serves_at_the_root(jwks: dict[str, Any], mint: Mint) -> None:
    app = create_reference_court(jwks_provider=jwks, only_court="粤0192")
    async with serve(app) as url, httpx.AsyncClient() as client:
        case = case_path(DEMO_CASES["zhangwei_yue0192_online"])
        token = mint("粤0192", DEMO_PEOPLE["zhangwei"])
        response = await client.get(f"{url}/api/v1/cases/{case}/progress", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert (await client.get(f"{url}/yue0106/api/v1/health")).status_code == 404
        journal = (await client.get(f"{url}/_ref/journal")).json()["entries"]
        assert journal[0]["court"] == "粤0192"


def test_event_secrets_from_env() -> None:
    env = {"COURT_YUE0106_EVENT_SECRET": "s1", "COURT_YUE01_EVENT_SECRET": "", "OTHER": "x"}
    assert event_secrets_from_env(["粤01", "粤0106", "粤73"], env) == {"粤0106": "s1"}


def test_describe_lists_every_base_url() -> None:
    text = describe(default_seed(), "http://127.0.0.1:9100", {"粤0106": "s"}, "http://127.0.0.1:8080")
    assert "http://127.0.0.1:9100/yue0106" in text and "events signed" in text
    assert all(court_base_url("http://127.0.0.1:9100", code) in text for code in GUANGZHOU_COURTS)
