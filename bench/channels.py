"""Per-channel bench drivers: enable the channel with its demo stand-ins, sign in once, and
build one ``cases.progress`` request per call (signed afresh where the channel signs).

The stand-ins (WeChat login and real-name services, the city user center) run in
the bench process, in a background thread: their CPU is not the gateway's.
"""

from __future__ import annotations

import json
import secrets
import time
from abc import ABC, abstractmethod
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from bench.upstream import PROGRESS
from gateway.channels import DemoKit

CASE_NO = str(PROGRESS["case_no"])
Request = tuple[str, str, dict[str, str], bytes | None]


class ChannelBench(ABC):
    name: str
    adapter: str

    def __init__(self) -> None:
        self.kit: DemoKit | None = None

    def config(self, stand_in_url: str) -> tuple[dict[str, Any], dict[str, str], list[BaseRoute]]:
        from gateway.channels import discover_adapters

        self.kit = discover_adapters()[self.adapter].demo_kit(f"{stand_in_url}/{self.name}")
        assert self.kit is not None
        entry = {self.name: {**self.kit.channels[self.name],
                             "rate_limits": {"per_actor": "1000000/second", "per_channel": "1000000/second"}}}
        return entry, self.kit.env, self.kit.stand_in_routes

    @abstractmethod
    async def target(self, gateway_url: str) -> Any:
        """Sign in; return (label, request factory)."""


class WechatBench(ChannelBench):
    name = adapter = "wechat"

    async def target(self, gateway_url: str) -> Any:
        async with httpx.AsyncClient(base_url=gateway_url) as client:
            login = (await client.post("/channels/wechat/login", json={"code": "demo-code-zhangwei"})).json()
            token = login["data"]["session_token"]
            bound = await client.post("/channels/wechat/realname", headers={"Authorization": f"Bearer {token}"},
                                      json={"verify_token": "demo-verify-zhangwei"})
            token = bound.json()["data"]["session_token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = json.dumps({"case_no": CASE_NO}, ensure_ascii=False).encode()
        url = gateway_url + "/channels/wechat/api/cases.progress"

        def make() -> Request:
            return "POST", url, headers, body

        return "wechat cases.progress (session, limits, cache)", make


class EfatingBench(ChannelBench):
    name = "efating"
    adapter = "kiosk"

    async def target(self, gateway_url: str) -> Any:
        from adapters.kiosk import protocol
        from adapters.kiosk.standins import card_read

        assert self.kit is not None
        device = next(iter(self.kit.channels[self.name]["devices"]))
        key = self.kit.env[self.kit.channels[self.name]["devices"][device]["key_env"]].encode()

        def signed(method: str, url: str, body: bytes) -> Request:
            timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
            path = urlsplit(url).path
            signature = protocol.sign(key, method, path, timestamp, nonce, body)
            return method, url, {"X-Device-Id": device, "X-Device-Timestamp": timestamp, "X-Device-Nonce": nonce,
                                 "X-Device-Signature": signature, "Content-Type": "application/json"}, body

        card = json.dumps(card_read("张伟", "440106199001011235"), ensure_ascii=False).encode()
        async with httpx.AsyncClient() as client:
            _, url, headers, body = signed("POST", gateway_url + "/channels/efating/sessions", card)
            opened = await client.post(url, headers=headers, content=body)
            if opened.status_code != 200:
                raise RuntimeError(f"efating session refused: {opened.text[:300]}")
            session_id = opened.json()["data"]["session_id"]
        url = f"{gateway_url}/channels/efating/sessions/{session_id}/ops/cases.progress"
        payload = json.dumps({"case_no": CASE_NO}, ensure_ascii=False).encode()
        return "efating cases.progress (HMAC, nonce, screen)", lambda: signed("POST", url, payload)


class SuihaobanBench(ChannelBench):
    name = adapter = "suihaoban"

    async def target(self, gateway_url: str) -> Any:
        from adapters.suihaoban.client import envelope

        assert self.kit is not None
        settings = self.kit.channels[self.name]
        secret = self.kit.env[settings["app_secret_env"]].encode()
        url = gateway_url + "/channels/suihaoban/invoke"
        biz = json.dumps({"case_no": CASE_NO}, ensure_ascii=False)

        def make() -> Request:
            fields = envelope(settings["app_id"], "cases.progress", biz, secret=secret, ticket="shb-demo-zhangwei")
            return "POST", url, {"Content-Type": "application/json"}, json.dumps(fields, ensure_ascii=False).encode()

        return "suihaoban cases.progress (sorted-field HMAC, nonce, ticket)", make


CHANNEL_BENCHES: list[ChannelBench] = [WechatBench(), EfatingBench(), SuihaobanBench()]


def prepare(stand_in_url: str, env: dict[str, str]) -> tuple[dict[str, Any], Starlette]:
    """Channel config entries (and their env) and the stand-ins app for every channel bench."""
    channels: dict[str, Any] = {}
    routes: list[BaseRoute] = []
    for bench in CHANNEL_BENCHES:
        entry, extra_env, stand_ins = bench.config(stand_in_url)
        channels.update(entry)
        env.update(extra_env)
        routes.append(Mount(f"/{bench.name}", routes=stand_ins))
    return channels, Starlette(routes=routes)


async def targets(gateway_url: str) -> list[tuple[str, Any]]:
    return [await bench.target(gateway_url) for bench in CHANNEL_BENCHES]
