"""What the console pages show, read through the gateway's own objects (the SLA timers and board, the
outbox, the breakers, the metrics registry, the recent-requests ring): nothing is computed twice.

Nothing personal leaves here: board items carry case numbers and opaque handler references (staff
see their own court's work), dead letters show the operation and court but not the arguments,
phones are masked, and the running config is shown with every secret as its variable's name.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from gateway.config.env_values import EnvSecret
from gateway.metrics import REQUESTS, UPSTREAM_SECONDS
from gateway.recent import RECENT, RecentRequest
from gateway.sla.board import BoardItem, board
from gateway.sla.calendar import CHINA
from gateway.sla.timers import plan

if TYPE_CHECKING:
    from gateway.app import Runtime

ROLE_LABELS = {"handler": "承办人", "division_head": "庭长", "vice_president": "分管副院长", "president": "院长"}
READ_LIMIT = 20_000  # open timers one board view reads at most, as the JSON board does
DEAD_LETTERS_SHOWN = 200
PENDING_SHOWN = 50  # the oldest queued writes a deliveries page lists (the count above it is exact)
HEALTH_TIMEOUT_NOTE = "无应答"


def local_time(moment: float | None) -> str:
    if moment is None:
        return "—"
    return datetime.fromtimestamp(moment, CHINA).strftime("%Y-%m-%d %H:%M")


def mask_phone(phone: str) -> str:
    """138****5678: enough for staff to recognise a number, not to dial it from a screenshot."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


# --------------------------------------------------------------------------- the overdue board


@dataclass(frozen=True)
class Notice:
    """One reminder or escalation that went out: who (roles) was told, when."""

    label: str
    roles: tuple[str, ...]
    at: str


@dataclass(frozen=True)
class BoardRow:
    item: BoardItem
    deadline: str
    rung_level: int
    notices: list[Notice]


@dataclass(frozen=True)
class BoardFilters:
    court: str
    operation: str | None = None
    rung: int | None = None  # 0: no rung yet
    status: str | None = None


async def board_rows(runtime: Runtime, filters: BoardFilters) -> tuple[list[BoardRow], list[str]]:
    """The court's board filtered, and every operation the court has open items of (for the filter)."""
    timers = runtime.sla.timers
    items = board(await timers.open_timers(filters.court, READ_LIMIT), timers.rule, time.time())
    operations = sorted({item.timer.operation for item in items})
    rows = []
    for item in items:
        level = item.rung["level"] if item.rung else 0
        if filters.operation and item.timer.operation != filters.operation:
            continue
        if filters.rung is not None and level != filters.rung:
            continue
        if filters.status and item.status != filters.status:
            continue
        rows.append(BoardRow(item, local_time(item.timer.deadline_at), level, _notices(runtime, item)))
    return rows, operations


def _notices(runtime: Runtime, item: BoardItem) -> list[Notice]:
    timer = item.timer
    rule = runtime.sla.timers.rule(timer.operation)
    if rule is None:
        return []
    shown = []
    for step in plan(rule, timer.due):
        fired = timer.fired.get(step.key)
        if fired is None:
            continue
        label = f"第{step.level}级督办" if step.kind == "escalation" else f"到期前{-step.after_days}天提醒"
        shown.append(Notice(label, tuple(ROLE_LABELS.get(role, role) for role in step.roles), local_time(fired)))
    return shown


# --------------------------------------------------------------------------- queued writes


@dataclass(frozen=True)
class DeadLetter:
    letter_id: str
    court: str
    operation: str
    delivery_id: str
    reason: str
    at: str


STATUS_LABELS = {"queued": "等待投递", "delivering": "投递中"}


@dataclass(frozen=True)
class PendingRow:
    """One queued write on the deliveries page: no person, no arguments (gateway/resilience/outbox.py)."""

    delivery_id: str
    operation: str
    channel: str
    queued_at: str
    age: str
    status: str
    attempts: int


def age_text(seconds: float) -> str:
    """How long a write has waited, in the words a duty officer reads at a glance."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "不到1分钟"
    if minutes < 60:
        return f"{minutes}分钟"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}小时{minutes}分钟"
    days, hours = divmod(hours, 24)
    return f"{days}天{hours}小时"


async def pending_writes(runtime: Runtime, court: str, now: float | None = None) -> list[PendingRow]:
    """The court's oldest queued writes, oldest first."""
    outbox = runtime.gateway.pipeline.outbox
    if outbox is None:
        return []
    moment = time.time() if now is None else now
    return [PendingRow(p.delivery_id, p.operation, p.channel, local_time(p.queued_at), age_text(p.age_s(moment)),
                       STATUS_LABELS.get(p.status, p.status), p.attempts)
            for p in await outbox.pending(court, PENDING_SHOWN)]


async def backlogs(runtime: Runtime, courts: list[str]) -> dict[str, int]:
    outbox = runtime.gateway.pipeline.outbox
    if outbox is None:
        return {}
    counts = await asyncio.gather(*(outbox.backlog(court) for court in courts))
    return dict(zip(courts, counts, strict=True))


async def dead_letters(runtime: Runtime, courts: set[str]) -> list[DeadLetter]:
    outbox = runtime.gateway.pipeline.outbox
    if outbox is None:
        return []
    letters = []
    for raw in await outbox.dead_letters(DEAD_LETTERS_SHOWN):
        if raw.get("court") not in courts:
            continue
        try:
            write = orjson.loads(raw.get("w") or b"{}")
        except orjson.JSONDecodeError:
            write = {}
        at = float(raw["at"]) if raw.get("at") else None
        letters.append(DeadLetter(str(raw.get("letter_id", "")), str(raw["court"]), str(write.get("operation", "?")),
                                  str(write.get("delivery_id", "?")), str(raw.get("reason", "")), local_time(at)))
    return letters


async def dead_letter_court(runtime: Runtime, letter_id: str) -> str | None:
    """The court a dead letter belongs to (to check the staff member may touch it)."""
    outbox = runtime.gateway.pipeline.outbox
    if outbox is None:
        return None
    for raw in await outbox.dead_letters(DEAD_LETTERS_SHOWN):
        if raw.get("letter_id") == letter_id:
            return str(raw.get("court"))
    return None


# --------------------------------------------------------------------------- contacts


@dataclass(frozen=True)
class ContactRow:
    role: str
    phones: list[str]


def contacts(runtime: Runtime, court: str) -> tuple[list[ContactRow], list[ContactRow]]:
    """Each role's phones and each handler reference's phone, masked."""
    settings = runtime.config.courts[court].contacts
    roles = [ContactRow(ROLE_LABELS.get(role, role), [mask_phone(p) for p in settings.phones(role)])
             for role in ("division_head", "vice_president", "president")]
    handlers = [ContactRow(ref, [mask_phone(phone)]) for ref, phone in sorted(settings.handler_phones.items())]
    return roles, handlers


# --------------------------------------------------------------------------- operators


@dataclass
class CourtHealth:
    code: str
    name: str
    up: bool
    latency_ms: float | None
    breaker: str
    backlog: int
    mean_upstream_ms: float | None


async def court_health(runtime: Runtime) -> list[CourtHealth]:
    """A fresh health check of every court (with its round-trip time), the breaker, the queue."""
    breakers = runtime.gateway.pipeline.resilience.states() if runtime.gateway.pipeline.resilience else {}
    codes = list(runtime.transports)
    queued = await backlogs(runtime, codes)
    upstream = _mean_upstream_ms()

    async def one(code: str) -> CourtHealth:
        started = time.perf_counter()
        try:
            answer = await asyncio.wait_for(runtime.transports[code].request("GET", "/api/v1/health", headers={}), 5)
            up = answer.status == 200
        except Exception:  # noqa: BLE001 - any failure of the health call means "down"
            up = False
        latency = round((time.perf_counter() - started) * 1000, 1)
        runtime.court_up[code] = up
        return CourtHealth(code, runtime.config.courts[code].name, up, latency if up else None,
                           breakers.get(code, "closed"), queued.get(code, 0), upstream.get(code))

    return list(await asyncio.gather(*(one(code) for code in codes)))


def _samples(metric: Any) -> list[Any]:
    return [sample for family in metric.collect() for sample in family.samples]


def _mean_upstream_ms() -> dict[str, float]:
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, float] = defaultdict(float)
    for sample in _samples(UPSTREAM_SECONDS):
        if sample.name.endswith("_sum"):
            sums[sample.labels["court"]] += sample.value
        elif sample.name.endswith("_count"):
            counts[sample.labels["court"]] += sample.value
    return {court: round(sums[court] / counts[court] * 1000, 1) for court in counts if counts[court]}


@dataclass
class ChannelTraffic:
    channel: str
    requests: int = 0
    errors: int = 0
    by_code: dict[str, int] = field(default_factory=dict)

    @property
    def error_rate(self) -> str:
        return f"{self.errors / self.requests:.1%}" if self.requests else "—"


#: codes that are the caller's own doing; they are counted, but are not the channel's errors
CALLER_CODES = frozenset({"OK", "NOT_FOUND", "VALIDATION_FAILED", "INVALID_CASE_NUMBER", "INVALID_ID_NUMBER"})


def channel_traffic(runtime: Runtime) -> list[ChannelTraffic]:
    """Requests and errors per channel since this process started (the counters /metrics exports)."""
    traffic = {name: ChannelTraffic(name) for name in runtime.adapters}
    for sample in _samples(REQUESTS):
        if not sample.name.endswith("_total"):
            continue
        channel, code = sample.labels["channel"], sample.labels["code"]
        row = traffic.setdefault(channel, ChannelTraffic(channel))
        row.requests += int(sample.value)
        row.by_code[code] = row.by_code.get(code, 0) + int(sample.value)
        if code not in CALLER_CODES:
            row.errors += int(sample.value)
    return sorted(traffic.values(), key=lambda row: row.channel)


def running_config(runtime: Runtime) -> str:
    """The running config as YAML, every secret shown as the name of its variable."""
    import yaml

    dumped = runtime.config.model_dump(mode="python", exclude_none=True)
    text: str = yaml.safe_dump(_without_secrets(dumped), allow_unicode=True, sort_keys=False, width=100)
    return text


def _without_secrets(value: Any) -> Any:
    if isinstance(value, EnvSecret):
        return f"${{{value.name}}}"
    if isinstance(value, dict):
        return {str(k): _without_secrets(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_without_secrets(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def recent_requests(count: int = 100) -> list[RecentRequest]:
    return RECENT.latest(count)
