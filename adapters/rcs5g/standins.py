"""A carrier's 5G message platform (MaaP) that really works, for ``court-gateway demo`` and the tests.

Per carrier, served under ``{stand_in_url}/{carrier}``:

    POST /oauth/token                                   {"appId", "appKey"} -> {"accessToken", "expiresIn"}
    POST /messaging/v1/outbound/{chatbot_id}/requests   Bearer; records the message -> 201 {"messageId"}
    GET  /files/{name}                                  files a phone "uploaded" (file messages point here)
    GET  /_stand_in/messages[?correlator=&to=]          what the gateway sent (numbers masked)
    POST /_stand_in/type {"from", "text" | "postback"+"display" | "file"}
                                                        a person typing on a phone: the stand-in signs
                                                        and posts the callback to the gateway
    POST /_stand_in/revoke                              retires every token (the next send gets a 401)

A number listed in ``no_5g`` cannot receive 5G messages: the stand-in answers
201 and then reports ``DeliveryImpossible`` (with that number's description)
to the gateway, as a platform does.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from adapters.rcs5g import protocol
from adapters.rcs5g.phone import Phone, signed_post
from gateway import DemoKit, caller_number, json_bytes, mask_phone

APP_KEY_ENV = "RCS5G_CMCC_APP_KEY"
CALLBACK_TOKEN_ENV = "RCS5G_CMCC_CALLBACK_TOKEN"
DEMO_PDF = b"%PDF-1.7\n% demo evidence sent from a 5G phone\n%%EOF\n"


@dataclass(frozen=True)
class Carrier:
    """One carrier's chatbot: the channel that talks to it and what its YAML entry names."""

    channel: str
    key: str  # the stand-in's path segment
    chatbot_id: str
    app_id: str
    app_key_env: str
    callback_token_env: str


CARRIERS = (
    Carrier("rcs5g", "cmcc", "sip:12368001@botplatform.rcs.chinamobile.com", "gz-court-cmcc",
            APP_KEY_ENV, CALLBACK_TOKEN_ENV),
    Carrier("rcs5g_unicom", "cu", "sip:12368001@botplatform.rcs.chinaunicom.cn", "gz-court-cu",
            "RCS5G_CU_APP_KEY", "RCS5G_CU_CALLBACK_TOKEN"),
)


def _json(value: Any, status: int = 200) -> Response:
    return Response(json_bytes(value), status_code=status, media_type="application/json")


@dataclass
class FakeMaap:
    carrier: Carrier
    app_key: str
    callback_token: bytes
    gateway_url: str = ""  # where callbacks go (set once the gateway's port is known)
    url: str = ""  # where this stand-in is served (file messages point here)
    token_ttl_s: int = 7200
    sent: list[dict[str, Any]] = field(default_factory=list)  # outboundIMMessage, in order
    token_fetches: int = 0
    fail_next: list[int] = field(default_factory=list)  # HTTP statuses for the next outbound requests
    no_5g: dict[str, str] = field(default_factory=dict)  # number -> DeliveryImpossible description
    reported: list[tuple[str, int]] = field(default_factory=list)  # (messageId, the gateway's HTTP status)
    files: dict[str, tuple[bytes, str]] = field(default_factory=lambda: {"evidence.pdf": (DEMO_PDF,
                                                                                          "application/pdf")})
    _tokens: set[str] = field(default_factory=set)
    _reports: set[asyncio.Task[None]] = field(default_factory=set)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/oauth/token", self._token, methods=["POST"]),
            Route("/messaging/v1/outbound/{chatbot}/requests", self._outbound, methods=["POST"]),
            Route("/files/{name}", self._file, methods=["GET"]),
            Route("/_stand_in/messages", self._messages, methods=["GET"]),
            Route("/_stand_in/type", self._type, methods=["POST"]),
            Route("/_stand_in/revoke", self._revoke, methods=["POST"]),
        ]

    # --- the platform's API ----------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        body = await request.json()
        if body != {"appId": self.carrier.app_id, "appKey": self.app_key}:
            return _json({"code": 40101, "message": "bad appId or appKey"}, 401)
        self.token_fetches += 1
        token = secrets.token_urlsafe(24)
        self._tokens.add(token)
        return _json({"accessToken": token, "expiresIn": self.token_ttl_s})

    async def _outbound(self, request: Request) -> Response:
        if self.fail_next:
            return _json({"code": -1, "message": "injected failure"}, self.fail_next.pop(0))
        offered = request.headers.get("authorization", "").removeprefix("Bearer ")
        if offered not in self._tokens:
            return _json({"code": 40102, "message": "access token invalid or expired"}, 401)
        if request.path_params["chatbot"] != self.carrier.chatbot_id:
            return _json({"code": 40401, "message": "unknown chatbot"}, 404)
        message = (await request.json()).get("outboundIMMessage")
        if not isinstance(message, dict) or not message.get("messageId"):
            return _json({"code": 40001, "message": "outboundIMMessage.messageId missing"}, 400)
        self.sent.append(message)
        for address in message.get("destinationAddress", []):
            number = caller_number(address)
            if number in self.no_5g:
                self._report(message["messageId"], address, self.no_5g[number])
        return _json({"messageId": message["messageId"]}, 201)

    def _report(self, message_id: str, address: str, description: str) -> None:
        document = {"deliveryInfo": {"address": address, "messageId": message_id,
                                     "deliveryStatus": protocol.DELIVERY_IMPOSSIBLE, "description": description}}
        task = asyncio.create_task(self._post_report(document))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def _post_report(self, document: dict[str, Any]) -> None:
        await asyncio.sleep(0.05)  # a report follows the send, as on the real platform
        answer = await self.post_callback("/notify/delivery", document)
        self.reported.append((document["deliveryInfo"]["messageId"], answer.status_code))

    async def post_callback(self, path: str, document: dict[str, Any]) -> httpx.Response:
        async with httpx.AsyncClient(timeout=20) as client:
            url = f"{self.gateway_url}/channels/{self.carrier.channel}{path}"
            return await signed_post(client, url, self.callback_token, document)

    async def _file(self, request: Request) -> Response:
        found = self.files.get(request.path_params["name"])
        if found is None:
            return _json({"code": 40401, "message": "no such file"}, 404)
        return Response(found[0], media_type=found[1])

    # --- for people and tests --------------------------------------------------------------------

    def to(self, number: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if protocol.tel_uri(number) in m.get("destinationAddress", [])]

    async def _messages(self, request: Request) -> Response:
        correlator = request.query_params.get("correlator")
        number = caller_number(request.query_params.get("to"))
        found = [m for m in self.sent if correlator in (None, m.get("clientCorrelator"))
                 and (number is None or protocol.tel_uri(number) in m.get("destinationAddress", []))]
        masked = [{**m, "destinationAddress": [mask_phone(caller_number(a) or a) for a in m["destinationAddress"]]}
                  for m in found]
        return _json({"messages": masked})

    async def _type(self, request: Request) -> Response:
        """A person typing on a phone; answers with the gateway's HTTP status and the chatbot's reply."""
        typed: dict[str, Any] = await request.json()
        number = caller_number(str(typed.get("from", "")))
        if number is None:
            return _json({"error": "from must be a phone number"}, 400)
        async with httpx.AsyncClient(timeout=20) as client:
            phone = self.phone(client, number)
            if typed.get("postback"):
                shown = await phone.tap(str(typed["postback"]), str(typed.get("display", "")))
            elif typed.get("file"):
                shown = await phone.send_files([self.file_info(str(typed["file"]))])
            else:
                shown = await phone.say(str(typed.get("text", "菜单")))
        assert phone.last is not None
        return _json({"gateway_status": phone.last.status_code, "reply": shown.message})

    async def _revoke(self, request: Request) -> Response:
        self._tokens.clear()
        return _json({"revoked": True})

    def phone(self, client: httpx.AsyncClient, number: str) -> Phone:
        return Phone(client, self.gateway_url, self.carrier.channel, self.callback_token, self.url, number,
                     self.carrier.chatbot_id)

    def file_info(self, name: str) -> dict[str, Any]:
        content, content_type = self.files.get(name, (b"", "application/octet-stream"))
        return {"url": f"{self.url}/files/{name}", "contentType": content_type, "fileSize": len(content),
                "fileName": name}


def channel_entry(carrier: Carrier, maap_url: str, **extra: Any) -> dict[str, Any]:
    """The channel's YAML mapping for a carrier whose platform is at ``maap_url``."""
    host = urlsplit(maap_url).hostname or "127.0.0.1"
    return {"adapter": "rcs5g", "chatbot_id": carrier.chatbot_id, "maap_base": maap_url, "app_id": carrier.app_id,
            "app_key_env": carrier.app_key_env, "callback_token_env": carrier.callback_token_env,
            "file_hosts": [host], **extra}


@dataclass(frozen=True)
class SampleCase:
    phone: str
    name: str
    case_no: str
    password: str


def sample_case() -> SampleCase:
    """A demo person with a case query password (the demo data, in this one place)."""
    from demo_data import DEMO_PASSWORDS, DEMO_PEOPLE

    password, (_, case_no, person_key) = next(iter(DEMO_PASSWORDS.items()))
    person = DEMO_PEOPLE[person_key]
    return SampleCase(person.phone, person.name, case_no, password)


def demo_kit(stand_in_url: str) -> DemoKit:
    from adapters.rcs5g.simulator import PhonePanel

    port = urlsplit(stand_in_url).port or 8082
    gateway_url = f"http://127.0.0.1:{port - 2}"  # ``demo`` serves the gateway two ports below the stand-ins
    channels: dict[str, dict[str, Any]] = {}
    env: dict[str, str] = {}
    routes: list[BaseRoute] = []
    platforms = []
    for carrier in CARRIERS:
        maap_url = f"{stand_in_url}/{carrier.key}"
        maap = FakeMaap(carrier, secrets.token_urlsafe(16), secrets.token_urlsafe(32).encode(), gateway_url, maap_url)
        channels[carrier.channel] = channel_entry(carrier, maap_url)
        env.update({carrier.app_key_env: maap.app_key, carrier.callback_token_env: maap.callback_token.decode()})
        routes.append(Mount(f"/{carrier.key}", routes=maap.routes()))
        platforms.append((maap, maap_url))
    first, first_url = platforms[0]
    sample = sample_case()
    notes = [
        (f"5G messages (/channels/{first.carrier.channel}, and {CARRIERS[1].channel} for a second carrier): "
        "the MaaP stand-in signs callbacks as the carrier would"),
        (f"  sample person {sample.name} {sample.phone}: case {sample.case_no}, case query password "
         f"{sample.password}"),
        "  type as that phone (the chatbot's reply comes back):",
        (f"    curl -s {first_url}/_stand_in/type -H 'Content-Type: application/json' "
         f"-d '{{\"from\":\"{sample.phone}\",\"text\":\"菜单\"}}'"),
        (f"    curl -s {first_url}/_stand_in/type -H 'Content-Type: application/json' "
         f"-d '{{\"from\":\"{sample.phone}\",\"postback\":\"svc:progress\"}}'"),
        "  what the gateway sent the platform (numbers masked):",
        f"    curl -s {first_url}/_stand_in/messages",
    ]
    panel = PhonePanel(first.carrier.channel, first.callback_token, first_url, first.carrier.chatbot_id, sample)
    return DemoKit(channels=channels, env=env, stand_in_routes=routes, notes=notes, simulator=panel)
