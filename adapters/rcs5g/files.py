"""File messages: fetched from the platform's file store only, within the upload limit, never redirected.

A file message carries a URL the phone uploaded to. The gateway fetches it
only when its host is one of the channel's ``file_hosts`` (anything else could
make the gateway fetch internal addresses for whoever can post a callback),
refuses a redirect instead of following it, and stops reading at
``max_file_bytes`` (the declared ``fileSize`` is checked first, then the bytes
actually received). The bytes are spooled to a temporary file and handed to
``uploads.create`` like any channel's upload.
"""

from __future__ import annotations

import hashlib
import tempfile
from urllib.parse import urlsplit

import httpx

from adapters.rcs5g.protocol import FileInfo
from gateway import ErrorCode, FieldError, GatewayError, SpooledUpload

SPOOL_IN_MEMORY = 1 * 2**20


def _refused(code: ErrorCode, detail: str, message: str) -> GatewayError:
    return GatewayError(code, detail, [FieldError("fileInfo", message)])


def allowed_url(url: str, hosts: tuple[str, ...]) -> bool:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and host in hosts and not parts.username and not parts.password


async def fetch(http: httpx.AsyncClient, file: FileInfo, *, hosts: tuple[str, ...], limit: int,
                timeout_s: float) -> SpooledUpload:
    if not allowed_url(file.url, hosts):
        raise _refused(ErrorCode.VALIDATION_FAILED, "file message from a host not in file_hosts",
                       "文件来源不受信任，请重新发送。")
    if file.size > limit:
        raise _refused(ErrorCode.PAYLOAD_TOO_LARGE, "file message larger than the upload limit",
                       f"文件超过{limit // 2**20}MB，请压缩后重新发送。")
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by the upload's user
    try:
        size, digest = await _download(http, file.url, spool, limit, timeout_s)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return SpooledUpload(file=spool, filename=file.name, size=size, sha256=digest, fields={})


async def _download(http: httpx.AsyncClient, url: str, spool: tempfile.SpooledTemporaryFile[bytes], limit: int,
                    timeout_s: float) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    try:
        async with http.stream("GET", url, follow_redirects=False, timeout=timeout_s) as response:
            if response.is_redirect:
                raise _refused(ErrorCode.VALIDATION_FAILED, "file host answered a redirect (not followed)",
                               "文件无法获取，请重新发送。")
            if response.status_code != 200:
                raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE,
                                   f"file host answered HTTP {response.status_code}", retry_after=30)
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise _refused(ErrorCode.PAYLOAD_TOO_LARGE, "file message larger than the upload limit",
                                   f"文件超过{limit // 2**20}MB，请压缩后重新发送。")
                digest.update(chunk)
                spool.write(chunk)
    except httpx.HTTPError as exc:
        raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, f"file host unreachable ({type(exc).__name__})",
                           retry_after=30) from None
    return size, digest.hexdigest()
