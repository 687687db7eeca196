"""Uploads (CONTRACTS.md section 3, "Uploads"; QUALITY.md security item 4).

The order is what keeps an unauthenticated sender from costing the process
anything but disk space:

1. :func:`spool_body` copies the raw request body to a temporary file, counted
   while it is read (never trusted from Content-Length), at most 20 MiB plus
   the multipart framing, parsing nothing. A channel whose signature covers the
   body's digest checks it now.
2. :func:`parse_upload` reads the multipart framing from the spool (one
   ``file`` part, a few small fields: 5,000 parts are refused by the parser's
   caps), hashes the file part off the event loop. A channel whose signature
   lives in the form fields checks it now.
3. :func:`recognise` decides the type by the first bytes, and only the
   pipeline calls it, once the sender's credential has been checked. An OFD
   is a ZIP package: it is read as a stream of its first entries (a capped
   number of them, a capped number of bytes, in a worker thread), never by
   building ``zipfile.ZipFile`` over the whole central directory (a zip with
   200,000 entries cost 3 s of event loop each).

Uploads in flight are limited per client address (:class:`UploadSlots`), so
one client cannot hold every worker's disk and threads.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import IO, Any

import anyio.to_thread
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from stream_unzip import UnzipError, stream_unzip

from gateway.errors import ErrorCode, FieldError, GatewayError

MAX_UPLOAD_BYTES = 20 * 2**20
_MULTIPART_OVERHEAD = 64 * 1024
MAX_UPLOAD_BODY = MAX_UPLOAD_BYTES + _MULTIPART_OVERHEAD
_SPOOL_IN_MEMORY = 2**20  # bodies below this never touch the disk
_REPLAY_CHUNK = 64 * 1024
#: how much of a ZIP package is read looking for OFD.xml at its root, and how many entries
OFD_SCAN_BYTES = 2**20
OFD_SCAN_ENTRIES = 64
_OFD_INFLATE_BUDGET = 8 * 2**20  # what the entries before OFD.xml may inflate to, in all
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class SpooledUpload:
    file: IO[bytes]
    filename: str
    size: int
    sha256: str
    fields: dict[str, str]
    #: set by :func:`recognise` once the sender is known; empty until then
    content_type: str = ""


class UploadSlots:
    """Uploads in flight per client address (the peer as the server saw it, i.e. after the
    configured trusted proxies); one more is RATE_LIMITED at once, before a byte is read."""

    def __init__(self, per_client: int = 2) -> None:
        self.per_client = per_client
        self._in_flight: dict[str, int] = {}

    def in_flight(self, client: str) -> int:
        return self._in_flight.get(client, 0)

    @asynccontextmanager
    async def hold(self, request: Request) -> AsyncIterator[None]:
        client = request.client.host if request.client else "-"
        if self.in_flight(client) >= self.per_client:
            raise GatewayError(ErrorCode.RATE_LIMITED, "too many uploads at once from this client", retry_after=5)
        self._in_flight[client] = self.in_flight(client) + 1
        try:
            yield
        finally:
            left = self._in_flight[client] - 1
            if left:
                self._in_flight[client] = left
            else:
                del self._in_flight[client]


def _require_multipart(request: Request) -> None:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "send multipart/form-data with one `file` part",
                           [FieldError("file", "multipart/form-data expected")])


def _too_large() -> GatewayError:
    return GatewayError(ErrorCode.PAYLOAD_TOO_LARGE, "upload larger than 20 MiB")


async def spool_body(request: Request, observe: Callable[[bytes], Any] | None = None) -> IO[bytes]:
    """The raw body in a temporary file (``observe`` sees every chunk: a signature digest), unparsed."""
    _require_multipart(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BODY:
        raise _too_large()
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - returned
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BODY:
                raise _too_large()
            if observe is not None:
                observe(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


async def _replay(spool: IO[bytes]) -> AsyncGenerator[bytes, None]:
    while chunk := spool.read(_REPLAY_CHUNK):
        yield chunk


async def parse_upload(request: Request, spool: IO[bytes]) -> SpooledUpload:
    """One ``file`` part (plus small text fields) from a spooled multipart body; closes the spool."""
    try:
        # The parser itself, not Request.form(), which would turn a refusal into a bare HTTP 400.
        parser = MultiPartParser(request.headers, _replay(spool), max_files=1, max_fields=8,
                                 max_part_size=64 * 1024)
        form = await parser.parse()
    except MultiPartException as exc:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, f"malformed multipart body: {exc.message}",
                           [FieldError("file", "malformed multipart body")]) from None
    finally:
        spool.close()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "one `file` part is required", [FieldError("file", "missing")])
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    size, sha256 = await anyio.to_thread.run_sync(_digest, upload.file)
    if size == 0:
        raise GatewayError(ErrorCode.VALIDATION_FAILED, "the file is empty", [FieldError("file", "empty")])
    return SpooledUpload(upload.file, _safe_name(upload.filename), size, sha256, fields)


async def read_upload(request: Request) -> SpooledUpload:
    """Spool, then parse: for callers whose credential was checked before the body (a bearer token)
    or lives in the form fields themselves."""
    return await parse_upload(request, await spool_body(request))


def _digest(file: IO[bytes]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    while chunk := file.read(256 * 1024):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise _too_large()
        digest.update(chunk)
    file.seek(0)
    return size, digest.hexdigest()


async def recognise(upload: SpooledUpload) -> str:
    """The type by the first bytes, not the declared one (else UNSUPPORTED_MEDIA_TYPE). Call only
    once the sender's credential has been checked."""
    if not upload.content_type:
        upload.content_type = await anyio.to_thread.run_sync(sniff, upload.file)
    return upload.content_type


def sniff(file: IO[bytes]) -> str:
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head.startswith(_ZIP_MAGIC) and _is_ofd(file):
        return "application/ofd"
    raise GatewayError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "only PDF, JPEG, PNG and OFD files are accepted")


def _capped(file: IO[bytes], budget: int) -> Iterator[bytes]:
    while budget > 0 and (chunk := file.read(min(64 * 1024, budget))):
        budget -= len(chunk)
        yield chunk


def _is_ofd(file: IO[bytes]) -> bool:
    """OFD (GB/T 33190-2016) is a ZIP package whose root holds OFD.xml: look for it among the first
    entries, read as a stream of local headers."""
    inflated = 0
    try:
        for index, (name, _size, content) in enumerate(stream_unzip(_capped(file, OFD_SCAN_BYTES))):
            if name.decode("utf-8", "replace").upper() == "OFD.XML":
                return True
            if index + 1 >= OFD_SCAN_ENTRIES:
                return False
            for chunk in content:  # an entry must be read through before the next one starts
                inflated += len(chunk)
                if inflated > _OFD_INFLATE_BUDGET:
                    return False
    except (UnzipError, ValueError, OSError):
        return False
    finally:
        file.seek(0)
    return False


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
