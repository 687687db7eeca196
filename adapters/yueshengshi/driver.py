"""Driver for the 粤省事 channel: signs like the provincial platform, signs in through its IdP stand-in.

``call(..., "uploads.create", {"court": ..., "file": (file_name, content, content_type)}, key)``
sends the file as multipart/form-data (fields ``court`` and ``reqSeq``), signed
over the exact multipart bytes; every other operation sends its arguments as
one JSON object with ``reqSeq`` for writes.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
import orjson
from starlette.routing import BaseRoute

from adapters.yueshengshi import protocol
from adapters.yueshengshi.standins import Grant, ProvincialIdp
from workbench.drivers import ChannelAnswer, ChannelDriver, Person, Session


class YueshengshiDriver(ChannelDriver):
    channel = "yueshengshi"
    adapter = "yueshengshi"

    def __init__(self, channel: str = "yueshengshi", algorithm: protocol.SignAlgorithm = "hmac-sm3",
                 idp: ProvincialIdp | None = None, settings: dict[str, Any] | None = None) -> None:
        self.channel = channel
        self.settings = dict(settings or {})  # further channel keys (idp_timeout_s, services ...)
        self.algorithm: protocol.SignAlgorithm = algorithm
        self.app_id = "yss-test-app"
        self.secret = secrets.token_urlsafe(32)
        self.idp = idp or ProvincialIdp(client_id="gz-court-test", client_secret=secrets.token_urlsafe(24))
        self.secret_env = f"YSS_{channel.upper().replace('-', '_')}_APP_SECRET"
        self.client_secret_env = f"YSS_{channel.upper().replace('-', '_')}_CLIENT_SECRET"

    def channel_config(self, stand_in_url: str) -> dict[str, Any]:
        return {"adapter": self.adapter, "app_id": self.app_id, "app_secret_env": self.secret_env,
                "sign_algorithm": self.algorithm, "idp_base": stand_in_url, "client_id": self.idp.client_id,
                "client_secret_env": self.client_secret_env, **self.settings}

    def env(self) -> dict[str, str]:
        return {self.secret_env: self.secret, self.client_secret_env: self.idp.client_secret}

    def error_http_status(self, code: str) -> int | None:
        """401 for a bad signature or a replay, 200 for every other error (CONTRACTS.md section 4)."""
        return 401 if code in ("SIGNATURE_INVALID", "REPLAYED_REQUEST") else 200

    def stand_in_routes(self) -> list[BaseRoute]:
        return self.idp.routes()

    # --- signing --------------------------------------------------------------------------------

    def sign(self, request: httpx.Request, *, nonce: str | None = None, timestamp_ms: int | None = None,
             secret: str | None = None, app_id: str | None = None) -> httpx.Request:
        """Add the four signing headers to a built request (its body already final)."""
        headers = protocol.signing_headers(
            self.algorithm, (secret or self.secret).encode(), app_id or self.app_id, request.method,
            request.url.raw_path, request.read(),
            timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
            nonce or secrets.token_hex(protocol.NONCE_LENGTH // 2),
        )
        request.headers.update(headers)
        return request

    def request(self, client: httpx.AsyncClient, gateway_url: str, route: str, body: dict[str, Any] | None = None,
                user_token: str | None = None) -> httpx.Request:
        headers = {"Content-Type": "application/json"}
        if user_token:
            headers[protocol.HEADER_USER_TOKEN] = user_token
        content = orjson.dumps(body if body is not None else {})
        return client.build_request("POST", f"{gateway_url}/channels/{self.channel}/{route}", content=content,
                                    headers=headers)

    async def send(self, client: httpx.AsyncClient, request: httpx.Request) -> ChannelAnswer:
        return answer_of(await client.send(request))

    # --- the driver interface -------------------------------------------------------------------

    async def sign_in(self, client: httpx.AsyncClient, gateway_url: str, person: Person,
                      assurance: str = "L2") -> Session:
        code = "yss-test-" + secrets.token_hex(8)
        account = "yss-acct-" + person.id_number[-8:]
        if assurance == "L1":
            grant = Grant("L1", account, phone=person.phone)
        else:
            grant = Grant(assurance, account, person.phone, person.name, person.id_number)
        self.idp.register(code, grant)
        answer = await self.send(client, self.sign(self.request(client, gateway_url, "login", {"code": code})))
        if not answer.ok:
            raise AssertionError(f"yueshengshi login failed: {answer.http_status} {answer.body}")
        return Session(person, answer.data["assurance"], {"user_token": answer.data["user_token"]})

    async def call(self, client: httpx.AsyncClient, gateway_url: str, session: Session | None, operation: str,
                   args: dict[str, Any], idempotency_key: str | None = None) -> ChannelAnswer:
        token = session.values["user_token"] if session else None
        if operation == "uploads.create":
            request = self._upload_request(client, gateway_url, token, args, idempotency_key)
        else:
            body = dict(args)
            if idempotency_key is not None:
                body[protocol.IDEMPOTENCY_FIELD] = idempotency_key
            request = self.request(client, gateway_url, f"gateway/{operation}", body, token)
        return await self.send(client, self.sign(request))

    def _upload_request(self, client: httpx.AsyncClient, gateway_url: str, token: str | None, args: dict[str, Any],
                        idempotency_key: str | None) -> httpx.Request:
        fields = {k: str(v) for k, v in args.items() if k != "file"}
        if idempotency_key is not None:
            fields[protocol.IDEMPOTENCY_FIELD] = idempotency_key
        headers = {protocol.HEADER_USER_TOKEN: token} if token else {}
        return client.build_request("POST", f"{gateway_url}/channels/{self.channel}/gateway/uploads.create",
                                    data=fields, files={"file": args["file"]}, headers=headers)


def answer_of(response: httpx.Response) -> ChannelAnswer:
    body = response.json()
    ok = response.status_code == 200 and body.get("code") == 0
    code = None if ok else protocol.canonical_code(body.get("code"))
    return ChannelAnswer(response.status_code, body, response.headers, ok,
                         code.value if code is not None else (None if ok else "UNKNOWN"),
                         body.get("data") if ok else None)


def drivers() -> list[ChannelDriver]:
    """Entry point ``court_gateway.adapter_drivers``: one driver per channel profile of this adapter."""
    return [YueshengshiDriver()]
