"""Fewer system calls per request: corked HTTP writes and batched log output.

On this kind of machine a write system call costs tens of microseconds, as
much as the rest of a request's Python work (bench/ figures in the README).
uvicorn writes a response's headers and its body with two calls; the corked
protocol gathers every write made in one event-loop turn and sends them with
one. Log and audit lines are gathered the same way and written at most every
50 ms (and at once when 64 KiB are waiting, and at shutdown).
"""

from __future__ import annotations

import asyncio
import threading
from typing import IO, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

FLUSH_DELAY_S = 0.05
FLUSH_SIZE = 64 * 1024


class _CorkedTransport:
    """Delegates to the real transport, but writes made in one loop turn leave as one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(p) for p in self._pending)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CorkedHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # uvloop's transports are not asyncio.Transport subclasses; both have what the proxy uses.
        corked = _CorkedTransport(transport, asyncio.get_running_loop())
        super().connection_made(corked)  # type: ignore[arg-type]


class BatchedStream:
    """A binary stream whose writes are gathered and flushed from the event loop.

    Outside a running loop (command-line tools, threads) each write goes straight out.
    """

    def __init__(self, target: IO[bytes] | None = None) -> None:
        self._target = target  # None: sys.stdout.buffer, looked up when flushing
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._scheduled = False

    def _stream(self) -> IO[bytes]:
        import sys

        return self._target or sys.stdout.buffer

    def write(self, data: bytes) -> None:
        try:
            loop = asyncio.get_running_loop()
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
            stream = self._stream()
            stream.write(data)
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed stream at shutdown must not fail a request
