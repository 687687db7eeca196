"""Court errors as ``application/problem+json`` (RFC 9457, CONTRACTS.md section 3).

The gateway keeps the codes ``VALIDATION_FAILED``, ``INVALID_CASE_NUMBER``,
``INVALID_ID_NUMBER``, ``NOT_FOUND`` and ``DEADLINE_PASSED``; any other 4xx code
a court uses (``ALREADY_DECIDED``, ``HEARING_NOT_ONLINE`` ...) reaches the
citizen as ``BACKEND_REJECTED`` with the court's detail, so the detail says
what to do in plain Chinese.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

PROBLEM_TYPE_BASE = "https://reference-court.invalid/problems/"

_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    500: "Internal error",
    503: "Service unavailable",
}


@dataclass
class CourtError(Exception):
    """A refusal with a stable code; ``detail`` never carries personal data."""

    status: int
    code: str
    detail: str
    errors: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.detail}")

    def body(self, request_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code.lower().replace("_", "-"),
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            "request_id": request_id,
        }
        if self.errors:
            body["errors"] = self.errors
        return body


def not_found(detail: str = "未查询到相关信息，请核对后重试。") -> CourtError:
    # One wording for "missing" and "not yours": no enumeration (DOMAIN.md section 6).
    return CourtError(404, "NOT_FOUND", detail)


def validation_failed(field_name: str, message: str, code: str = "VALIDATION_FAILED") -> CourtError:
    return CourtError(400, code, message, [{"field": field_name, "message": message}])


def conflict(code: str, detail: str) -> CourtError:
    return CourtError(409, code, detail)


def unauthenticated(detail: str) -> CourtError:
    return CourtError(401, "UNAUTHENTICATED", detail)


def problem_response(error: CourtError, request_id: str) -> Response:
    content = json.dumps(error.body(request_id), ensure_ascii=False).encode()
    headers = {"X-Request-Id": request_id}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="court", error="invalid_token"'
    return Response(content, error.status, headers=headers, media_type="application/problem+json")
