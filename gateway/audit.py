"""The audit trail of every access to case data (DOMAIN.md section 7, Cybersecurity Law art. 21).

A separate stream of JSON records (a file appended line by line, or stdout
tagged ``"stream": "audit"``), never extra writes to Redis on the hot path.
Records carry the actor's pseudonym, never a name or ID number. Each record is
written with one system call as it is made, never batched, so a killed process
loses none that it reported; a file is opened with O_APPEND, so several
workers append whole lines to one file. :meth:`AuditTrail.reopen` (on SIGHUP)
lets logrotate move the file away. Retention of at least 6 months:
docs/operations.md.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from gateway.logs import STDOUT


@dataclass(frozen=True)
class AuditRecord:
    request_id: str
    channel: str
    operation: str
    actor: str | None  # pseudonym (sub)
    court: str | None
    case_no: str | None
    item: str | None
    result: str  # "ok" or an error code
    status: int


class AuditTrail:
    def __init__(self, target: str = "stdout") -> None:
        self._path = None if target == "stdout" else Path(target)
        self._fd: int | None = None
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = self._open(self._path)

    @staticmethod
    def _open(path: Path) -> int:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def record(self, record: AuditRecord) -> None:
        line = orjson.dumps({
            "stream": "audit", "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **record.__dict__,
        }) + b"\n"
        if self._fd is not None:
            os.write(self._fd, line)
            return
        STDOUT.write(line)
        STDOUT.flush()  # out now, with any log lines before it

    def reopen(self) -> None:
        """Open the file by its name again (after logrotate moved it), then close the old one."""
        if self._path is None:
            return
        fresh = self._open(self._path)
        old, self._fd = self._fd, fresh
        if old is not None:
            os.close(old)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
