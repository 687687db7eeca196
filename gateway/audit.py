"""The audit trail of every access to case data (DOMAIN.md section 7, Cybersecurity Law art. 21).

A separate stream of JSON records (a file appended line by line, or stdout
tagged ``"stream": "audit"``), never extra writes to Redis on the hot path.
Records carry the actor's pseudonym, never a name or ID number. Retention of
at least 6 months is the log shipper's job; docs/operations.md says so.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson


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
        self._lock = threading.Lock()
        self._stream: IO[bytes]
        if target == "stdout":
            self._stream = sys.stdout.buffer
            self._owned = False
        else:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(target, "ab", buffering=0)  # noqa: SIM115 (kept open for the process)
            self._owned = True

    def record(self, record: AuditRecord) -> None:
        line = orjson.dumps({
            "stream": "audit", "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **record.__dict__,
        }) + b"\n"
        with self._lock:
            try:
                self._stream.write(line)
                self._stream.flush()
            except (OSError, ValueError):
                pass  # a closed stream at shutdown must not fail a citizen's request

    def close(self) -> None:
        if self._owned:
            self._stream.close()
