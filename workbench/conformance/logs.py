"""What the gateway prints while a check runs, gathered to search for personal data.

The gateway's log lines go to ``sys.stdout`` (looked up at each write, gateway/logs.py) and
library records to the root logger's stream handlers; both are pointed at one buffer for the
duration, then restored.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from collections.abc import Callable, Iterator

from gateway.logs import STDOUT


@contextlib.contextmanager
def captured_log() -> Iterator[Callable[[], str]]:
    """Yields a function returning everything printed so far inside the block (and after it, all of it)."""
    STDOUT.flush()
    raw = io.BytesIO()
    text = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    streams = [h.setStream(text) for h in handlers]
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = text

    def printed() -> str:
        STDOUT.flush()
        return raw.getvalue().decode("utf-8", "replace")

    try:
        yield printed
    finally:
        STDOUT.flush()
        sys.stdout, sys.stderr = saved
        for handler, stream in zip(handlers, streams, strict=True):
            if stream is not None:
                handler.setStream(stream)
        text.detach()  # the buffer stays open for ``printed`` after the block
