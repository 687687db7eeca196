"""Driver for the 穗好办 channel: signs envelopes like the city app, signs in with user-center tickets.

A "session" is a userTicket the user-center stand-in knows. ``call(...,
"uploads.create", {"court": ..., "file": (file_name, content, content_type)}, key)``
sends the signed fields as multipart/form-data with the file, bizContent
carrying ``court``, ``fileSha256`` and ``outBizNo``; every other operation sends
the JSON envelope with the arguments (and ``outBizNo`` for writes) in bizContent.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import httpx
import orjson
from starlette.routing import BaseRoute

from adapters.suihaoban import protocol
from adapters.suihaoban.standins import CityUserCenter, TicketGrant
from workbench.drivers import ChannelAnswer, ChannelDriver, Person, Session

_LEVELS = {"L1": 1, "L2": 2, "L3": 3}


class SuihaobanDriver(ChannelDriver):
    channel = "suihaoban"
    adapter = "suihaoban"

    def __init__(self, channel: str = "suihaoban", sign_type: str = "HMAC-SHA256",
                 center: CityUserCenter | None = None, settings: dict[str, Any] | None = None) -> None:
        self.channel = channel
        self.settings = dict(settings or {})  # further channel keys (usercenter_timeout_s, services ...)
        self.sign_type = sign_type
        self.app_id = "shb-test-app"
        self.secret = secrets.token_urlsafe(32)
        self.center = center or CityUserCenter()
        self.secret_env = f"SHB_{channel.upper().replace('-', '_')}_APP_SECRET"

    def channel_config(self, stand_in_url: str) -> dict[str, Any]:
        return {"adapter": self.adapter, "app_id": self.app_id, "app_secret_env": self.secret_env,
                "usercenter_base": stand_in_url, **self.settings}

    def env(self) -> dict[str, str]:
        return {self.secret_env: self.secret}

    def error_http_status(self, code: str) -> int | None:
        return 200  # errors travel in resultCode, always HTTP 200 (CONTRACTS.md section 4)

    def stand_in_routes(self) -> list[BaseRoute]:
        return self.center.routes()

    # --- envelopes ------------------------------------------------------------------------------

    def envelope(self, method: str, args: dict[str, Any] | None = None, *, ticket: str | None = None,
                 idempotency_key: str | None = None, nonce: str | None = None, timestamp: int | None = None,
                 secret: str | None = None, app_id: str | None = None) -> dict[str, str]:
        biz = dict(args or {})
        if idempotency_key is not None:
            biz[protocol.IDEMPOTENCY_FIELD] = idempotency_key
        fields = {"appId": app_id or self.app_id, "method": method,
                  "timestamp": str(timestamp if timestamp is not None else int(time.time())),
                  "nonceStr": nonce or secrets.token_hex(16), "bizContent": orjson.dumps(biz).decode()}
        if ticket:
            fields["userTicket"] = ticket
        return protocol.signed_fields(fields, self.sign_type, (secret or self.secret).encode())

    def url(self, gateway_url: str) -> str:
        return f"{gateway_url}/channels/{self.channel}/invoke"

    async def post(self, client: httpx.AsyncClient, gateway_url: str, envelope: dict[str, Any]) -> ChannelAnswer:
        return answer_of(await client.post(self.url(gateway_url), json=envelope))

    # --- the driver interface -------------------------------------------------------------------

    async def sign_in(self, client: httpx.AsyncClient, gateway_url: str, person: Person,
                      assurance: str = "L2", expires_in: int = 1800) -> Session:
        """The city app's login happens at the user center; the gateway first meets the ticket on a call."""
        ticket = "shb-test-" + secrets.token_hex(12)
        openid = "et-" + hashlib.sha256(person.id_number.encode()).hexdigest()[:16]
        if assurance == "L1":
            grant = TicketGrant(1, openid, mobile=person.phone, expires_in=expires_in)
        else:
            grant = TicketGrant(_LEVELS[assurance], openid, person.phone, person.name, person.id_number,
                                expires_in=expires_in)
        self.center.register(ticket, grant)
        return Session(person, assurance, {"ticket": ticket})

    async def call(self, client: httpx.AsyncClient, gateway_url: str, session: Session | None, operation: str,
                   args: dict[str, Any], idempotency_key: str | None = None) -> ChannelAnswer:
        ticket = session.values["ticket"] if session else None
        if operation == "uploads.create":
            return await self._upload(client, gateway_url, ticket, args, idempotency_key)
        return await self.post(client, gateway_url,
                               self.envelope(operation, args, ticket=ticket, idempotency_key=idempotency_key))

    async def _upload(self, client: httpx.AsyncClient, gateway_url: str, ticket: str | None, args: dict[str, Any],
                      idempotency_key: str | None) -> ChannelAnswer:
        file_name, content, content_type = args["file"]
        biz = {k: v for k, v in args.items() if k != "file"}
        biz[protocol.FILE_DIGEST_FIELD] = hashlib.sha256(content).hexdigest()
        fields = self.envelope("uploads.create", biz, ticket=ticket, idempotency_key=idempotency_key)
        response = await client.post(self.url(gateway_url), data=fields,
                                     files={"file": (file_name, content, content_type)})
        return answer_of(response)


def answer_of(response: httpx.Response) -> ChannelAnswer:
    body = response.json()
    ok = response.status_code == 200 and body.get("resultCode") == protocol.SUCCESS_CODE
    code = None if ok else protocol.canonical_code(str(body.get("resultCode")))
    return ChannelAnswer(response.status_code, body, response.headers, ok,
                         code.value if code is not None else (None if ok else "UNKNOWN"),
                         body.get("data") if ok else None)


def drivers() -> list[ChannelDriver]:
    """Entry point ``court_gateway.adapter_drivers``: one driver per channel profile of this adapter."""
    return [SuihaobanDriver()]
