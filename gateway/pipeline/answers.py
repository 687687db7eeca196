"""A court's answer as the canonical result: JSON, or a file with the name its
Content-Disposition gives; a court's refusal as the canonical error."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from gateway.calls import BinaryAnswer
from gateway.catalog import Operation
from gateway.court_client import CourtResponse, decode_json_answer, is_success, map_court_error


def court_answer(op: Operation, response: CourtResponse) -> Any:
    if not is_success(response):
        raise map_court_error(response)
    if op.binary:
        disposition = response.headers.get("Content-Disposition", "")
        return BinaryAnswer(response.body, response.content_type or "application/octet-stream",
                            disposition_filename(disposition))
    return decode_json_answer(response)


def disposition_filename(disposition: str) -> str:
    """The file name of a Content-Disposition header: ``filename*`` (RFC 5987, UTF-8) first, then
    ``filename``, else "download"."""
    for part in disposition.split(";"):
        part = part.strip()
        if part.lower().startswith("filename*="):
            return unquote(part.split("''", 1)[-1])
    for part in disposition.split(";"):
        part = part.strip()
        if part.lower().startswith("filename="):
            return part.split("=", 1)[1].strip('"')
    return "download"
