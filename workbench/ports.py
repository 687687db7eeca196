"""Free loopback ports for servers a check or a test starts."""

from __future__ import annotations

import random
import socket


def bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A free port below the kernel's ephemeral range (32768 and up): a port the kernel handed out
    for binding port 0 can be taken by an outgoing connection before a server binds it again."""
    while True:
        port = random.randrange(20000, 32000)
        if bindable(port):
            return port
