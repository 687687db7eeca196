"""Uploads (CONTRACTS.md section 3, "Uploads").

The multipart body is counted while it is read (never trusted from
Content-Length), spooled to a temporary file by the multipart parser (never
held whole in memory, never put in Redis), recognised by its first bytes, and
streamed on to the named court. At most 20 MiB; PDF, JPEG, PNG and OFD only.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message, Receive

from gateway.errors import ErrorCode, FieldError, GatewayError

MAX_UPLOAD_BYTES = 20 * 2**20
_MULTIPART_OVERHEAD = 64 * 1024
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


@dataclass
class SpooledUpload:
    file: IO[bytes]
    filename: str
    content_type: str
    size: int
    sha256: str
    fields: dict[str, str]


def _limited_receive(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise GatewayError(ErrorCode.PAYLOAD_TOO_LARGE, "upload larger than 20 MiB")
        return message

    return wrapped


async def read_upload(request: Request) -> SpooledUpload:
    """Parse one ``file`` part (plus small text fields) from a multipart request."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "send multipart/form-data with one `file` part",
                           [FieldError("file", "multipart/form-data expected")])
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + _MULTIPART_OVERHEAD:
        raise GatewayError(ErrorCode.PAYLOAD_TOO_LARGE, "upload larger than 20 MiB")
    limited = Request(request.scope, _limited_receive(request.receive, MAX_UPLOAD_BYTES + _MULTIPART_OVERHEAD))
    try:
        form = await limited.form(max_files=1, max_fields=8, max_part_size=64 * 1024)
    except MultiPartException as exc:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, f"malformed multipart body: {exc.message}",
                           [FieldError("file", "malformed multipart body")]) from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "one `file` part is required", [FieldError("file", "missing")])
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await _inspect(upload, fields)


async def _inspect(upload: UploadFile, fields: dict[str, str]) -> SpooledUpload:
    digest = hashlib.sha256()
    size = 0
    head = b""
    await upload.seek(0)
    while chunk := await upload.read(256 * 1024):
        if not head:
            head = chunk[:16]
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise GatewayError(ErrorCode.PAYLOAD_TOO_LARGE, "upload larger than 20 MiB")
        digest.update(chunk)
    await upload.seek(0)
    if size == 0:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "the file is empty", [FieldError("file", "empty")])
    content_type = sniff(head, upload.file)
    return SpooledUpload(upload.file, _safe_name(upload.filename), content_type, size, digest.hexdigest(), fields)


def sniff(head: bytes, file: IO[bytes]) -> str:
    """The type by the first bytes, not the declared one (else UNSUPPORTED_MEDIA_TYPE)."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head.startswith(b"PK\x03\x04") and _is_ofd(file):
        return "application/ofd"
    raise GatewayError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "only PDF, JPEG, PNG and OFD files are accepted")


def _is_ofd(file: IO[bytes]) -> bool:
    """OFD (GB/T 33190-2016) is a ZIP package whose root holds OFD.xml."""
    try:
        with zipfile.ZipFile(file) as package:
            found = any(name.upper() == "OFD.XML" for name in package.namelist()[:1000])
    except (zipfile.BadZipFile, OSError, ValueError):
        found = False
    file.seek(0)
    return found


def _safe_name(name: str | None) -> str:
    base = (name or "document").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')[:120]
    return cleaned or "document"


def upload_key(upload: SpooledUpload) -> str:
    """Without a client key, the content is the key: the same person sending the same bytes to the
    same court gets the same upload back (a retried upload never doubles)."""
    return "sha256:" + upload.sha256


def describe(upload: SpooledUpload) -> dict[str, Any]:
    return {"sha256": upload.sha256, "size": upload.size, "content_type": upload.content_type}
