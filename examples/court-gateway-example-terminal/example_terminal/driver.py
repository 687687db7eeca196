"""The example terminal's test driver (entry point ``court_gateway.adapter_drivers``).

A driver is one terminal of the channel: it owns a terminal id and a fresh key, signs every
request as the terminal does, signs a person in at ``/sign-in`` and calls operations at
``/ops/{operation_id}``. ``uploads.create`` takes its file in ``args["file"]`` as httpx does
(``(file_name, content, content_type)``) and sends it as multipart with the other arguments as
fields. ``court-gateway verify-adapter example_terminal`` and the shared suites drive it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

import httpx

from example_terminal import protocol
from example_terminal.standins import channel_entry
from gateway import ErrorCode, GatewayError
from workbench.drivers import ChannelAnswer, ChannelDriver, Person, Session


class TerminalDriver(ChannelDriver):
    adapter = "example_terminal"

    def __init__(self, channel: str = "example_terminal", terminal_id: str = "CT-TEST-01") -> None:
        self.channel = channel
        self.terminal_id = terminal_id
        self.key = secrets.token_urlsafe(24)
        self.key_env = "EXAMPLE_TERMINAL_" + terminal_id.replace("-", "_") + "_KEY"

    def channel_config(self, stand_in_url: str) -> dict[str, Any]:
        return channel_entry(self.terminal_id, self.key_env)

    def env(self) -> dict[str, str]:
        return {self.key_env: self.key}

    def error_http_status(self, code: str) -> int | None:
        return GatewayError(ErrorCode(code)).status  # every error travels with its code's own status

    def signed_headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        path = httpx.URL(url).raw_path.decode("ascii")
        now, nonce = str(int(time.time())), secrets.token_hex(16)
        digest = hashlib.sha256(body).hexdigest()
        return {protocol.TERMINAL_ID: self.terminal_id, protocol.TIME: now, protocol.NONCE: nonce,
                protocol.SIGNATURE: protocol.signature(self.key.encode(), method, path, now, nonce, digest)}

    async def post(self, client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> ChannelAnswer:
        signed = {**headers, **self.signed_headers("POST", url, body)}
        return answer_of(await client.post(url, content=body, headers=signed))

    async def sign_in(self, client: httpx.AsyncClient, gateway_url: str, person: Person,
                      assurance: str = "L2") -> Session:
        """Staff checked the person's ID card; the terminal vouches for it: always L2."""
        identity = {"name": person.name, "id_number": person.id_number, "phone": person.phone}
        answer = await self.post(client, f"{gateway_url}/channels/{self.channel}/sign-in",
                                 _json({k: v for k, v in identity.items() if v}),
                                 {"Content-Type": "application/json"})
        if not answer.ok:
            raise AssertionError(f"terminal sign-in refused: HTTP {answer.http_status} {answer.body}")
        return Session(person, str(answer.data["assurance"]), {"session": str(answer.data["session"])})

    async def call(self, client: httpx.AsyncClient, gateway_url: str, session: Session | None, operation: str,
                   args: dict[str, Any], idempotency_key: str | None = None) -> ChannelAnswer:
        headers = {protocol.SESSION: session.values["session"]} if session is not None else {}
        base = f"{gateway_url}/channels/{self.channel}"
        if operation == "uploads.create":
            fields = {k: str(v) for k, v in args.items() if k != "file"}
            if idempotency_key is not None:
                fields[protocol.IDEMPOTENCY_FIELD] = idempotency_key
            # Built first, so that the signature covers the exact multipart bytes sent.
            request = client.build_request("POST", f"{base}/upload", files={"file": args["file"]}, data=fields)
            body = request.read()
            return await self.post(client, str(request.url), body,
                                   {**headers, "Content-Type": request.headers["Content-Type"]})
        envelope: dict[str, Any] = {"args": args}
        if idempotency_key is not None:
            envelope[protocol.IDEMPOTENCY_FIELD] = idempotency_key
        return await self.post(client, f"{base}/ops/{operation}", _json(envelope),
                               {**headers, "Content-Type": "application/json"})


def answer_of(response: httpx.Response) -> ChannelAnswer:
    body = response.json()
    ok = body.get("ok") is True
    return ChannelAnswer(response.status_code, body, response.headers, ok,
                         None if ok else str(body.get("error", {}).get("code")), body.get("result") if ok else None)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def drivers() -> list[ChannelDriver]:
    """Entry point ``court_gateway.adapter_drivers``: the one channel profile of this adapter."""
    return [TerminalDriver()]
