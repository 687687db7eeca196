"""Log lines leave in batches: one write system call per 50 ms instead of one per line.

Only for the operational log on stdout, where losing the last 50 ms of lines to
a SIGKILL is acceptable; the audit trail never goes through here
(gateway/audit.py writes each record at once). The buffer and its lock are
renewed in a forked child, so a fork never inherits half a batch or a held lock.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from typing import IO

FLUSH_DELAY_S = 0.05
FLUSH_SIZE = 64 * 1024


class LineBatcher:
    """A binary stream whose writes are gathered and flushed from the event loop.

    Outside a running loop (command-line tools, threads) each write goes straight out.
    """

    def __init__(self, target: IO[bytes] | None = None) -> None:
        self._target = target  # None: sys.stdout.buffer, looked up when flushing (pytest replaces it)
        self._renew()
        os.register_at_fork(after_in_child=self._renew)

    def _renew(self) -> None:
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._scheduled = False

    def write(self, data: bytes) -> None:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            self._buffer += data
            if loop is None or len(self._buffer) >= FLUSH_SIZE:
                self._flush_locked()
            elif not self._scheduled:
                self._scheduled = True
                loop.call_later(FLUSH_DELAY_S, self.flush)

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        self._scheduled = False
        if not self._buffer:
            return
        data = bytes(self._buffer)
        self._buffer.clear()
        try:
            stream = self._target or sys.stdout.buffer
            stream.write(data)
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed stream at shutdown must not fail a request
