"""Pure helpers for channel envelopes, shared by every adapter's protocol.py (no web framework here)."""

from __future__ import annotations

import base64
from typing import Any

from gateway.calls import BinaryAnswer
from gateway.errors import GatewayError


def json_result(result: Any) -> Any:
    """The canonical result as channels carry it in JSON: unchanged, except a file
    (``templates.download``) travels base64-encoded with its name, type and size."""
    if isinstance(result, BinaryAnswer):
        return {"file_name": result.filename, "content_type": result.content_type, "size": len(result.content),
                "content_base64": base64.b64encode(result.content).decode("ascii")}
    return result


def error_details(error: GatewayError, *, camel_case: bool = False) -> dict[str, Any]:
    """What channels may add to their error envelope beside code and message: the developer
    detail, field errors, and the error's safe extras (the court's code, the assurance needed)."""
    details: dict[str, Any] = {}
    if error.detail:
        details["detail"] = error.detail
    if error.errors:
        details["errors"] = [e.as_dict() for e in error.errors]
    for key, value in error.extra.items():
        details[_camel(key) if camel_case else key] = value
    return details


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)
