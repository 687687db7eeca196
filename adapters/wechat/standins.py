"""Stand-ins for WeChat's API and the real-name provider: small, working fakes for ``demo`` and tests.

``FakeWeChat`` answers ``/sns/jscode2session``, ``/cgi-bin/token`` and
``/cgi-bin/message/subscribe/send`` as WeChat does (the same errcodes), keeps
the messages it accepted, and shows them at ``GET /_stand_in/messages``.
``FakeRealname`` answers ``/v1/results`` for verify tokens it knows.

Login codes: ``demo-code-<anything>`` is a user whose openid is stable for
that text (``demo-code-zhangwei`` is always the same WeChat user), and a few
codes make WeChat refuse:

    demo-code-invalid      40029 invalid code
    demo-code-risky        40226 high-risk user
    demo-code-ratelimited  45011 minute quota reached
    demo-code-busy         -1    system busy

Verify tokens: ``demo-verify-<person>`` passes for a demo person of the
reference court's seed with face similarity 93.1 (L3), ``...-lowface`` with
60 (L2 only), ``demo-verify-fail`` fails, ``demo-verify-badid`` passes with an
ID number that fails GB 11643.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from adapters.wechat.protocol import FIELD_LIMITS, TEMPLATE_KEY
from demo_data import DEMO_PEOPLE

WECHAT_PREFIX = "/wx"
REALNAME_PREFIX = "/realname"
DEMO_APP_ID = "wx0000000000000001"
LOGIN_REFUSALS: dict[str, tuple[int, str]] = {
    "demo-code-invalid": (40029, "invalid code"),
    "demo-code-risky": (40226, "high risk user, login blocked"),
    "demo-code-ratelimited": (45011, "api minute-quota reach limit"),
    "demo-code-busy": (-1, "system error"),
}
_DEMO_CODE = re.compile(r"^demo-code-([a-z0-9][a-z0-9_-]{0,47})$")
_PHRASE = re.compile(r"^[\u4e00-\u9fa5]{1,5}$")
_TIME = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日( \d{2}:\d{2}(:\d{2})?)?$")
_AMOUNT = re.compile(r"^\d{1,10}(\.\d{1,2})?元$")


def _json(value: Any, status: int = 200) -> Response:
    # WeChat answers JSON with a text/plain content type; clients must not rely on the header.
    return Response(orjson.dumps(value), status_code=status, media_type="text/plain")


def _error(errcode: int, errmsg: str) -> Response:
    return _json({"errcode": errcode, "errmsg": errmsg})


@dataclass
class FakeWeChat:
    """WeChat's API for one mini program (app id and secret)."""

    app_id: str
    app_secret: str
    token_ttl_s: int = 7200
    messages: list[dict[str, Any]] = field(default_factory=list)
    token_fetches: int = 0
    logins: int = 0
    #: openids that have not accepted (or have used up) a subscription: subscribe/send answers 43101
    refusing: set[str] = field(default_factory=set)
    #: every access token handed out, valid or not (tests check that none of them is ever logged)
    issued_tokens: list[str] = field(default_factory=list)
    _tokens: dict[str, float] = field(default_factory=dict)
    _openids: set[str] = field(default_factory=set)

    def openid_for(self, code: str) -> str:
        """The openid a demo code logs in as: stable per app and text, 28 characters like WeChat's."""
        digest = hashlib.sha256(f"{self.app_id}\n{code}".encode()).digest()
        return "o" + base64.urlsafe_b64encode(digest).decode()[:27]

    def revoke_tokens(self) -> None:
        """Every access token issued so far becomes invalid (as after a secret reset)."""
        self._tokens.clear()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/sns/jscode2session", self._code2session, methods=["GET"]),
            Route("/cgi-bin/token", self._token, methods=["GET"]),
            Route("/cgi-bin/message/subscribe/send", self._send, methods=["POST"]),
            Route("/_stand_in/messages", self._messages, methods=["GET"]),
        ]

    def _credentials_error(self, request: Request) -> Response | None:
        if request.query_params.get("appid") != self.app_id:
            return _error(40013, "invalid appid")
        if not secrets.compare_digest(request.query_params.get("secret", ""), self.app_secret):
            return _error(40125, "invalid appsecret")
        return None

    async def _code2session(self, request: Request) -> Response:
        refused = self._credentials_error(request)
        if refused is not None:
            return refused
        code = request.query_params.get("js_code", "")
        if request.query_params.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        if code in LOGIN_REFUSALS:
            return _error(*LOGIN_REFUSALS[code])
        if not _DEMO_CODE.match(code):
            return _error(40029, "invalid code")
        self.logins += 1
        openid = self.openid_for(code)
        self._openids.add(openid)
        return _json({"openid": openid, "session_key": base64.b64encode(secrets.token_bytes(16)).decode()})

    async def _token(self, request: Request) -> Response:
        refused = self._credentials_error(request)
        if refused is not None:
            return refused
        if request.query_params.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        self.token_fetches += 1
        token = secrets.token_urlsafe(48)
        self._tokens[token] = time.time() + self.token_ttl_s
        self.issued_tokens.append(token)
        return _json({"access_token": token, "expires_in": self.token_ttl_s})

    async def _send(self, request: Request) -> Response:
        token = request.query_params.get("access_token", "")
        expires_at = self._tokens.get(token)
        if expires_at is None:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if expires_at <= time.time():
            return _error(42001, "access_token expired")
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(47001, "data format error")
        problem = self._check_message(body)
        if problem is not None:
            return _error(*problem)
        if body["touser"] in self.refusing:
            return _error(43101, "user refuse to accept the msg")
        self.messages.append(body)
        return _json({"errcode": 0, "errmsg": "ok", "msgid": len(self.messages)})

    def _check_message(self, body: Any) -> tuple[int, str] | None:
        if not isinstance(body, dict):
            return 47001, "data format error"
        if body.get("touser") not in self._openids:
            return 40003, "invalid openid"
        if not isinstance(body.get("template_id"), str) or not body["template_id"]:
            return 40037, "invalid template id"
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            return 47003, "argument invalid! data is empty"
        for key, item in data.items():
            if not _field_ok(key, item):
                return 47003, f"argument invalid! data.{key}.value invalid"
        return None

    async def _messages(self, request: Request) -> Response:
        return _json({"messages": self.messages, "token_fetches": self.token_fetches})


def _field_ok(key: str, item: Any) -> bool:
    """WeChat's limits per field type (订阅消息 参数值内容限制)."""
    match = TEMPLATE_KEY.match(key)
    if not match or not isinstance(item, dict) or not isinstance(item.get("value"), str) or not item["value"]:
        return False
    kind, value = match.group(1), item["value"]
    if kind == "phrase":
        return bool(_PHRASE.match(value))
    if kind in ("time", "date"):
        return bool(_TIME.match(value))
    if kind == "amount":
        return bool(_AMOUNT.match(value))
    if kind in ("character_string", "letter", "number", "symbol") and not value.isascii():
        return False
    return len(value) <= FIELD_LIMITS[kind]


@dataclass(frozen=True)
class VerifiedPerson:
    name: str
    id_number: str
    similarity: float
    result: str = "0"


@dataclass
class FakeRealname:
    """The real-name provider: verify tokens the mini program obtained, redeemed once per call."""

    records: dict[str, VerifiedPerson] = field(default_factory=dict)
    lookups: int = 0

    @classmethod
    def with_demo_people(cls) -> FakeRealname:
        fake = cls()
        for key, person in DEMO_PEOPLE.items():
            fake.enroll(f"demo-verify-{key}", person.name, person.id_number, 93.1)
            fake.enroll(f"demo-verify-{key}-lowface", person.name, person.id_number, 60.0)
        fake.records["demo-verify-fail"] = VerifiedPerson("", "", 0.0, result="1")
        # Passes the provider but not GB 11643 (wrong check character): the gateway must refuse it.
        fake.enroll("demo-verify-badid", "测试用户", "440106199001011234", 93.1)
        return fake

    def enroll(self, token: str, name: str, id_number: str, similarity: float = 93.1) -> str:
        self.records[token] = VerifiedPerson(name, id_number, similarity)
        return token

    def routes(self) -> list[BaseRoute]:
        return [Route("/v1/results", self._results, methods=["POST"])]

    async def _results(self, request: Request) -> Response:
        self.lookups += 1
        try:
            token = orjson.loads(await request.body()).get("token")
        except (orjson.JSONDecodeError, AttributeError):
            return Response(orjson.dumps({"result": "9", "message": "bad request"}), status_code=400,
                            media_type="application/json")
        record = self.records.get(token) if isinstance(token, str) else None
        if record is None:
            answer: dict[str, Any] = {"result": "2", "message": "verify token not found or expired"}
        elif record.result != "0":
            answer = {"result": record.result, "message": "face does not match the ID record"}
        else:
            answer = {"result": "0", "name": record.name, "id_number": record.id_number,
                      "similarity": record.similarity}
        return Response(orjson.dumps(answer), media_type="application/json")


def stand_in_routes(wechat: FakeWeChat, realname: FakeRealname) -> list[BaseRoute]:
    """Both fakes, as served at a stand-in URL (see :func:`channel_entry`)."""
    return [Mount(WECHAT_PREFIX, routes=wechat.routes()), Mount(REALNAME_PREFIX, routes=realname.routes())]


def channel_entry(stand_in_url: str, *, app_id: str = DEMO_APP_ID, secret_env: str = "WECHAT_APP_SECRET",
                  **extra: Any) -> dict[str, Any]:
    """A wechat channel's YAML mapping pointing at the stand-ins served at ``stand_in_url``."""
    return {"adapter": "wechat", "app_id": app_id, "app_secret_env": secret_env,
            "api_base": stand_in_url + WECHAT_PREFIX, "realname_base": stand_in_url + REALNAME_PREFIX, **extra}
