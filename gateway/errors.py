"""One error tree with stable codes (CONTRACTS.md section 3).

Every failure inside the gateway is a :class:`GatewayError` carrying one of the
codes below. Boundaries translate foreign exceptions into these (the court
client maps connection errors to ``BACKEND_UNAVAILABLE``, the JSON reader maps
oversized bodies to ``PAYLOAD_TOO_LARGE``); rendering happens in one place per
surface: problem+json for the canonical API, and each adapter's
``encode_error`` for its channel.

    GatewayError(code, detail, errors=[FieldError...], retry_after=None)
      .status   HTTP status of the code
      .title    English title
      .message  Chinese message for citizens: what happened and what to do next

Codes never change meaning; channels map them to their own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class ErrorCode(str, Enum):
    VALIDATION_FAILED = "VALIDATION_FAILED"
    INVALID_CASE_NUMBER = "INVALID_CASE_NUMBER"
    INVALID_ID_NUMBER = "INVALID_ID_NUMBER"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    REPLAYED_REQUEST = "REPLAYED_REQUEST"
    SESSION_EXPIRED = "SESSION_EXPIRED"
    IDENTITY_REJECTED = "IDENTITY_REJECTED"
    ASSURANCE_TOO_LOW = "ASSURANCE_TOO_LOW"
    SERVICE_NOT_ENABLED = "SERVICE_NOT_ENABLED"
    NOT_FOUND = "NOT_FOUND"
    IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"
    DEADLINE_PASSED = "DEADLINE_PASSED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    BACKEND_REJECTED = "BACKEND_REJECTED"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"
    BACKEND_UNAVAILABLE = "BACKEND_UNAVAILABLE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    BACKEND_TIMEOUT = "BACKEND_TIMEOUT"


@dataclass(frozen=True)
class CodeInfo:
    status: int
    title: str
    message: str  # Chinese, for citizens: what happened and what to do next


CODES: dict[ErrorCode, CodeInfo] = {
    ErrorCode.VALIDATION_FAILED: CodeInfo(400, "Validation failed", "提交的信息不完整或格式不正确，请检查后重新提交。"),
    ErrorCode.INVALID_CASE_NUMBER: CodeInfo(
        400, "Invalid case number", "案号格式不正确，请按“（2024）粤0106民初88号”的格式填写。"
    ),
    ErrorCode.INVALID_ID_NUMBER: CodeInfo(400, "Invalid ID number", "证件号码不正确，请核对后重新输入。"),
    ErrorCode.PAYLOAD_TOO_LARGE: CodeInfo(413, "Payload too large", "提交的内容过大，单个文件不超过20MB，请压缩后重试。"),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: CodeInfo(
        415, "Unsupported media type", "文件格式不支持，请上传PDF、JPG、PNG或OFD格式的文件。"
    ),
    ErrorCode.UNAUTHENTICATED: CodeInfo(401, "Unauthenticated", "身份验证未通过，请重新登录。"),
    ErrorCode.SIGNATURE_INVALID: CodeInfo(401, "Signature invalid", "请求签名校验失败，请联系平台技术支持。"),
    ErrorCode.REPLAYED_REQUEST: CodeInfo(401, "Replayed request", "请求已过期或重复提交，请重新操作。"),
    ErrorCode.SESSION_EXPIRED: CodeInfo(401, "Session expired", "登录已超时，请重新登录。"),
    ErrorCode.IDENTITY_REJECTED: CodeInfo(
        401, "Identity rejected", "身份核验未通过，请核对证件是否有效，或重新进行人脸识别。"
    ),
    ErrorCode.ASSURANCE_TOO_LOW: CodeInfo(403, "Assurance too low", "该业务需要先完成实名认证（部分业务需人脸识别）。"),
    ErrorCode.SERVICE_NOT_ENABLED: CodeInfo(403, "Service not enabled", "该渠道暂未开通此项服务，请通过其他渠道办理。"),
    ErrorCode.NOT_FOUND: CodeInfo(404, "Not found", "未查询到相关信息，请核对后重试。"),
    ErrorCode.IDEMPOTENCY_IN_PROGRESS: CodeInfo(409, "Request in progress", "您的上一次提交正在处理中，请稍候查看结果，无需重复提交。"),
    ErrorCode.DEADLINE_PASSED: CodeInfo(422, "Deadline passed", "已超过办理期限，如有疑问请咨询12368。"),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: CodeInfo(
        422, "Idempotency key reused", "该提交编号已用于其他内容，请重新发起提交。"
    ),
    ErrorCode.BACKEND_REJECTED: CodeInfo(422, "Rejected by the court", "法院系统未受理该请求，请根据提示修改后重试。"),
    ErrorCode.RATE_LIMITED: CodeInfo(429, "Too many requests", "操作过于频繁，请稍后再试。"),
    ErrorCode.INTERNAL: CodeInfo(500, "Internal error", "系统繁忙，请稍后再试；如多次失败请拨打12368。"),
    ErrorCode.BACKEND_UNAVAILABLE: CodeInfo(503, "Court system unavailable", "法院业务系统暂时无法访问，请稍后再试。"),
    ErrorCode.SERVICE_UNAVAILABLE: CodeInfo(503, "Service unavailable", "服务暂时不可用，请稍后再试。"),
    ErrorCode.BACKEND_TIMEOUT: CodeInfo(504, "Court system timeout", "法院业务系统响应超时，请稍后再试。"),
}


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class GatewayError(Exception):
    """A failure with a stable code; ``detail`` is for developers, never personal data."""

    code: ErrorCode
    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    retry_after: int | None = None
    #: Extra fields safe to show the caller (e.g. the court's own detail).
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code.value}: {self.detail}")

    @property
    def info(self) -> CodeInfo:
        return CODES[self.code]

    @property
    def status(self) -> int:
        return self.info.status

    @property
    def message(self) -> str:
        return self.info.message


def problem_body(error: GatewayError, request_id: str) -> dict[str, Any]:
    """The RFC 9457 body of CONTRACTS.md section 3."""
    body: dict[str, Any] = {
        "type": f"https://court-gateway.invalid/errors/{error.code.value.lower().replace('_', '-')}",
        "title": error.info.title,
        "status": error.status,
        "code": error.code.value,
        "detail": error.detail or error.message,
        "request_id": request_id,
    }
    if error.errors:
        body["errors"] = [e.as_dict() for e in error.errors]
    body.update(error.extra)
    return body


def validation(field_name: str, message: str, code: ErrorCode = ErrorCode.VALIDATION_FAILED) -> GatewayError:
    return GatewayError(code, message, [FieldError(field_name, message)])
