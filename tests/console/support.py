"""A gateway and reference court on loopback with the demo identity provider as the console's issuer,
and a browser-less sign-in (the same HTTP exchanges a browser makes) for the access tests."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from demo_data import DEMO_PEOPLE
from tests.support.stack import Stack, free_port, running_stack, serving
from workbench.idp_standin import DemoIdentityProvider


@dataclass
class ConsoleStack:
    stack: Stack
    idp: DemoIdentityProvider

    @property
    def url(self) -> str:
        return self.stack.gateway_url


@contextlib.asynccontextmanager
async def console_stack(audit_log: str = "stdout", discovery: bool = True, **options: Any
                        ) -> AsyncIterator[ConsoleStack]:
    """``discovery``: the issuer entry names its discovery document, else its two endpoints."""
    port = free_port()
    idp = DemoIdentityProvider(f"http://127.0.0.1:{port}/idp", [])
    entry = idp.trusted_issuer()
    if not discovery:
        del entry["discovery_url"]
        entry.update(authorization_endpoint=f"{idp.issuer}/authorize", token_endpoint=f"{idp.issuer}/token")
    async with serving(Starlette(routes=[Mount("/idp", routes=idp.routes())]), port):
        extra = {"gateway": {"trusted_issuers": [entry], "console": {"secure_cookies": False},
                             "audit_log": audit_log}}
        async with running_stack(config_extra=extra, **options) as stack:
            idp.redirect_uris.append(stack.gateway_url + "/console/callback")
            yield ConsoleStack(stack, idp)


async def sign_in(client: httpx.AsyncClient, gateway_url: str, person: str) -> httpx.Response:
    """Start at /console/login, pick ``person`` at the identity provider, come back; the callback's answer."""
    start = await client.get(gateway_url + "/console/login")
    authorize = start.headers["location"]
    form = (await client.get(authorize)).text
    fields = {name: html.unescape(value) for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form)}
    fields["person"] = person
    back = await client.post(authorize.split("?")[0], data=fields)
    return await client.get(back.headers["location"])


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


FILING_COURT = "粤0106"


def filing(court: str = FILING_COURT) -> dict[str, Any]:
    zhang, liu = DEMO_PEOPLE["zhangwei"], DEMO_PEOPLE["liuyang"]
    return {"court": court, "case_type": "民初", "cause": "民间借贷纠纷",
            "plaintiffs": [{"kind": "person", "name": zhang.name, "id_type": "ID_CARD", "id_number": zhang.id_number}],
            "defendants": [{"kind": "person", "name": liu.name, "id_type": "ID_CARD", "id_number": liu.id_number}],
            "claims": "偿还借款", "facts": "借款未还", "documents": []}


async def file_one(console: ConsoleStack, court: str = FILING_COURT, key: str = "k-1") -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(console.url + "/api/v1/filings", json=filing(court),
                                 headers={"Authorization": f"Bearer {console.idp.mint('zhangwei')}",
                                          "Idempotency-Key": key})


async def court_fault(console: ConsoleStack, court: str | None, mode: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(console.stack.court_root + "/_ref/faults", json={"court": court, "mode": mode})
        answer.raise_for_status()


async def queued_write(console: ConsoleStack, court: str = FILING_COURT, key: str = "queued-1") -> str:
    """A filing the court could not take (it answered 503), so the gateway queued it; its delivery id."""
    await court_fault(console, court, "unavailable_503")
    queued = await file_one(console, court, key)
    await court_fault(console, court, "ok")
    assert queued.status_code == 202, queued.text
    return str(queued.json()["delivery_id"])


async def dead_letter(console: ConsoleStack, court: str = FILING_COURT, key: str = "dead-1") -> str:
    """A filing the court could not take, set aside as a dead letter the way the deliverer does after
    its last strike (the stack runs no deliverer, so nothing else takes the entry); its delivery id."""
    delivery_id = await queued_write(console, court, key)
    runtime = console.stack.host.runtime
    assert runtime is not None and runtime.gateway.pipeline.outbox is not None
    outbox = runtime.gateway.pipeline.outbox
    entries = await outbox.read_new([court], "test-consumer", 10, 0)
    assert len(entries) == 1
    await outbox.dead_letter(entries[0], "court answered 500", [])
    return delivery_id
