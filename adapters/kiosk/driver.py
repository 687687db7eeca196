"""The kiosk channels' drivers: E法亭 (``efating``) and 粤智助 (``yuezhizhu``).

A driver is one terminal of its channel: it owns a device id and a fresh key,
signs every request as a kiosk does (``X-Device-*``), opens a session from an
ID-card read and a face check (:func:`adapters.kiosk.standins.card_read`) and
calls operations at ``/sessions/{session_id}/ops/{operation_id}``. Kiosk
sessions are always L3 (chip + face), whatever assurance a test asks for.

``uploads.create`` takes its file in ``args["file"]`` as httpx does
(``(file_name, content, content_type)``); the other arguments (``court``) go
as form fields, as a kiosk's scanner sends them.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx

from adapters.kiosk.protocol import IDEMPOTENCY_FIELD
from adapters.kiosk.sign_request import signed_headers
from adapters.kiosk.standins import card_read
from gateway import ErrorCode, GatewayError
from workbench.drivers import ChannelAnswer, ChannelDriver, Person, Session


class KioskDriver(ChannelDriver):
    adapter = "kiosk"
    profile = "efating"

    def __init__(self, channel: str | None = None, device_id: str = "EFT-TEST-001",
                 location: str = "测试诉讼服务中心", **settings: Any) -> None:
        self.channel = channel or self.profile
        self.device_id = device_id
        self.location = location
        self.key = secrets.token_urlsafe(24)
        self.key_env = "KIOSK_" + "".join(ch if ch.isalnum() else "_" for ch in device_id.upper()) + "_KEY"
        # Every test terminal reads the same few demo cards many times a minute: the attempt limits
        # have their own tests (tests/security/test_api4_attempt_limits.py).
        self.settings = {"face_checks_per_device": "10000/minute", "face_checks_per_card": "10000/minute",
                         **settings}

    def channel_config(self, stand_in_url: str) -> dict[str, Any]:
        return {"adapter": "kiosk", "profile": self.profile, **self.settings,
                "devices": {self.device_id: {"key_env": self.key_env, "location": self.location}}}

    def env(self) -> dict[str, str]:
        return {self.key_env: self.key}

    def error_http_status(self, code: str) -> int | None:
        return GatewayError(ErrorCode(code)).status  # kiosks answer with the code's own HTTP status

    def base(self, gateway_url: str) -> str:
        return f"{gateway_url}/channels/{self.channel}"

    # --- signed requests -------------------------------------------------------------------------

    async def signed(self, client: httpx.AsyncClient, method: str, url: str, body: bytes = b"", *,
                     device_id: str | None = None, key: str | None = None,
                     headers: dict[str, str] | None = None) -> httpx.Response:
        """One request signed as this terminal (or as another ``device_id``/``key``, for refusals)."""
        signed = signed_headers(device_id or self.device_id, (key or self.key).encode(), method, url, body)
        signed.update(headers or {})
        return await client.request(method, url, content=body, headers=signed)

    async def open_session(self, client: httpx.AsyncClient, gateway_url: str, read: dict[str, Any]) -> httpx.Response:
        return await self.signed(client, "POST", f"{self.base(gateway_url)}/sessions", _json(read))

    async def end_session(self, client: httpx.AsyncClient, gateway_url: str, session_id: str) -> httpx.Response:
        return await self.signed(client, "DELETE", f"{self.base(gateway_url)}/sessions/{session_id}")

    # --- the driver interface ----------------------------------------------------------------------

    async def sign_in(self, client: httpx.AsyncClient, gateway_url: str, person: Person,
                      assurance: str = "L2") -> Session:
        if person.id_type != "ID_CARD":
            raise ValueError("kiosks identify people by their resident ID card")
        answer = self.answer_of(await self.open_session(client, gateway_url,
                                                        card_read(person.name, person.id_number, phone=person.phone)))
        if not answer.ok:
            raise AssertionError(f"kiosk session refused: HTTP {answer.http_status} {answer.body}")
        return Session(person, str(answer.data["assurance"]), {"session_id": str(answer.data["session_id"])})

    async def call(self, client: httpx.AsyncClient, gateway_url: str, session: Session | None, operation: str,
                   args: dict[str, Any], idempotency_key: str | None = None) -> ChannelAnswer:
        base = self.base(gateway_url)
        prefix = f"{base}/sessions/{session.values['session_id']}" if session is not None else base
        if operation == "uploads.create":
            return await self._upload(client, prefix, args, idempotency_key)
        body = dict(args)
        if idempotency_key is not None:
            body[IDEMPOTENCY_FIELD] = idempotency_key
        response = await self.signed(client, "POST", f"{prefix}/ops/{operation}", _json(body))
        return self.answer_of(response)

    async def _upload(self, client: httpx.AsyncClient, prefix: str, args: dict[str, Any],
                      idempotency_key: str | None) -> ChannelAnswer:
        fields = {k: str(v) for k, v in args.items() if k != "file"}
        if idempotency_key is not None:
            fields[IDEMPOTENCY_FIELD] = idempotency_key
        # The multipart body is built first so the signature covers the exact bytes sent.
        request = client.build_request("POST", f"{prefix}/upload", files={"file": args["file"]}, data=fields)
        body = request.read()
        headers = signed_headers(self.device_id, self.key.encode(), "POST", str(request.url), body)
        headers["Content-Type"] = request.headers["Content-Type"]
        response = await client.post(str(request.url), content=body, headers=headers)
        return self.answer_of(response)

    def answer_of(self, response: httpx.Response) -> ChannelAnswer:
        body = response.json()
        if self.profile == "efating":
            ok = body.get("ok") is True
            return ChannelAnswer(response.status_code, body, response.headers, ok,
                                 None if ok else str(body.get("code")), body.get("data") if ok else None)
        ok = body.get("status") == "SUCCESS"
        return ChannelAnswer(response.status_code, body, response.headers, ok,
                             None if ok else str(body.get("errorCode")), body.get("result") if ok else None)


class EfatingDriver(KioskDriver):
    """E法亭: court self-service terminals."""

    profile = "efating"

    def __init__(self, channel: str = "efating", device_id: str = "EFT-TH-001",
                 location: str = "天河法院诉讼服务中心", **settings: Any) -> None:
        super().__init__(channel, device_id, location, **settings)


class YuezhizhuDriver(KioskDriver):
    """粤智助: government self-service machines."""

    profile = "yuezhizhu"

    def __init__(self, channel: str = "yuezhizhu", device_id: str = "YZZ-PY-0413",
                 location: str = "番禺区石楼镇政务服务站", **settings: Any) -> None:
        super().__init__(channel, device_id, location, **settings)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def drivers() -> list[ChannelDriver]:
    """Entry point ``court_gateway.adapter_drivers``: one driver per channel profile of this adapter."""
    return [EfatingDriver(), YuezhizhuDriver()]
