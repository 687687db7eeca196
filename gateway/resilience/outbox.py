"""Store-and-forward: writes a court cannot take now, kept durably until it can.

In Redis, one stream per court (``{w}outbox:<court>``) read by the consumer group
``deliverers``, so a court that is down never holds up the others and a
worker can leave a down court's stream unread:

    enqueue      MULTI: XADD outbox:{court} + the delivery record + the citizen's
                 own-record of the delivery id + the idempotency record (queued answer)
    read_new     XREADGROUP ... > (entries nobody has had yet; one call for many courts)
    read_pending XREADGROUP ... 0 (this worker's own entries it has not settled)
    reclaim      XAUTOCLAIM of entries idle longer than any delivery takes (a dead worker's)
    settle       MULTI: XACK + XDEL + the records the result changes (delivery record,
                 own-record of the created item, idempotency record)
    dead_letter  MULTI: XADD outbox:dead + XACK + XDEL + the failed delivery record

Writing a record and moving the queue in one transaction is what makes a
crash harmless: a worker that dies after the court's commit but before
``settle`` leaves the entry pending; another worker reclaims it and delivers it
again with the same Idempotency-Key, which the court deduplicates. Settled
entries are deleted from the stream, so the personal data in them does not
outlive the delivery. Durability needs Redis with AOF (docs/deployment.md).

Every key a transaction touches carries the hash tag ``{w}`` (gateway/state/layout.py), so
each MULTI stays in one hash slot on a Redis Cluster.

:class:`MemoryOutbox` is the same thing in one process, for ``demo`` and tests
with ``state: memory``.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
import weakref
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError, ResponseError

from gateway.errors import ErrorCode
from gateway.state import StateStore, StateUnavailable
from gateway.state.layout import WRITES_TAG
from gateway.state.redis import RedisState

GROUP = "deliverers"
STREAM_PREFIX = WRITES_TAG + "outbox:"
DEAD_LETTER_STREAM = WRITES_TAG + "outbox:dead"
DELIVERY_PREFIX = WRITES_TAG + "delivery:"
#: with Sentinel, a queued write counts once this many replicas have it (see _replicated_transaction)
REPLICAS_TO_WAIT_FOR = 1
#: and they get this long, inside the client's command timeout (gateway/state/connection.py)
WAIT_FOR_REPLICA_MS = 150
#: a blocking read waits at most this long in Redis, well inside the client's command timeout
#: (gateway/state/connection.py): the delivery loop simply reads again
MAX_BLOCK_S = 0.1
#: how long the citizen can look a delivery up (renewed at every change)
DELIVERY_TTL_S = 30 * 24 * 3600
#: dead letters kept for operators, oldest first out beyond this many
DEAD_LETTER_MAXLEN = 100_000

#: the console's listing of queued writes shows at most this many per court (oldest first)
PENDING_LISTED_MAX = 100

#: key, value, expiry in seconds: a record written in the same transaction as a queue change
Record = tuple[str, bytes, float | None]


def stream_key(court: str) -> str:
    return STREAM_PREFIX + court


def delivery_key(delivery_id: str) -> str:
    return DELIVERY_PREFIX + delivery_id


@dataclass(frozen=True)
class QueuedWrite:
    """Everything needed to send a write again later, exactly as the first time."""

    delivery_id: str
    court: str
    operation: str
    channel: str
    actor: dict[str, Any]
    args: dict[str, Any]
    #: the Idempotency-Key the court deduplicates by (CONTRACTS.md section 3)
    court_key: str
    #: the gateway's idempotency record, rewritten with the court's answer on delivery
    record_key: str
    fingerprint: str
    request_id: str
    queued_at: float
    #: the participant check could not be made when the write arrived: make it before delivering
    check_access: bool = False

    def dumps(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def loads(cls, raw: bytes) -> QueuedWrite | None:
        try:
            data = orjson.loads(raw)
            return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})
        except (orjson.JSONDecodeError, TypeError, KeyError):
            return None


@dataclass(frozen=True)
class Entry:
    """One stream entry; ``write`` is None when its data is gone (deleted, or unreadable)."""

    entry_id: str
    court: str
    write: QueuedWrite | None


class NotReplicated(RedisError):
    """No replica confirmed a transaction in time (Sentinel topology)."""

    def __init__(self) -> None:
        super().__init__("NOTREPLICATED no replica acknowledged the write in time")


class NotTaken(Exception):
    """The court did not take a write now (no connection, no answer in time, a 5xx, a redirect, a
    malformed answer, the breaker open): it may be sent again later with the same key.

    ``kind`` says how far it got: ``refused`` and ``breaker_open`` (and ``access_deferred``, a
    participant write queued before its access check) never reached the court; ``broken``,
    ``timeout``, ``oversized`` and ``answered`` (a 5xx, a redirect, a malformed answer) may have.
    """

    def __init__(self, kind: str, detail: str, code: ErrorCode = ErrorCode.BACKEND_UNAVAILABLE,
                 retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.code = code
        self.retry_after_s = retry_after_s

    @property
    def reached_court(self) -> bool:
        return self.kind in ("broken", "timeout", "oversized", "answered")


# --- the delivery record (delivery:{id}) ----------------------------------------------------------

PUBLIC_FIELDS = ("delivery_id", "operation", "court", "status", "attempts", "result", "error")


@dataclass
class DeliveryRecord:
    """What ``deliveries.get`` shows (``PUBLIC_FIELDS``), plus what delivery itself needs."""

    delivery_id: str
    operation: str
    court: str
    status: str  # queued | delivering | delivered | failed
    attempts: int = 0
    #: failed attempts that count towards the dead-letter limit (see gateway/resilience/deliverer.py)
    strikes: int = 0
    queued_at: float = 0.0
    result: Any = None
    error: dict[str, str] | None = None

    def dumps(self) -> bytes:
        return orjson.dumps({k: v for k, v in asdict(self).items() if v is not None})

    def record(self) -> Record:
        return delivery_key(self.delivery_id), self.dumps(), DELIVERY_TTL_S

    @classmethod
    def loads(cls, raw: bytes) -> DeliveryRecord:
        data = orjson.loads(raw)
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    @classmethod
    def fresh(cls, write: QueuedWrite, attempts: int = 0) -> DeliveryRecord:
        return cls(write.delivery_id, write.operation, write.court, "queued", attempts, 0, write.queued_at)


@dataclass(frozen=True)
class PendingWrite:
    """A queued write as court staff and operators see it: what, where, since when, how often tried.

    Never who or with what arguments: the actor and the body stay in the queue entry.
    """

    delivery_id: str
    court: str
    operation: str
    channel: str
    queued_at: float
    status: str  # queued | delivering (from the delivery record; "queued" if it has none yet)
    attempts: int

    def age_s(self, now: float) -> float:
        return max(0.0, now - self.queued_at)


def _pending_write(write: QueuedWrite, raw_record: bytes | None) -> PendingWrite:
    record = DeliveryRecord.loads(raw_record) if raw_record else DeliveryRecord.fresh(write)
    return PendingWrite(write.delivery_id, write.court, write.operation, write.channel, write.queued_at,
                        record.status, record.attempts)


def public_view(raw: bytes) -> dict[str, Any]:
    data = orjson.loads(raw)
    return {name: data[name] for name in PUBLIC_FIELDS if name in data}


# --- the port -----------------------------------------------------------------------------------


class Outbox(ABC):
    @property
    @abstractmethod
    def state(self) -> StateStore:
        """The state store this outbox lives in (its delivery records are there too)."""

    @abstractmethod
    async def prepare(self, courts: Sequence[str]) -> None:
        """Make sure every court's stream and consumer group exist (idempotent)."""

    @abstractmethod
    async def enqueue(self, write: QueuedWrite, records: Sequence[Record]) -> str:
        """Queue ``write`` and store ``records`` in one transaction; returns the entry id."""

    @abstractmethod
    async def read_new(self, courts: Sequence[str], consumer: str, count: int, block_s: float) -> list[Entry]:
        """Entries no consumer has had yet, at most ``count`` per court, waiting up to ``block_s``."""

    @abstractmethod
    async def read_pending(self, court: str, consumer: str, count: int, after: str = "0") -> list[Entry]:
        """This consumer's unsettled entries with ids above ``after``, oldest first."""

    @abstractmethod
    async def reclaim(self, court: str, consumer: str, min_idle_s: float, count: int) -> list[Entry]:
        """Take over entries another consumer has held for ``min_idle_s`` without settling them."""

    @abstractmethod
    async def settle(self, entry: Entry, records: Sequence[Record]) -> None:
        """Acknowledge and delete ``entry`` and store ``records``, in one transaction."""

    @abstractmethod
    async def dead_letter(self, entry: Entry, reason: str, records: Sequence[Record]) -> None:
        """Move ``entry`` to the dead-letter stream and store ``records``, in one transaction."""

    @abstractmethod
    async def backlog(self, court: str) -> int:
        """Entries of this court not yet settled (waiting or being delivered)."""

    @abstractmethod
    async def oldest(self, court: str, count: int) -> list[Entry]:
        """This court's ``count`` oldest unsettled entries (waiting or being delivered), without taking them."""

    async def pending(self, court: str, count: int = 20) -> list[PendingWrite]:
        """The oldest queued writes of a court (at most ``PENDING_LISTED_MAX``), each with its delivery
        record's status and attempts: one range read and one multi-get, however long the queue."""
        writes = [e.write for e in await self.oldest(court, max(0, min(count, PENDING_LISTED_MAX))) if e.write]
        records = await self.state.get_many([delivery_key(w.delivery_id) for w in writes]) if writes else []
        return [_pending_write(write, raw) for write, raw in zip(writes, records, strict=True)]

    @abstractmethod
    async def dead_letters(self, count: int = 100) -> list[dict[str, Any]]:
        """The oldest dead letters (each with its ``letter_id``), for operators and tests."""

    @abstractmethod
    async def redeliver(self, letter_id: str) -> QueuedWrite | None:
        """Put a dead letter back on its court's queue with a fresh delivery record, in one transaction
        (the console's "deliver again"); None when there is no such letter or its write is unreadable.
        The write keeps its court idempotency key, so a court that did take it once dedupes it."""


#: In-process outboxes by the state store they belong to. The queue is part of the state: a config
#: reload builds a new pipeline on the same state store, and must find the writes queued before.
_IN_PROCESS: weakref.WeakKeyDictionary[StateStore, MemoryOutbox] = weakref.WeakKeyDictionary()


def open_outbox(state: StateStore) -> Outbox:
    """The outbox living in ``state``: Redis streams for Redis, in-process queues otherwise."""
    if isinstance(state, RedisState):
        return RedisOutbox(state)
    outbox = _IN_PROCESS.get(state)
    if outbox is None:
        outbox = _IN_PROCESS[state] = MemoryOutbox(state)
    return outbox


# --- Redis ----------------------------------------------------------------------------------------


def _entries(court: str, items: Sequence[Any]) -> list[Entry]:
    found = []
    for raw_id, fields in items:
        entry_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
        data = fields.get(b"w") if fields else None
        found.append(Entry(entry_id, court, QueuedWrite.loads(data) if data else None))
    return found


class RedisOutbox(Outbox):
    def __init__(self, state: RedisState) -> None:
        self._state = state
        self._redis = state.client
        self._claim_cursor: dict[str, str] = {}

    @property
    def state(self) -> StateStore:
        return self._state

    async def prepare(self, courts: Sequence[str]) -> None:
        for court in courts:
            await self._state.call(functools.partial(self._create_group, court))

    async def _create_group(self, court: str) -> None:
        try:
            await self._redis.xgroup_create(stream_key(court), GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def enqueue(self, write: QueuedWrite, records: Sequence[Record]) -> str:
        async def work(pipe: Any) -> None:
            pipe.xadd(stream_key(write.court), {"w": write.dumps()})
            _set_all(pipe, records)

        results = await self._transaction(work)
        entry_id = results[0]
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def read_new(self, courts: Sequence[str], consumer: str, count: int, block_s: float) -> list[Entry]:
        if not courts:
            return []
        streams = {stream_key(court): ">" for court in courts}
        deadline = time.monotonic() + block_s
        while True:  # short blocking reads, so a hung Redis is noticed within the command timeout
            block_ms = max(1, int(min(deadline - time.monotonic(), MAX_BLOCK_S) * 1000))
            read = functools.partial(self._redis.xreadgroup, GROUP, consumer, streams,  # type: ignore[arg-type]
                                     count=count, block=block_ms)
            answer = await self._call(read)
            found = self._split(answer)
            if found or time.monotonic() >= deadline:
                return found

    async def read_pending(self, court: str, consumer: str, count: int, after: str = "0") -> list[Entry]:
        answer = await self._call(lambda: self._redis.xreadgroup(GROUP, consumer, {stream_key(court): after},
                                                                  count=count))
        return self._split(answer)

    async def reclaim(self, court: str, consumer: str, min_idle_s: float, count: int) -> list[Entry]:
        start = self._claim_cursor.get(court, "0-0")
        answer = await self._call(lambda: self._redis.xautoclaim(stream_key(court), GROUP, consumer,
                                                                  min_idle_time=int(min_idle_s * 1000),
                                                                  start_id=start, count=count))
        # Redis drops entries whose data is gone from the pending list itself (answer[2]).
        cursor, claimed = answer[0], answer[1]
        self._claim_cursor[court] = cursor.decode() if isinstance(cursor, bytes) else str(cursor)
        return _entries(court, [item for item in claimed if item and item[0] is not None])

    async def settle(self, entry: Entry, records: Sequence[Record]) -> None:
        async def work(pipe: Any) -> None:
            pipe.xack(stream_key(entry.court), GROUP, entry.entry_id)
            pipe.xdel(stream_key(entry.court), entry.entry_id)
            _set_all(pipe, records)

        await self._transaction(work)

    async def dead_letter(self, entry: Entry, reason: str, records: Sequence[Record]) -> None:
        letter = {"court": entry.court, "entry_id": entry.entry_id, "reason": reason, "at": repr(time.time()),
                  "w": entry.write.dumps() if entry.write else b""}

        async def work(pipe: Any) -> None:
            pipe.xadd(DEAD_LETTER_STREAM, letter, maxlen=DEAD_LETTER_MAXLEN, approximate=True)
            pipe.xack(stream_key(entry.court), GROUP, entry.entry_id)
            pipe.xdel(stream_key(entry.court), entry.entry_id)
            _set_all(pipe, records)

        await self._transaction(work)

    async def backlog(self, court: str) -> int:
        return int(await self._call(lambda: self._redis.xlen(stream_key(court))))

    async def oldest(self, court: str, count: int) -> list[Entry]:
        if count <= 0:
            return []
        return _entries(court, await self._call(lambda: self._redis.xrange(stream_key(court), count=count)))

    async def dead_letters(self, count: int = 100) -> list[dict[str, Any]]:
        items = await self._call(lambda: self._redis.xrange(DEAD_LETTER_STREAM, count=count))
        return [{"letter_id": _text(letter_id), **{k.decode(): v.decode() for k, v in fields.items()}}
                for letter_id, fields in items]

    async def redeliver(self, letter_id: str) -> QueuedWrite | None:
        found = await self._call(
            lambda: self._redis.xrange(DEAD_LETTER_STREAM, min=letter_id, max=letter_id, count=1))
        raw = found[0][1].get(b"w") if found else None
        write = QueuedWrite.loads(raw) if raw else None
        if write is None:
            return None

        async def work(pipe: Any) -> None:
            pipe.xadd(stream_key(write.court), {"w": write.dumps()})
            pipe.xdel(DEAD_LETTER_STREAM, letter_id)
            _set_all(pipe, [DeliveryRecord.fresh(write).record()])

        results = await self._transaction(work)
        # Another operator's "deliver again" in between removed the letter first: undo our copy.
        if int(results[1]) == 0:
            await self._call(lambda: self._redis.xdel(stream_key(write.court), results[0]))
            return None
        return write

    def _split(self, answer: Any) -> list[Entry]:
        found: list[Entry] = []
        for stream, items in answer or []:
            name = stream.decode() if isinstance(stream, bytes) else str(stream)
            found.extend(_entries(name.removeprefix(STREAM_PREFIX), items))
        return found

    async def _transaction(self, work: Any) -> list[Any]:
        if self._state.replicated:
            return await self._replicated_transaction(work)

        async def run() -> list[Any]:
            async with self._redis.pipeline(transaction=True) as pipe:
                await work(pipe)
                results: list[Any] = await pipe.execute()
                return results

        return await self._state.call(run)

    async def _replicated_transaction(self, work: Any) -> list[Any]:
        """MULTI ... EXEC, then WAIT for a replica, on one connection in one round trip.

        With Sentinel, a primary that has just been replaced keeps taking writes until it hears
        of it, and throws them away when it is demoted. A write no replica has seen, made on a
        server the sentinels no longer name as the primary, is therefore not taken as queued:
        the caller gets SERVICE_UNAVAILABLE and sends it again (the same Idempotency-Key keeps a
        second copy from reaching the court twice).
        """
        async def run() -> tuple[list[Any], tuple[str, int]]:
            async with self._redis.pipeline(transaction=False) as pipe:
                assert isinstance(pipe, Pipeline)  # Sentinel: one server at a time, never a cluster
                # Taken here (the pipeline gives it back) to know which server the write went to.
                connection = pipe.connection = await self._state.connection()
                pipe.execute_command("MULTI")
                await work(pipe)
                pipe.execute_command("EXEC")
                pipe.execute_command("WAIT", REPLICAS_TO_WAIT_FOR, WAIT_FOR_REPLICA_MS)
                results: list[Any] = await pipe.execute()
                return results, (connection.host, connection.port)

        results, server = await self._state.call(run)
        exec_results: list[Any] = results[-2]
        if int(results[-1]) >= REPLICAS_TO_WAIT_FOR:
            return exec_results
        # No replica has it: fine on the primary the sentinels name (its replica is away), a write
        # to be lost on a primary they have replaced.
        if await self._state.call(lambda: self._state.names_primary(server)):
            return exec_results
        raise StateUnavailable(self._state.health.failed(NotReplicated()))

    async def _call(self, command: Callable[[], Awaitable[Any]]) -> Any:
        # A NOGROUP (the stream removed under us, FLUSHALL) is a StateUnavailable like any other
        # failure: the delivery loop sets its streams up again next round.
        return await self._state.call(command)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _set_all(pipe: Any, records: Sequence[Record]) -> None:
    for key, value, ttl_s in records:
        pipe.set(key, value, px=max(1, int(ttl_s * 1000)) if ttl_s else None)


# --- one process ----------------------------------------------------------------------------------


@dataclass
class _Stream:
    entries: OrderedDict[str, bytes] = field(default_factory=OrderedDict)
    unread: list[str] = field(default_factory=list)
    #: entry id -> (consumer, when it was last handed out)
    pending: dict[str, tuple[str, float]] = field(default_factory=dict)


class MemoryOutbox(Outbox):
    """The same semantics in one process: nothing survives a restart (``demo`` only)."""

    def __init__(self, state: StateStore) -> None:
        self._state = state
        self._streams: dict[str, _Stream] = {}
        self._dead: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()

    @property
    def state(self) -> StateStore:
        return self._state

    def _stream(self, court: str) -> _Stream:
        return self._streams.setdefault(court, _Stream())

    async def prepare(self, courts: Sequence[str]) -> None:
        for court in courts:
            self._stream(court)

    async def enqueue(self, write: QueuedWrite, records: Sequence[Record]) -> str:
        entry_id = f"{int(time.time() * 1000)}-{next(self._ids)}"
        stream = self._stream(write.court)
        stream.entries[entry_id] = write.dumps()
        stream.unread.append(entry_id)
        await self._store(records)
        self._arrived.set()
        return entry_id

    async def read_new(self, courts: Sequence[str], consumer: str, count: int, block_s: float) -> list[Entry]:
        found = self._take_new(courts, consumer, count)
        if found or block_s <= 0:
            return found
        self._arrived.clear()
        try:
            await asyncio.wait_for(self._arrived.wait(), block_s)
        except TimeoutError:
            return []
        return self._take_new(courts, consumer, count)

    def _take_new(self, courts: Sequence[str], consumer: str, count: int) -> list[Entry]:
        found: list[Entry] = []
        now = time.monotonic()
        for court in courts:
            stream = self._stream(court)
            taken, stream.unread = stream.unread[:count], stream.unread[count:]
            for entry_id in taken:
                stream.pending[entry_id] = (consumer, now)
                found.append(self._entry(court, entry_id))
        return found

    async def read_pending(self, court: str, consumer: str, count: int, after: str = "0") -> list[Entry]:
        stream = self._stream(court)
        now = time.monotonic()
        mine = [i for i, (owner, _) in stream.pending.items() if owner == consumer and _id_key(i) > _id_key(after)]
        mine.sort(key=_id_key)
        for entry_id in mine[:count]:
            stream.pending[entry_id] = (consumer, now)
        return [self._entry(court, entry_id) for entry_id in mine[:count]]

    async def reclaim(self, court: str, consumer: str, min_idle_s: float, count: int) -> list[Entry]:
        stream = self._stream(court)
        now = time.monotonic()
        idle = sorted((i for i, (owner, at) in stream.pending.items() if owner != consumer and now - at >= min_idle_s),
                      key=_id_key)[:count]
        for entry_id in idle:
            stream.pending[entry_id] = (consumer, now)
        return [self._entry(court, entry_id) for entry_id in idle]

    async def settle(self, entry: Entry, records: Sequence[Record]) -> None:
        self._remove(entry)
        await self._store(records)

    async def dead_letter(self, entry: Entry, reason: str, records: Sequence[Record]) -> None:
        self._dead.append({"letter_id": f"{int(time.time() * 1000)}-{next(self._ids)}", "court": entry.court,
                           "entry_id": entry.entry_id, "reason": reason, "at": repr(time.time()),
                           "w": entry.write.dumps().decode() if entry.write else ""})
        del self._dead[:-DEAD_LETTER_MAXLEN]
        self._remove(entry)
        await self._store(records)

    async def backlog(self, court: str) -> int:
        return len(self._stream(court).entries)

    async def oldest(self, court: str, count: int) -> list[Entry]:
        ids = list(itertools.islice(self._stream(court).entries, max(0, count)))
        return [self._entry(court, entry_id) for entry_id in ids]

    async def dead_letters(self, count: int = 100) -> list[dict[str, Any]]:
        return self._dead[:count]

    async def redeliver(self, letter_id: str) -> QueuedWrite | None:
        letter = next((d for d in self._dead if d["letter_id"] == letter_id), None)
        write = QueuedWrite.loads(letter["w"].encode()) if letter and letter["w"] else None
        if letter is None or write is None:
            return None
        self._dead.remove(letter)
        await self.enqueue(write, [DeliveryRecord.fresh(write).record()])
        return write

    def _entry(self, court: str, entry_id: str) -> Entry:
        raw = self._stream(court).entries.get(entry_id)
        return Entry(entry_id, court, QueuedWrite.loads(raw) if raw else None)

    def _remove(self, entry: Entry) -> None:
        stream = self._stream(entry.court)
        stream.pending.pop(entry.entry_id, None)
        stream.entries.pop(entry.entry_id, None)

    async def _store(self, records: Sequence[Record]) -> None:
        # The memory state never yields inside set(): these writes and the queue change above
        # happen without another task running in between, like the Redis transaction.
        for key, value, ttl_s in records:
            await self._state.set(key, value, ttl_s)


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms or 0), int(seq or 0)
