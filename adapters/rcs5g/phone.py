"""The platform's side of a conversation, for the demo's stand-in, the console's "5G phone", the test driver
and tests: callbacks signed as the carrier signs them, and the chatbot's replies read back from the MaaP
stand-in (which records every outbound message the gateway sent)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.rcs5g import protocol

REPLY_TIMEOUT_S = 15.0


async def signed_post(client: httpx.AsyncClient, url: str, token: bytes, document: dict[str, Any],
                      *, timestamp_ms: int | None = None, nonce: str | None = None) -> httpx.Response:
    """POST a callback as the platform does: the exact bytes sent are the bytes signed."""
    body = json.dumps(document, ensure_ascii=False).encode()
    stamp = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    headers = protocol.signed_headers(token, stamp, nonce or secrets.token_hex(8), body)
    return await client.post(url, content=body, headers={**headers, "Content-Type": "application/json"})


def inbound_document(message_id: str, number: str, chatbot_id: str, content_type: str,
                     body_text: str) -> dict[str, Any]:
    return {"inboundMessage": {"messageId": message_id, "senderAddress": protocol.tel_uri(number),
                               "destinationAddress": chatbot_id, "dateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                           time.gmtime()),
                               "contentType": content_type, "bodyText": body_text}}


@dataclass(frozen=True)
class Shown:
    """One message of the chatbot as the phone shows it."""

    message: dict[str, Any]  # the outboundIMMessage

    @property
    def title(self) -> str | None:
        if self.message.get("contentType") != protocol.BOT_MESSAGE:
            return None
        return str(self._card().get("title", ""))

    @property
    def text(self) -> str:
        if self.message.get("contentType") != protocol.BOT_MESSAGE:
            return str(self.message.get("bodyText", ""))
        return str(self._card().get("description", ""))

    def _card(self) -> dict[str, Any]:
        card = json.loads(self.message["bodyText"])["message"]["generalPurposeCard"]["content"]
        assert isinstance(card, dict)
        return card

    @property
    def chips(self) -> dict[str, str]:
        """display text -> postback data of the reply chips."""
        return {s["reply"]["displayText"]: s["reply"]["postback"]["data"]
                for s in self.message.get("suggestions", []) if "reply" in s}

    @property
    def dial(self) -> str | None:
        numbers = [s["action"]["dialerAction"]["dialPhoneNumber"]["phoneNumber"]
                   for s in self.message.get("suggestions", []) if "action" in s]
        return numbers[0] if numbers else None


@dataclass
class Phone:
    """A 5G phone talking to the chatbot through the platform: every message a signed callback."""

    client: httpx.AsyncClient
    gateway_url: str
    channel: str
    token: bytes
    maap_url: str  # the MaaP stand-in of this carrier (its recorded outbound messages)
    number: str  # 13800138000 (the platform writes tel:+86...)
    chatbot_id: str
    last: httpx.Response | None = None
    sent: list[str] = field(default_factory=list)  # message ids, oldest first

    @property
    def messages_url(self) -> str:
        return f"{self.gateway_url}/channels/{self.channel}/notify/messages"

    async def post(self, content_type: str, body_text: str, message_id: str | None = None) -> str:
        message_id = message_id or "in-" + secrets.token_hex(8)
        document = inbound_document(message_id, self.number, self.chatbot_id, content_type, body_text)
        self.last = await signed_post(self.client, self.messages_url, self.token, document)
        self.sent.append(message_id)
        return message_id

    async def say(self, text: str, message_id: str | None = None) -> Shown:
        return await self.shown(await self.post(protocol.TEXT, text, message_id))

    async def tap(self, data: str, display: str = "", message_id: str | None = None) -> Shown:
        body = json.dumps({"response": {"reply": {"displayText": display, "postback": {"data": data}}}},
                          ensure_ascii=False)
        return await self.shown(await self.post(protocol.CHIP_RESPONSE, body, message_id))

    async def send_files(self, files: list[dict[str, Any]], message_id: str | None = None) -> Shown:
        """``files``: [{"url", "contentType", "fileSize", "fileName"}]"""
        body = json.dumps({"fileInfo": files}, ensure_ascii=False)
        return await self.shown(await self.post(protocol.FILE_TRANSFER, body, message_id))

    async def shown(self, message_id: str, timeout_s: float = REPLY_TIMEOUT_S) -> Shown:
        """The chatbot's reply to ``message_id`` (its clientCorrelator), once the platform has it."""
        replies = await replies_to(self.client, self.maap_url, message_id, timeout_s)
        return Shown(replies[-1])


async def replies_to(client: httpx.AsyncClient, maap_url: str, correlator: str,
                     timeout_s: float = REPLY_TIMEOUT_S) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        answer = await client.get(f"{maap_url}/_stand_in/messages", params={"correlator": correlator})
        found: list[dict[str, Any]] = answer.json()["messages"]
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"no reply to {correlator} within {timeout_s} s")
        await asyncio.sleep(0.02)
