"""W3C Trace Context (CONTRACTS.md section 6): a request's ``traceparent`` goes on to the court.

The server entry point stores the caller's header (bytes, untouched) for the
request's task; a court call passes on its trace id and flags with a parent id
of its own (the gateway is a participant in the trace), or starts a new trace
when the caller sent none or a malformed one.
"""

from __future__ import annotations

import random
import re
from contextvars import ContextVar

from starlette.types import Scope

_INCOMING: ContextVar[bytes | None] = ContextVar("traceparent", default=None)
#: version 00; a trace id and parent id that are not all zeros; two hex flag digits
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_ZERO_TRACE = "0" * 32
_ZERO_PARENT = "0" * 16


def remember(scope: Scope) -> None:
    """Keep the caller's traceparent (if any) for court calls made while serving this request."""
    for name, value in scope["headers"]:
        if name == b"traceparent":
            _INCOMING.set(value)
            return
    _INCOMING.set(None)


def outgoing() -> str:
    """The traceparent header for a court call made now.

    Ids come from the process's Mersenne Twister, not the kernel: W3C asks for random, unique
    ids, not secret ones, and a getrandom system call per court call cost ~4 µs (py-spy, bench/).
    """
    parent = f"{random.getrandbits(64) or 1:016x}"
    incoming = _INCOMING.get()
    if incoming is not None:
        match = _TRACEPARENT.match(incoming.decode("latin-1").strip())
        if match and match.group(1) != _ZERO_TRACE and match.group(2) != _ZERO_PARENT:
            return f"00-{match.group(1)}-{parent}-{match.group(3)}"
    return f"00-{random.getrandbits(128) or 1:032x}-{parent}-00"
