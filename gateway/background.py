"""Background work: SLA timers, queued-write delivery, notifications.

Each kind of work is a :class:`BackgroundJob`. ``serve`` runs the jobs beside
the HTTP server unless ``--no-worker``; ``court-gateway worker`` runs them
alone. Any number of processes may run the same jobs at once: every job
claims its units of work in the shared state store (leases, consumer groups),
so each piece of work is done once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Protocol

from gateway.logs import get_logger

_log = get_logger("court_gateway.background")
RESTART_DELAY_S = 2.0


class BackgroundJob(Protocol):
    name: str

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; return promptly after it is."""


class JobRunner:
    """Runs jobs as tasks and restarts one that fails, so one bad unit of work never stops the rest."""

    def __init__(self, jobs: Sequence[BackgroundJob]) -> None:
        self.jobs = list(jobs)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._stop.clear()
        self._tasks = [asyncio.create_task(self._keep_running(job), name=f"job:{job.name}") for job in self.jobs]

    async def _keep_running(self, job: BackgroundJob) -> None:
        while not self._stop.is_set():
            try:
                await job.run(self._stop)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - logged; the job starts again after a pause
                _log.exception("background job failed; restarting", job=job.name)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), RESTART_DELAY_S)

    async def stop(self, grace_s: float = 5.0) -> None:
        self._stop.set()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._tasks = []
