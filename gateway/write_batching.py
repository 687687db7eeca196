"""One system call per response: uvicorn's own HTTP protocol, given a transport that merges the
writes made in one event-loop turn.

uvicorn writes a response's head and its body separately, and on this kind of
machine a write system call on loopback costs about a tenth of a request
(cProfile, bench/). This module reads and writes no HTTP: the protocol object
is uvicorn's (h11, looked up by its documented name), every byte it produces
goes out unchanged and in order, only in fewer system calls. Anything the
protocol asks of the transport besides ``write`` is passed straight through,
after whatever is pending has been written.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import HTTP_PROTOCOLS, Config
from uvicorn.importer import import_from_string
from uvicorn.server import ServerState

from gateway.http_limits import HEAD_LIMIT_OPTIONS, HTTP_PROTOCOL


class MergedWritesTransport:
    """The real transport, except that writes made in one event-loop turn leave in one system call."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self._transport: Any = transport
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return int(self._transport.get_write_buffer_size()) + sum(len(p) for p in self._pending)

    def is_closing(self) -> bool:
        return bool(self._transport.is_closing())

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class MergedWritesProtocol(asyncio.Protocol):
    """uvicorn's HTTP protocol (:data:`~gateway.http_limits.HTTP_PROTOCOL`) on a :class:`MergedWritesTransport`."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        inner_class = import_from_string(HTTP_PROTOCOLS[HTTP_PROTOCOL])
        self._inner: asyncio.Protocol = inner_class(config=config, server_state=server_state, app_state=app_state,
                                                    _loop=_loop)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(MergedWritesTransport(transport))  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


def server_options() -> dict[str, Any]:
    """The ``uvicorn.Config`` options every gateway server uses: this protocol, with the head limits."""
    return {"http": MergedWritesProtocol, **HEAD_LIMIT_OPTIONS}
