"""JSON log lines on stdout with no personal data (DOMAIN.md section 7, PIPL art. 28).

A redaction processor runs last-but-one on every event: values under sensitive
keys are masked or dropped, and any string anywhere is scrubbed of resident ID
numbers, mobile numbers and bearer tokens, so a careless log call cannot leak.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any, TextIO

import orjson
import structlog

from gateway.domain.id_numbers import mask_id_number, mask_phone
from gateway.line_batch import LineBatcher

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"']+")
_DROP_KEYS = frozenset({
    "token", "session_token", "user_token", "access_token", "id_token", "authorization", "password",
    "secret", "openid", "unionid", "session_key", "ticket", "userticket", "usertoken", "face", "photo",
    "address", "etopenid", "verify_token", "code", "js_code",
})
_MASK_KEYS = {
    "id_number": mask_id_number, "idno": mask_id_number, "phone": mask_phone, "mobile": mask_phone,
    "caller": mask_phone, "callback_phone": mask_phone, "phone_number": mask_phone,
}
_NAME_KEYS = frozenset({"name", "person_name", "applicant", "real_name"})
#: One cheap search decides whether a string needs the four substitutions at all:
#: 11+ digits in a row (ID or phone number), a JWT, or a bearer credential.
_SUSPICIOUS = re.compile(r"\d{11}|eyJ|(?i:bearer)")


def scrub_text(text: str) -> str:
    text = _JWT.sub("[token]", text)
    text = _BEARER.sub(r"\1[token]", text)
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def _scrub(key: str, value: Any) -> Any:
    lowered = key.lower()
    if lowered in _DROP_KEYS:
        return "[redacted]"
    if lowered in _NAME_KEYS and isinstance(value, str):
        return value[:1] + "*" * max(0, len(value) - 1)
    if lowered in _MASK_KEYS and isinstance(value, str):
        return _MASK_KEYS[lowered](value)
    if isinstance(value, str):
        return scrub_text(value) if _SUSPICIOUS.search(value) else value
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {k: _scrub(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(key, v) for v in value]
    return value


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        event[key] = _scrub(key, event[key])
    return event


def _json(event: Any, **_kwargs: Any) -> bytes:
    return orjson.dumps(event, default=str)


#: Log lines leave in batches (gateway/line_batch.py); the audit trail does not.
STDOUT = LineBatcher()


class _StdoutLogger:
    def __init__(self, *_args: Any) -> None:
        pass

    def msg(self, message: bytes) -> None:
        STDOUT.write(message + b"\n")

    info = debug = warning = error = critical = exception = log = msg


def _json_text(event: Any, **_kwargs: Any) -> str:
    return orjson.dumps(event, default=str).decode()


#: whether request lines may take the fast path straight to stdout (production set-up)
_FAST_REQUEST_LINES = {"on": False}


def request_line(fields: dict[str, str | int | float | bool]) -> None:
    """The one log line every request gets.

    Its fields are non-personal by construction (request id, channel and operation
    names, court code, status, code, durations), so in production it skips the
    general processors and redaction and goes straight to stdout: a quarter of
    the cost of a structlog line, paid on every request.
    """
    if _FAST_REQUEST_LINES["on"]:
        line = {"event": "request", **fields, "level": "info",
                "timestamp": datetime.now().isoformat()}
        STDOUT.write(orjson.dumps(line) + b"\n")
    else:
        get_logger("court_gateway.request").info("request", **fields)


def configure_logging(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """structlog renders JSON lines; stdlib records (uvicorn, libraries) are routed through the same chain."""
    _FAST_REQUEST_LINES["on"] = stream is None and level <= logging.INFO
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=False),
        structlog.processors.format_exc_info,
        redact,
    ]
    # Bytes straight from orjson to stdout (a few µs a line), looked up at each call so a
    # replaced sys.stdout (pytest's capture) is honoured; an explicit text stream gets text.
    factory: Any = (structlog.PrintLoggerFactory(stream) if stream is not None else _StdoutLogger)
    renderer = structlog.processors.JSONRenderer(serializer=_json_text if stream is not None else _json)
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processor=structlog.processors.JSONRenderer(serializer=_json_text),
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
    ))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # uvicorn's access log repeats what our request line says and would print raw paths
    # (case numbers are fine, but query strings may carry a token): silence it.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every outbound URL at INFO, and platform APIs take secrets in the query string
    # (WeChat's appsecret, access_token and js_code): keep only its warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def get_logger(name: str = "court_gateway") -> Any:
    return structlog.get_logger(name)
