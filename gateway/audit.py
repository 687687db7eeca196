"""The audit trail of every access to case data (DOMAIN.md section 7, Cybersecurity Law art. 21).

A separate stream of JSON records (a file appended line by line, or stdout
tagged ``"stream": "audit"``), never extra writes to Redis on the hot path.
Records carry the actor's pseudonym, never a name or ID number. Retention of
at least 6 months is the log shipper's job; docs/operations.md says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson

from gateway.corked import BatchedStream


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
        self._file: IO[bytes] | None = None
        if target != "stdout":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            self._file = open(target, "ab", buffering=0)  # noqa: SIM115 (kept open for the process)
        # Gathered and written every 50 ms (and at shutdown): a write system call per record
        # would cost as much as the request itself.
        self._out = BatchedStream(self._file)

    def record(self, record: AuditRecord) -> None:
        line = orjson.dumps({
            "stream": "audit", "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **record.__dict__,
        }) + b"\n"
        self._out.write(line)

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        self._out.flush()
        if self._file is not None:
            self._file.close()
