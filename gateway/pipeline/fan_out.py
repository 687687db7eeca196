"""A read asked of every court at once (the person's cases, say): the answers merged, each item
marked with its court, one cursor per court packed into one, and the courts that did not answer
named in ``partial`` instead of failing the whole read."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from gateway.calls import Outcome
from gateway.errors import ErrorCode, FieldError, GatewayError

#: asks one court with these arguments; returns its answer (a dict with ``items``) or raises
ReadOne = Callable[[str, dict[str, Any]], Awaitable[Any]]


async def fan_out(courts: list[str], args: dict[str, Any], read_one: ReadOne) -> Outcome:
    cursors = decode_cursor(args.pop("cursor", None))
    asked = [c for c in courts if not cursors or c in cursors]
    started = time.perf_counter()

    async def one(court: str) -> Any:
        court_args = dict(args, court=None)
        if cursors.get(court):
            court_args["cursor"] = cursors[court]
        return await read_one(court, court_args)

    answers = await asyncio.gather(*(one(c) for c in asked), return_exceptions=True)
    items: list[Any] = []
    partial: list[str] = []
    next_cursors: dict[str, str] = {}
    for court, answer in zip(asked, answers, strict=True):
        if isinstance(answer, BaseException) or not isinstance(answer, dict):
            if isinstance(answer, BaseException) and not isinstance(answer, Exception):
                raise answer
            partial.append(court)
            continue
        items.extend({"court": court, **item} if isinstance(item, dict) else item
                     for item in answer.get("items", []))
        if answer.get("next_cursor"):
            next_cursors[court] = str(answer["next_cursor"])
    result = {"items": items, "next_cursor": encode_cursor(next_cursors), "partial": partial}
    return Outcome(result, 200, upstream_s=time.perf_counter() - started)


def encode_cursor(cursors: dict[str, str]) -> str | None:
    if not cursors:
        return None
    return base64.urlsafe_b64encode(orjson.dumps(cursors)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "malformed cursor", [FieldError("cursor", "malformed")]) from None
    if not isinstance(decoded, dict) or not all(isinstance(v, str) for v in decoded.values()):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "malformed cursor", [FieldError("cursor", "malformed")])
    return {str(k): v for k, v in decoded.items()}
