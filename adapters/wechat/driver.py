"""The wechat channel's driver: sign in through WeChat login + real-name, call operations through /api.

The driver owns its platform stand-ins (a fake WeChat API and a fake real-name
provider, the same ones ``court-gateway demo`` serves): a test serves
:meth:`WechatDriver.stand_in_routes` at some URL and passes that URL to
:meth:`WechatDriver.channel_config`.

``uploads.create`` takes its file in ``args["file"]`` as httpx does
(``(file_name, content, content_type)``); the other arguments (``court``) go
as form fields.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import httpx
from starlette.routing import BaseRoute

from adapters.wechat.demo import demo_templates
from adapters.wechat.protocol import IDEMPOTENCY_FIELD, canonical_code
from adapters.wechat.standins import DEMO_APP_ID, FakeRealname, FakeWeChat, channel_entry, stand_in_routes
from workbench.drivers import ChannelAnswer, ChannelDriver, Person, Session

SECRET_ENV = "WECHAT_APP_SECRET"
#: face similarity the fake provider reports for each wanted assurance (threshold 80)
SIMILARITY = {"L2": 60.0, "L3": 93.1}


def login_code_for(person: Person) -> str:
    """A stable WeChat user per person: the same person always logs in with the same openid."""
    return "demo-code-p" + hashlib.sha256(person.id_number.encode()).hexdigest()[:16]


class WechatDriver(ChannelDriver):
    channel = "wechat"
    adapter = "wechat"

    def __init__(self, channel: str = "wechat", app_id: str = DEMO_APP_ID, **settings: Any) -> None:
        self.channel = channel
        # All test clients sign in from 127.0.0.1: the per-client limit has its own tests
        # (tests/security/test_api4_attempt_limits.py).
        self.settings = {"login_attempts_per_client": "10000/minute", "realname_attempts": "10000/hour",
                         **settings}
        self.secret = secrets.token_urlsafe(24)
        self.wechat = FakeWeChat(app_id, self.secret)
        self.realname = FakeRealname.with_demo_people()

    def channel_config(self, stand_in_url: str) -> dict[str, Any]:
        return channel_entry(stand_in_url, app_id=self.wechat.app_id, secret_env=SECRET_ENV,
                             subscribe_templates=demo_templates(), **self.settings)

    def env(self) -> dict[str, str]:
        return {SECRET_ENV: self.secret}

    def stand_in_routes(self) -> list[BaseRoute]:
        return stand_in_routes(self.wechat, self.realname)

    def error_http_status(self, code: str) -> int | None:
        return 200  # errors travel in errcode, always HTTP 200 (CONTRACTS.md section 4)

    def base(self, gateway_url: str) -> str:
        return f"{gateway_url}/channels/{self.channel}"

    async def sign_in(self, client: httpx.AsyncClient, gateway_url: str, person: Person,
                      assurance: str = "L2") -> Session:
        code = login_code_for(person)
        login = _data(await client.post(f"{self.base(gateway_url)}/login", json={"code": code}))
        token = str(login["session_token"])
        reached = str(login["assurance"])
        if assurance != "L1":
            if person.id_type != "ID_CARD":
                raise ValueError("WeChat real-name verification covers resident ID cards only")
            verify_token = self.realname.enroll("driver-" + secrets.token_hex(8), person.name, person.id_number,
                                                SIMILARITY[assurance])
            verified = _data(await client.post(f"{self.base(gateway_url)}/realname",
                                               json={"verify_token": verify_token}, headers=_bearer(token)))
            token, reached = str(verified["session_token"]), str(verified["assurance"])
        return Session(person, reached, {"token": token, "openid": self.wechat.openid_for(code)})

    async def call(self, client: httpx.AsyncClient, gateway_url: str, session: Session | None, operation: str,
                   args: dict[str, Any], idempotency_key: str | None = None) -> ChannelAnswer:
        headers = _bearer(str(session.values["token"])) if session is not None else {}
        if operation == "uploads.create":
            fields = {k: str(v) for k, v in args.items() if k != "file"}
            if idempotency_key is not None:
                fields[IDEMPOTENCY_FIELD] = idempotency_key
            response = await client.post(f"{self.base(gateway_url)}/upload", headers=headers,
                                          files={"file": args["file"]}, data=fields)
        else:
            body = dict(args)
            if idempotency_key is not None:
                body[IDEMPOTENCY_FIELD] = idempotency_key
            response = await client.post(f"{self.base(gateway_url)}/api/{operation}", headers=headers, json=body)
        return answer_of(response)


def answer_of(response: httpx.Response) -> ChannelAnswer:
    body = response.json()
    errcode = body.get("errcode") if isinstance(body, dict) else None
    ok = errcode == 0
    code = None if ok or not isinstance(errcode, int) else canonical_code(errcode)
    return ChannelAnswer(response.status_code, body, response.headers, ok,
                         code.value if code is not None else (None if ok else "UNKNOWN"),
                         body.get("data") if ok else None)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _data(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if response.status_code != 200 or body.get("errcode") != 0:
        raise AssertionError(f"wechat sign-in step failed: HTTP {response.status_code} {body}")
    data: dict[str, Any] = body["data"]
    return data


def drivers() -> list[ChannelDriver]:
    """Entry point ``court_gateway.adapter_drivers``: one driver per channel profile of this adapter."""
    return [WechatDriver()]
