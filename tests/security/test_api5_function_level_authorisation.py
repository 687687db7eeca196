"""OWASP API5:2023 Broken function-level authorisation (QUALITY.md security item 5): admin routes are
unreachable to anything but a verified staff credential of that court, and answer exactly like a
route that does not exist; a kiosk device cannot call another profile's routes.

Issue 14, finding 6 (a roles claim that is the string "not_court_staff_member" passed as court_staff):
the ``roles`` rows of ``test_admin_routes_do_not_exist_for_anyone_but_staff`` fail on f0109a2 and pass
now. Finding 8 (the admin routes could be probed): the no-token and bad-token rows fail on f0109a2
(401 told a prober the route exists) and pass now.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from adapters.kiosk.driver import KioskDriver
from reference_court.seed import DEMO_PEOPLE
from tests.security.conftest import driver
from tests.support.stack import Stack
from workbench.drivers import Person

COURT = "粤0106"
ZW = DEMO_PEOPLE["zhangwei"]
ADMIN = "/api/v1/admin/sla"


def _staff(stack: Stack, **claims: Any) -> dict[str, str]:
    token = stack.issuer.mint(sub="staff-" + secrets.token_hex(3), **claims)
    return {"Authorization": f"Bearer {token}"}


PROBES: dict[str, Any] = {
    "no token": lambda stack: {},
    "not a JWT": lambda stack: {"Authorization": "Bearer not-a-jwt"},
    "alg none": lambda stack: {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJyb2xlcyI6WyJjb3VydF9zdGFmZiJdfQ."},
    "expired staff": lambda stack: _staff(stack, roles=["court_staff"], court=COURT, ttl_s=-600),
    "citizen": lambda stack: {"Authorization": "Bearer " + stack.issuer.citizen({"name": ZW.name,
                                                                                "id_number": ZW.id_number})},
    "roles as a look-alike string": lambda stack: _staff(stack, roles="not_court_staff_member", court=COURT),
    "roles with a look-alike": lambda stack: _staff(stack, roles=["not_court_staff"], court=COURT),
    "roles as an object": lambda stack: _staff(stack, roles={"court_staff": True}, court=COURT),
    "staff of another court": lambda stack: _staff(stack, roles=["court_staff"], court="粤01"),
}


@pytest.mark.parametrize("probe", list(PROBES))
async def test_admin_routes_do_not_exist_for_anyone_but_staff(stack: Stack, client: httpx.AsyncClient,
                                                              probe: str) -> None:
    answer = await client.get(f"{stack.gateway_url}{ADMIN}", params={"court": COURT}, headers=PROBES[probe](stack))
    missing = await client.get(f"{stack.gateway_url}/api/v1/admin/no-such-route")
    assert (answer.status_code, answer.json()["code"]) == (404, "NOT_FOUND")
    assert answer.headers["content-type"] == missing.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == missing.json()["title"]


@pytest.mark.parametrize("roles", [["court_staff"], "court_staff", "reader court_staff"])
async def test_staff_of_the_court_reach_its_board(stack: Stack, client: httpx.AsyncClient, roles: Any) -> None:
    answer = await client.get(f"{stack.gateway_url}{ADMIN}", headers=_staff(stack, roles=roles, court=COURT))
    assert answer.status_code == 200 and answer.json()["court"] == COURT


async def test_a_kiosk_device_cannot_use_another_profiles_routes(stack: Stack, client: httpx.AsyncClient) -> None:
    efating = driver("efating")
    assert isinstance(efating, KioskDriver)
    # an E法亭 device signing a request to the 粤智助 channel's routes, with its own (valid) key
    answer = await efating.signed(client, "POST", f"{stack.gateway_url}/channels/yuezhizhu/ops/courts.list", b"{}")
    assert (answer.status_code, answer.json()["errorCode"]) == (401, "UNAUTHENTICATED")
    session = await efating.sign_in(client, stack.gateway_url, Person(ZW.name, ZW.id_number))
    stolen = await driver("yuezhizhu").call(client, stack.gateway_url, session, "cases.list", {})
    assert (stolen.http_status, stolen.code) == (401, "UNAUTHENTICATED")
