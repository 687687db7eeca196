"""gateway/write_batching.py: uvicorn's protocol unchanged, its writes merged per event-loop turn.

The transport underneath is a real one (a loopback socket pair); what reaches the peer is read
back, and the real transport's ``write`` is counted to show how many system calls were asked for.
Served through uvicorn, the protocol is exercised by every test against ``serve`` (e.g.
tests/security/test_api4_header_limits.py, keep-alive and refusals included).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from gateway.write_batching import MergedWritesTransport


class _Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None


async def _pair() -> tuple[Any, socket.socket, list[bytes]]:
    """A real transport on one end of a socket pair, with each of its writes recorded; the other end."""
    ours, theirs = socket.socketpair()
    transport: Any = (await asyncio.get_running_loop().connect_accepted_socket(_Sink, ours))[0]
    writes: list[bytes] = []
    real_write = transport.write

    def counting_write(data: bytes) -> None:
        writes.append(bytes(data))
        real_write(data)

    transport.write = counting_write
    theirs.setblocking(False)
    return transport, theirs, writes


async def _read(peer: socket.socket, size: int) -> bytes:
    loop = asyncio.get_running_loop()
    received = b""
    while len(received) < size:
        received += await asyncio.wait_for(loop.sock_recv(peer, 65536), 5)
    return received


async def test_writes_in_one_turn_leave_in_one_call_in_order() -> None:
    transport, peer, writes = await _pair()
    merged = MergedWritesTransport(transport)
    merged.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    merged.write(b"")
    merged.write(bytearray(b"ok"))
    assert writes == []  # nothing yet: the loop has not turned
    await asyncio.sleep(0)
    assert writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    merged.write(b"next")
    await asyncio.sleep(0)
    assert writes[1:] == [b"next"]
    assert await _read(peer, 43) == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\noknext"
    merged.close()
    peer.close()


async def test_close_and_eof_send_what_is_pending_first() -> None:
    transport, peer, writes = await _pair()
    merged = MergedWritesTransport(transport)
    merged.write(b"last words")
    assert merged.get_write_buffer_size() == len(b"last words")
    merged.write_eof()
    assert writes == [b"last words"]
    assert await _read(peer, 10) == b"last words"
    merged.close()
    peer.close()

    transport, peer, writes = await _pair()
    merged = MergedWritesTransport(transport)
    merged.write(b"goodbye")
    merged.close()
    assert writes == [b"goodbye"] and merged.is_closing()
    assert await _read(peer, 7) == b"goodbye"
    peer.close()

