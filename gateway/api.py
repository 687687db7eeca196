"""The canonical HTTP API under ``/api/v1`` (CONTRACTS.md section 3).

First-party callers authenticate with a bearer JWT from a trusted issuer. Each
catalog row becomes one route; arguments are the path parameters, the query
string and (for POST) the JSON body, merged into one object exactly as a
channel would send them, so the pipeline cannot tell the surfaces apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.actor import Actor
from gateway.calls import BinaryAnswer, Call, ChannelPolicy, Outcome
from gateway.catalog import OPERATIONS, Operation
from gateway.core import Gateway
from gateway.errors import ErrorCode, GatewayError, problem_body
from gateway.http_io import bearer_token, read_json_object, request_id_for, set_outcome_headers
from gateway.issuers import IssuerVerifier
from gateway.json_bodies import json_bytes
from gateway.logs import get_logger
from gateway.uploads import SpooledUpload, read_upload

_log = get_logger("court_gateway.api")
PROBLEM_JSON = "application/problem+json"


def problem_response(error: GatewayError, request_id: str) -> Response:
    response = Response(json_bytes(problem_body(error, request_id)), status_code=error.status,
                        media_type=PROBLEM_JSON)
    response.headers["X-Request-Id"] = request_id
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def json_response(value: Any, status: int = 200) -> Response:
    return Response(json_bytes(value), status_code=status, media_type="application/json")


async def guarded(request: Request, handler: Callable[[Request], Awaitable[Response]]) -> Response:
    """Every failure as problem+json with X-Request-Id; nothing unexpected becomes a traceback."""
    request_id = request_id_for(request)
    try:
        response = await handler(request)
    except GatewayError as exc:
        return problem_response(exc, request_id)
    except Exception:  # noqa: BLE001 - the boundary
        _log.exception("unhandled", request_id=request_id)
        return problem_response(GatewayError(ErrorCode.INTERNAL, "internal error"), request_id)
    response.headers["X-Request-Id"] = request_id
    return response


class CanonicalApi:
    def __init__(self, gateway: Gateway, verifier: IssuerVerifier, policy: ChannelPolicy) -> None:
        self.gateway = gateway
        self.verifier = verifier
        self.policy = policy

    def routes(self) -> list[BaseRoute]:
        """Routes relative to ``/api/v1``."""
        return [self._route(op) for op in OPERATIONS]

    def _route(self, op: Operation) -> Route:
        async def endpoint(request: Request) -> Response:
            return await guarded(request, lambda r: self._handle(op, r))

        return Route(op.path, endpoint, methods=[op.method], name=op.id)

    async def authenticate(self, request: Request, required: bool) -> Actor | None:
        token = bearer_token(request)
        if token is None:
            if required:
                raise GatewayError(ErrorCode.UNAUTHENTICATED, "a bearer token from a trusted issuer is required")
            return None
        return await self.verifier.actor(token)

    async def _handle(self, op: Operation, request: Request) -> Response:
        request_id = request_id_for(request)
        actor = await self.authenticate(request, op.needs_actor)
        args = await self._arguments(op, request)
        if op.id == "uploads.create":
            async with self.gateway.upload_slots.hold(request):
                return await self._run(op, request, request_id, actor, args, await read_upload(request))
        return await self._run(op, request, request_id, actor, args, None)

    async def _run(self, op: Operation, request: Request, request_id: str, actor: Actor | None,
                   args: dict[str, Any], attachment: SpooledUpload | None) -> Response:
        call = Call(operation=op, channel=self.policy, credential=actor, args=args, request_id=request_id,
                    idempotency_key=request.headers.get("idempotency-key"), attachment=attachment)
        try:
            outcome = await self.gateway.execute(call)
        finally:
            if attachment is not None:
                attachment.file.close()
        return render(outcome)

    @staticmethod
    async def _arguments(op: Operation, request: Request) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if op.method == "POST" and op.id != "uploads.create":
            args.update(await read_json_object(request))
        for key, value in request.query_params.multi_items():
            if key in args:
                raise GatewayError(ErrorCode.VALIDATION_FAILED, f"argument {key} given twice")
            args[key] = value
        args.update(request.path_params)  # the path names the object; it wins over the body
        return args


def render(outcome: Outcome) -> Response:
    if isinstance(outcome.result, BinaryAnswer):
        answer = outcome.result
        response = Response(answer.content, media_type=answer.content_type)
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(answer.filename)}"
        return response
    status = 202 if outcome.queued else outcome.status
    return set_outcome_headers(json_response(outcome.result, status), outcome)
