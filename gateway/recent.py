"""The last requests this process answered, for the operators' console page (CONTRACTS.md section 9).

Only what the request log line carries and nothing personal: request id, channel, operation,
court, status, code, duration. A fixed-size ring in memory: it costs one append per request and
is per process (each gateway instance shows its own).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

RECENT_SIZE = 200


@dataclass(frozen=True)
class RecentRequest:
    at: float
    request_id: str
    channel: str
    operation: str
    court: str
    status: int
    code: str
    duration_ms: float


class RecentRequests:
    def __init__(self, size: int = RECENT_SIZE) -> None:
        self._items: deque[RecentRequest] = deque(maxlen=size)

    def add(self, request_id: str, channel: str, operation: str, court: str, status: int, code: str,
            duration_ms: float) -> None:
        self._items.append(RecentRequest(time.time(), request_id, channel, operation, court, status, code,
                                         duration_ms))

    def latest(self, count: int = RECENT_SIZE) -> list[RecentRequest]:
        """Newest first."""
        return list(reversed(self._items))[:count]


#: the one ring of this process (requests of every runtime a reload built)
RECENT = RecentRequests()
