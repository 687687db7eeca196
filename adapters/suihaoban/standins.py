"""A stand-in for the city user center, for ``court-gateway demo`` and the tests.

``POST /api/ticket/verify {"ticket"}`` answers as the real user center does.
Demo tickets name the demo people
(``demo_data.DEMO_PEOPLE``)::

    shb-demo-zhangwei       张伟, real-name verified (realNameLevel 2)
    shb-demo-zhangwei-l3    张伟 after a face check (realNameLevel 3)
    shb-demo-<key>[-l3]     the same for every demo person (wangfang, chenjing, ...)
    shb-demo-l1             an app account with a phone only (realNameLevel 1)
    shb-expired             refused: the ticket has expired

Tickets may be verified any number of times. Tests register their own people
with :meth:`CityUserCenter.register`, count the questions asked
(``verify_calls``), and can make the user center slow or unavailable.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from demo_data import DEMO_CASES, DEMO_PEOPLE
from gateway import DemoKit

DEMO_APP_ID = "shb-gz-court"
DEMO_L1_TICKET = "shb-demo-l1"
DEMO_EXPIRED_TICKET = "shb-expired"
TICKET_LIFETIME_S = 1800


@dataclass(frozen=True)
class TicketGrant:
    level: int  # realNameLevel 1 | 2 | 3
    et_openid: str
    mobile: str | None = None
    name: str | None = None
    id_no: str | None = None
    expires_in: int = TICKET_LIFETIME_S

    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"etOpenid": self.et_openid, "realNameLevel": self.level,
                                "expiresIn": self.expires_in, "mobile": self.mobile}
        if self.level >= 2:
            data.update(name=self.name, idNo=self.id_no)
        return data


def demo_tickets() -> dict[str, TicketGrant]:
    tickets = {DEMO_L1_TICKET: TicketGrant(1, "et-demo-l1", mobile="13600000002")}
    for key, person in DEMO_PEOPLE.items():
        openid = "et-demo-" + key
        tickets[f"shb-demo-{key}"] = TicketGrant(2, openid, person.phone, person.name, person.id_number)
        tickets[f"shb-demo-{key}-l3"] = TicketGrant(3, openid, person.phone, person.name, person.id_number)
    return tickets


class CityUserCenter:
    def __init__(self, *, with_demo_tickets: bool = True) -> None:
        self.tickets: dict[str, TicketGrant] = demo_tickets() if with_demo_tickets else {}
        # Observations and faults for tests.
        self.verify_calls = 0
        self.delay_s = 0.0
        self.available = True

    def register(self, ticket: str, grant: TicketGrant) -> None:
        self.tickets[ticket] = grant

    def routes(self) -> list[BaseRoute]:
        return [Route("/api/ticket/verify", self._verify, methods=["POST"])]

    async def _verify(self, request: Request) -> Response:
        self.verify_calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if not self.available:
            return JSONResponse({"resultCode": "9999", "resultMsg": "系统维护中"}, status_code=503)
        try:
            body = await request.json()
        except ValueError:
            body = None
        ticket = body.get("ticket") if isinstance(body, dict) else None
        if ticket == DEMO_EXPIRED_TICKET:
            return JSONResponse({"resultCode": "1002", "resultMsg": "票据已过期，请重新登录"})
        grant = self.tickets.get(ticket) if isinstance(ticket, str) else None
        if grant is None:
            return JSONResponse({"resultCode": "1001", "resultMsg": "票据无效"})
        return JSONResponse({"resultCode": "0000", "resultMsg": "成功", "data": grant.data()})


def sample_case() -> str:
    """A demo case of 张伟's, for the printed sample lines."""
    return DEMO_CASES["zhangwei_yue0106_trial"]


def demo_kit(stand_in_url: str) -> DemoKit:
    app_secret = secrets.token_urlsafe(32)
    center = CityUserCenter()
    channel = {"app_id": DEMO_APP_ID, "app_secret_env": "SHB_APP_SECRET", "usercenter_base": stand_in_url}
    client = (f"python -m adapters.suihaoban.client --app {DEMO_APP_ID} --secret {app_secret} "
              "--gateway http://127.0.0.1:8080")
    notes = [
        "穗好办 (channel suihaoban, one signed endpoint /invoke; the client below signs the envelope):",
        (f"  user tickets: shb-demo-zhangwei (L2), shb-demo-zhangwei-l3 (L3), {DEMO_L1_TICKET} (L1), "
         f"{DEMO_EXPIRED_TICKET} (refused)"),
        f"  {client} courts.list",
        (f"  {client} --ticket shb-demo-zhangwei cases.progress "
         f"'{{\"case_no\": \"{sample_case()}\"}}'"),
        "  (--gateway: the gateway's URL if not on port 8080)",
    ]
    return DemoKit(channels={"suihaoban": channel}, env={"SHB_APP_SECRET": app_secret},
                   stand_in_routes=center.routes(), notes=notes)
