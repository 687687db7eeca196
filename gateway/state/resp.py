"""One pipelined Redis connection for the hot path: requests written back to back, replies
matched in order, parsed by hiredis.

Why beside redis-py: every request pays for its state round trip, and redis-py's
asyncio client (pool checkout, a lock, response objects) costs 60-100 µs of CPU
per command where this costs about 10 (figures in the README). Redis answers
on one connection in the order it was asked, so concurrent requests share the
connection without any pooling: a FIFO of futures is the whole protocol. Any
failure (connection lost, a timeout) closes the connection and fails every
pending call, since the replies could no longer be matched; the next call
reconnects. redis-py still serves everything that is not per-request
(streams, sorted sets, scripts of the timers and the outbox).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis

from gateway.state.base import StateUnavailable


class RedisReplyError(Exception):
    """Redis answered with an error (``NOSCRIPT ...``, ``WRONGTYPE ...``)."""


def encode_command(args: tuple[Any, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending: deque[asyncio.Future[Any]] = deque()
        self.closed = False
        self._reader = hiredis.Reader(replyError=RedisReplyError)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while True:
            try:
                reply = self._reader.gets()
            except hiredis.ProtocolError:
                self.fail("malformed reply")
                return
            if reply is False:
                return
            if not self.pending:
                self.fail("unexpected reply")
                return
            waiter = self.pending.popleft()
            if waiter.done():
                continue
            if isinstance(reply, RedisReplyError):
                waiter.set_exception(reply)
            else:
                waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail("connection lost")

    def fail(self, why: str) -> None:
        self.closed = True
        while self.pending:
            waiter = self.pending.popleft()
            if not waiter.done():
                waiter.set_exception(StateUnavailable(why))
        if self.transport is not None:
            self.transport.close()


class RespConnection:
    """Lazily connected, shared by every request of this process."""

    def __init__(self, url: str, password: str | None = None, *, timeout_s: float = 2.0,
                 connect_timeout_s: float = 1.0) -> None:
        parts = urlsplit(url)
        self._unix_path = parts.path if parts.scheme == "unix" else None
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 6379
        self._ssl = ssl.create_default_context() if parts.scheme == "rediss" else None
        self._db = int(parts.path.strip("/") or 0) if parts.scheme != "unix" else 0
        self._username = unquote(parts.username) if parts.username else None
        self._password = password
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def call(self, *args: Any) -> Any:
        protocol = self._protocol
        if protocol is None or protocol.closed:
            protocol = await self._connect()
        return await self._send(protocol, args)

    async def _send(self, protocol: _Protocol, args: tuple[Any, ...]) -> Any:
        if protocol.closed:
            raise StateUnavailable("connection closed")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        protocol.pending.append(waiter)
        assert protocol.transport is not None
        protocol.transport.write(encode_command(args))
        timer = loop.call_later(self._timeout_s, protocol.fail, "timeout")
        try:
            return await waiter
        finally:
            timer.cancel()

    async def _connect(self) -> _Protocol:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._protocol is not None and not self._protocol.closed:
                return self._protocol
            protocol = await self._open()
            await self._handshake(protocol)
            self._protocol = protocol
            return protocol

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        try:
            if self._unix_path:
                connecting = loop.create_unix_connection(_Protocol, self._unix_path)
            else:
                connecting = loop.create_connection(_Protocol, self._host, self._port, ssl=self._ssl,
                                                    server_hostname=self._host if self._ssl else None)
            _transport, protocol = await asyncio.wait_for(connecting, self._connect_timeout_s)
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            raise StateUnavailable(type(exc).__name__) from None
        return protocol

    async def _handshake(self, protocol: _Protocol) -> None:
        try:
            if self._password is not None:
                credentials = (self._username, self._password) if self._username else (self._password,)
                await self._send(protocol, ("AUTH", *credentials))
            if self._db:
                await self._send(protocol, ("SELECT", self._db))
        except RedisReplyError as exc:
            protocol.fail("handshake refused")
            raise StateUnavailable(f"handshake refused: {str(exc)[:60]}") from None

    async def close(self) -> None:
        if self._protocol is not None:
            self._protocol.fail("closed")
            self._protocol = None
