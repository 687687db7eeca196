"""Calls to a court: the canonical request for an operation, signed with an actor token and sent
through the court's guard (circuit breaker, retries per mode, deadline)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from gateway.actor import Actor
from gateway.catalog import Operation, Routing
from gateway.court_client import CourtResponse, CourtUnreachable, upload_form
from gateway.court_http import UploadPart
from gateway.pipeline.routing import CourtDirectory, Target
from gateway.pipeline.unavailable import unreachable
from gateway.resilience.guard import Resilience
from gateway.resilience.retry import CallMode
from gateway.tokens import ActorTokenSigner
from gateway.uploads import SpooledUpload


@dataclass
class CourtCalls:
    courts: CourtDirectory
    signer: ActorTokenSigner
    resilience: Resilience

    async def call(
        self, op: Operation, actor: Actor | None, args: dict[str, Any], target: Target, request_id: str,
        idempotency_key: str | None, attachment: SpooledUpload | None = None, *, mode: CallMode = "read",
    ) -> CourtResponse:
        """The operation's request to the target's court; raises CourtUnreachable."""
        path, params, body = court_request(op, args)
        if attachment is not None:
            # The court's uploads route takes the file as multipart, streamed from the spool file.
            form = upload_form(attachment.file, attachment.filename, attachment.content_type)
            return await self.send(target.court, op.method, path, actor, request_id, mode="once",
                                   params={"court": target.court}, form=form, idempotency_key=idempotency_key)
        return await self.send(target.court, op.method, path, actor, request_id, mode=mode, params=params,
                               body=body, idempotency_key=idempotency_key)

    async def read(self, op: Operation, actor: Actor | None, args: dict[str, Any], target: Target,
                   request_id: str) -> CourtResponse:
        """A read's request; a court that gave no answer is BACKEND_UNAVAILABLE or BACKEND_TIMEOUT."""
        try:
            return await self.call(op, actor, args, target, request_id, None)
        except CourtUnreachable as exc:
            raise unreachable(exc) from None

    async def post(self, court: str, path: str, actor: Actor | None, request_id: str,
                   body: dict[str, Any]) -> CourtResponse:
        """POST a JSON body to a court route outside the catalog (the case query password check of
        CONTRACTS.md section 5), signed like every court call; the answer is returned as it came."""
        # Not retried: a password check counts against the caller at the court, and is asked again
        # by the caller anyway.
        try:
            return await self.send(self.courts.known_court(court), "POST", path, actor, request_id, mode="once",
                                   body=orjson.dumps(body))
        except CourtUnreachable as exc:
            raise unreachable(exc) from None

    async def send(
        self, court: str, method: str, path: str, actor: Actor | None, request_id: str, *, mode: CallMode,
        params: dict[str, str] | None = None, body: bytes | None = None, form: UploadPart | None = None,
        idempotency_key: str | None = None,
    ) -> CourtResponse:
        """Through the court's guard (breaker, retries per ``mode``); raises CourtUnreachable."""
        headers = {
            "Authorization": "Bearer " + self.signer.token_for(actor, court),
            "X-Request-Id": request_id,
            "Accept": "application/json",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return await self.resilience.guard(court).send(method, path, mode=mode, headers=headers, body=body,
                                                       params=params, form=form)


def court_request(op: Operation, args: dict[str, Any]) -> tuple[str, dict[str, str] | None, bytes | None]:
    """The court request for an operation: canonical path, query (reads) or JSON body (writes)."""
    path_values = {name: quote(str(args[name]), safe="") for name in op.path_params}
    path = "/api/v1" + op.path.format(**path_values)
    rest = {k: v for k, v in args.items() if k not in path_values and v is not None}
    if op.routing is Routing.CASE:
        rest.pop("court", None)  # routing information; the court knows who it is
    if op.method == "GET":
        params = {k: _query_value(v) for k, v in rest.items() if not isinstance(v, (dict, list))}
        return path, params or None, None
    return path, None, orjson.dumps(rest)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
