"""Commands that are sent in the same turn of the event loop go out together, as one pipeline.

Every request sends its own command (the hot-path script, a claim), and redis-py's cost per call
(a connection taken from the pool and given back, a write, a read under a timeout) is larger than
the command itself. Under load many requests are waiting in the same loop turn: collecting their
commands and sending them as one redis-py pipeline (one connection, one write, the replies read in
order) pays that cost once per turn instead of once per request. A lone command goes out as it is.
On a cluster the pipeline is redis-py's cluster pipeline: it sends each node its share at once.
Replies and errors go back to each caller separately; a failure of the whole pipeline (connection
lost, a timeout) fails every command of that turn, as it would have failed each of them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster


class CommandBatcher:
    def __init__(self, client: Redis | RedisCluster) -> None:
        self._client = client
        self._waiting: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, *args: Any) -> asyncio.Future[Any]:
        """The reply to ``args`` (a Redis command), sent with the others of this loop turn."""
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Any] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._flush)
        self._waiting.append((args, reply))
        return reply

    def _flush(self) -> None:
        batch, self._waiting = self._waiting, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._tasks.add(task)  # kept until done: the loop holds tasks only weakly
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        try:
            if len(batch) == 1:
                replies: list[Any] = [await self._client.execute_command(*batch[0][0])]
            else:
                async with self._client.pipeline(transaction=False) as pipe:
                    for args, _ in batch:
                        pipe.execute_command(*args)
                    replies = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of this turn
            for _, reply in batch:
                if not reply.done():
                    reply.set_exception(exc)
            return
        for (_, reply), answer in zip(batch, replies, strict=True):
            if reply.done():
                continue  # the caller gave up (cancelled)
            if isinstance(answer, Exception):
                reply.set_exception(answer)
            else:
                reply.set_result(answer)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
