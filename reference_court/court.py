"""One court's HTTP surface: the canonical routes path for path, plus access, password check, health.

Every request goes the same way: verify the actor token, (for writes) look up
the ``Idempotency-Key``, parse the arguments with the court's own models of
the contract (reference_court/contract/), run the handler, store a successful write's answer under its key. The
handler and the store run without an await in between, so a redelivery racing
the first delivery finds the stored answer instead of making a second record.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reference_court import timeutil
from reference_court.auth import TokenVerifier
from reference_court.context import OpContext, Outcome, parse_number
from reference_court.contract import routes
from reference_court.contract import shapes as m
from reference_court.handlers import HANDLERS
from reference_court.handlers.cases import PasswordArgs
from reference_court.handlers.filings import MAX_UPLOAD, UploadInput
from reference_court.journal import note_actor
from reference_court.problems import CourtError, problem_response, validation_failed
from reference_court.store import CourtState, StoredAnswer

MAX_JSON = 2**20  # CONTRACTS.md section 3: JSON bodies at most 1 MiB
API = "/api/v1"


@dataclass(frozen=True)
class Spec:
    """What the dispatcher needs to know about a route."""

    id: str
    method: str
    path: str
    args: type[BaseModel]
    write: bool
    success_status: int = 200

    @classmethod
    def of(cls, route: routes.Route) -> Spec:
        return cls(route.id, route.method, route.path, route.args, route.write, route.success_status)


EXTRA_SPECS = (
    Spec("cases.access", "GET", "/cases/{case_no}/access", m.CaseArgs, write=False),
    Spec("case_query_passwords.verify", "POST", "/case-query-passwords/verify", PasswordArgs, write=False),
)


def specs() -> list[Spec]:
    return [Spec.of(route) for route in routes.ROUTES] + list(EXTRA_SPECS)


def _json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def idempotency_key(request: Request) -> str:
    key = request.headers.get("idempotency-key")
    if key is None or not 1 <= len(key) <= 255 or not all(" " <= c <= "~" for c in key):
        raise validation_failed("Idempotency-Key", "写操作须带 Idempotency-Key 请求头（1–255 个可打印 ASCII 字符）。")
    return key


def validation_error(exc: ValidationError) -> CourtError:
    errors = [{"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]} for e in exc.errors()]
    bad_id = any("INVALID_ID_NUMBER" in e["message"] for e in errors)
    code = "INVALID_ID_NUMBER" if bad_id else "VALIDATION_FAILED"
    detail = "证件号码不正确，请核对后重新输入。" if bad_id else "提交的信息不完整或格式不正确，请检查后重新提交。"
    return CourtError(400, code, detail, errors)


async def read_json(request: Request) -> dict[str, Any]:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON:
            raise CourtError(413, "PAYLOAD_TOO_LARGE", "请求内容超过1MB。")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise validation_failed("(body)", "请求体不是合法的 JSON。") from None
    if not isinstance(data, dict):
        raise validation_failed("(body)", "请求体须为 JSON 对象。")
    return data


async def read_upload(request: Request) -> UploadInput:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_UPLOAD + 64 * 1024:
        raise CourtError(413, "PAYLOAD_TOO_LARGE", "单个文件不超过20MB，请压缩后重试。")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except (HTTPException, MultiPartException):  # Starlette turns a broken multipart body into a 400
        raise validation_failed("file", "请以 multipart/form-data 上传一个名为 file 的文件。") from None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise validation_failed("file", "请以 multipart/form-data 上传一个名为 file 的文件。")
    data = await upload.read(MAX_UPLOAD + 1)
    await form.close()
    court = request.query_params.get("court") or form.get("court")
    try:
        args = m.UploadArgs.model_validate({"court": court if isinstance(court, str) else None})
    except ValidationError as exc:
        raise validation_error(exc) from None
    return UploadInput(args, data, upload.filename)


class CourtService:
    def __init__(self, state: CourtState, verifier: TokenVerifier) -> None:
        self.state = state
        self.verifier = verifier

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [Route(f"{API}/health", self.health, methods=["GET"])]
        for spec in specs():
            routes.append(Route(API + spec.path, self._endpoint(spec), methods=[spec.method], name=spec.id))
        return routes

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "court": self.state.code, "name": self.state.name})

    def _endpoint(self, spec: Spec) -> Any:
        async def endpoint(request: Request) -> Response:
            return await self.handle(request, spec)

        return endpoint

    async def handle(self, request: Request, spec: Spec) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        try:
            response = await self._handle(request, spec, request_id)
        except CourtError as error:
            return problem_response(error, request_id)
        response.headers["X-Request-Id"] = request_id
        return response

    async def _handle(self, request: Request, spec: Spec, request_id: str) -> Response:
        actor = await self.verifier.verify(request.headers.get("authorization"))
        note_actor(request.scope, actor.claims)
        key = idempotency_key(request) if spec.write else None
        stored = self.state.idempotency.get(key) if key else None
        if stored is not None:
            return self._replay(stored)
        args = await self._arguments(request, spec)
        # Nothing below awaits: check again (a twin may have finished while we read), then
        # handle and store in one go.
        stored = self.state.idempotency.get(key) if key else None
        if stored is not None:
            return self._replay(stored)
        result = HANDLERS[spec.id](OpContext(self.state, actor, timeutil.now()), args)
        if isinstance(result, Response):
            return result
        return self._answer(result, spec, key)

    def _answer(self, outcome: Outcome, spec: Spec, key: str | None) -> Response:
        status = outcome.status or spec.success_status
        body = _json(outcome.body)
        if key is not None and 200 <= status < 300:
            self.state.idempotency.put(key, StoredAnswer(status, body, "application/json"))
        return Response(body, status, media_type="application/json")

    @staticmethod
    def _replay(stored: StoredAnswer) -> Response:
        return Response(stored.body, stored.status, media_type=stored.media_type,
                        headers={"Idempotent-Replayed": "true"})

    async def _arguments(self, request: Request, spec: Spec) -> Any:
        path = dict(request.path_params)
        if "case_no" in path:
            path["case_no"] = parse_number(path["case_no"]).text  # INVALID_CASE_NUMBER before anything else
        if spec.id == "uploads.create":
            return await read_upload(request)
        data: dict[str, Any] = dict(request.query_params) if spec.method == "GET" else await read_json(request)
        data.update(path)
        try:
            return spec.args.model_validate(data)
        except ValidationError as exc:
            raise validation_error(exc) from None
