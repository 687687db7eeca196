"""Per-court in-memory state: the seeded cases plus everything citizens create.

Each court has its own :class:`CourtState` (a real court system knows only its
own cases). Records created through the API remember their creator (``sub``
and, when known, ID type and number) because "own" reads are filtered to the
actor. The idempotency store keeps the first successful answer per
``Idempotency-Key``, which is what makes the gateway's redelivery safe.
"""

from __future__ import annotations

import copy
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reference_court.auth import Actor
from reference_court.seed import Case, CourtSeed, Party

FILING_LABELS = {
    "SUBMITTED": "已提交，待审核",
    "UNDER_REVIEW": "审核中",
    "CORRECTION_REQUIRED": "需补正材料",
    "ACCEPTED": "审核通过",
    "REJECTED": "审核不通过",
    "CANCELLED": "已撤回",
    "DOCKETED": "已立案",
    "NOT_ACCEPTED": "不予立案",
}
#: statuses after which a filing no longer moves (DOMAIN.md section 4)
FILING_FINAL = frozenset({"REJECTED", "CANCELLED", "DOCKETED", "NOT_ACCEPTED"})
#: a filing can still be withdrawn by its filer only before the court decides
FILING_CANCELLABLE = frozenset({"SUBMITTED", "UNDER_REVIEW", "CORRECTION_REQUIRED"})

APPLICATION_KINDS = {
    "appeal": "上诉",
    "certificate": "生效证明",
    "file_review": "阅卷",
    "enforcement": "申请执行",
    "refund": "退费",
    "petition": "信访",
}
APPLICATION_LABELS = {
    "SUBMITTED": "已提交", "UNDER_REVIEW": "审核中", "CORRECTION_REQUIRED": "需补正材料", "ACCEPTED": "已受理",
    "REJECTED": "不予受理", "CANCELLED": "已撤回",
    "APPLIED": "已申请", "RETURNED_FOR_CORRECTION": "退回补正", "APPROVED": "已批准", "REFUNDED": "已退费",
    "FAILED": "退费失败",
    "RECEIVED": "已接收", "ANSWERED": "已答复", "DISPATCHED": "已转办", "REPLIED": "已回复", "CLOSED": "已办结",
}
#: the lifecycle each kind follows (DOMAIN.md section 4): initial status, allowed statuses, final ones
APPLICATION_FLOWS: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    "application": ("SUBMITTED",
                    frozenset({"SUBMITTED", "UNDER_REVIEW", "CORRECTION_REQUIRED", "ACCEPTED", "REJECTED", "CANCELLED"}),
                    frozenset({"ACCEPTED", "REJECTED", "CANCELLED"})),
    "refund": ("APPLIED", frozenset({"APPLIED", "RETURNED_FOR_CORRECTION", "APPROVED", "REFUNDED", "FAILED"}),
               frozenset({"REFUNDED", "FAILED"})),
    "ticket": ("RECEIVED", frozenset({"RECEIVED", "ANSWERED", "DISPATCHED", "REPLIED", "CLOSED"}),
               frozenset({"CLOSED"})),
}


def flow_of(kind: str) -> tuple[str, frozenset[str], frozenset[str]]:
    if kind == "refund":
        return APPLICATION_FLOWS["refund"]
    if kind == "petition":
        return APPLICATION_FLOWS["ticket"]
    return APPLICATION_FLOWS["application"]


@dataclass(frozen=True)
class Owner:
    """Who created a record: the gateway's pseudonym and, for real-name actors, the ID."""

    sub: str
    id_type: str | None
    id_number: str | None

    @classmethod
    def of(cls, actor: Actor) -> Owner:
        return cls(actor.sub, actor.id_type, actor.id_number)

    def matches(self, actor: Actor) -> bool:
        if self.sub == actor.sub:
            return True
        return self.id_number is not None and actor.identity == (self.id_type, self.id_number)


@dataclass
class Record:
    """Base of everything citizens create: an id, its creator and a status history."""

    id: str
    owner: Owner
    status: str
    created_at: str
    history: list[dict[str, Any]] = field(default_factory=list)

    def move(self, status: str, at: str, **extra: Any) -> None:
        self.status = status
        entry: dict[str, Any] = {"status": status, "at": at}
        entry.update({k: v for k, v in extra.items() if v is not None})
        self.history.append(entry)

    @property
    def updated_at(self) -> str:
        return self.history[-1]["at"] if self.history else self.created_at


@dataclass
class Filing(Record):
    court: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    case_no: str | None = None
    reason: str | None = None
    correction_items: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"filing_id": self.id, "court": self.court, "status": self.status, "submitted_at": self.created_at}

    def public(self) -> dict[str, Any]:
        args = self.args
        return {
            **self.summary(),
            "status_label": FILING_LABELS[self.status],
            "case_type": args["case_type"],
            "cause": args["cause"],
            "plaintiffs": [p["name"] for p in args["plaintiffs"]],
            "defendants": [p["name"] for p in args["defendants"]],
            "amount": args.get("amount"),
            "documents": args.get("documents", []),
            "case_no": self.case_no,
            "reason": self.reason,
            "correction_items": self.correction_items,
            "history": self.history,
            "updated_at": self.updated_at,
        }


@dataclass
class Application(Record):
    court: str = ""
    kind: str = ""
    case_no: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"application_id": self.id, "kind": self.kind, "status": self.status, "submitted_at": self.created_at}

    def public(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "kind_label": APPLICATION_KINDS[self.kind],
            "status_label": APPLICATION_LABELS.get(self.status, self.status),
            "court": self.court,
            "case_no": self.case_no,
            "details": self.details,
            "history": self.history,
            "updated_at": self.updated_at,
        }


#: kinds of :class:`Item` and the name their id has in answers
ITEM_ID_FIELDS = {
    "mediation": "mediation_id",
    "consultation": "consultation_id",
    "witness": "witness_id",
    "message": "message_id",
    "submission": "submission_id",
    "payment": "payment_id",
}


@dataclass
class Item(Record):
    """Mediations, consultations, witnessing appointments, submissions, judge messages, payments."""

    court: str = ""
    kind: str = ""
    case_no: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        body: dict[str, Any] = {ITEM_ID_FIELDS[self.kind]: self.id, "court": self.court, "status": self.status}
        if self.case_no is not None:
            body["case_no"] = self.case_no
        body.update(self.fields)
        body["history"] = self.history
        body["updated_at"] = self.updated_at
        return body


@dataclass
class Upload:
    upload_id: str
    owner: Owner
    sha256: str
    size: int
    content_type: str
    file_name: str | None
    created_at: str
    data: bytes | None  # dropped (kept as metadata only) when the store needs room

    def public(self) -> dict[str, Any]:
        return {"upload_id": self.upload_id, "sha256": self.sha256, "size": self.size,
                "content_type": self.content_type}


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: bytes
    media_type: str


class IdempotencyStore:
    """First successful answer per key, bounded (the oldest keys go first)."""

    def __init__(self, limit: int = 200_000) -> None:
        self._answers: OrderedDict[str, StoredAnswer] = OrderedDict()
        self._limit = limit

    def get(self, key: str) -> StoredAnswer | None:
        return self._answers.get(key)

    def put(self, key: str, answer: StoredAnswer) -> None:
        self._answers[key] = answer
        while len(self._answers) > self._limit:
            self._answers.popitem(last=False)

    def __len__(self) -> int:
        return len(self._answers)


class UploadStore:
    """Upload bytes in memory, bounded in total: the oldest files lose their bytes first."""

    def __init__(self, byte_limit: int) -> None:
        self._uploads: OrderedDict[str, Upload] = OrderedDict()
        self._byte_limit = byte_limit
        self._bytes = 0

    def add(self, upload: Upload) -> None:
        self._uploads[upload.upload_id] = upload
        self._bytes += len(upload.data or b"")
        for old in self._uploads.values():
            if self._bytes <= self._byte_limit:
                break
            if old.data is not None and old is not upload:
                self._bytes -= len(old.data)
                old.data = None

    def get(self, upload_id: str) -> Upload | None:
        return self._uploads.get(upload_id)

    def __len__(self) -> int:
        return len(self._uploads)


class CourtState:
    """Everything one court knows. Mutated only by synchronous code, so no awaits split a change."""

    def __init__(self, seed: CourtSeed, upload_bytes: int = 64 * 2**20) -> None:
        self.code = seed.code
        self.name = seed.name
        self.digits = seed.code.lstrip("粤") or seed.code
        self.cases: dict[str, Case] = {case.case_no: copy.deepcopy(case) for case in seed.cases}
        self.filings: dict[str, Filing] = {}
        self.applications: dict[str, Application] = {}
        self.items: dict[str, Item] = {}  # mediations, consultations, witnesses, messages, submissions, payments
        self.uploads = UploadStore(upload_bytes)
        self.idempotency = IdempotencyStore()

    @property
    def full_name(self) -> str:
        """The name a payee line or a document header carries (广州市天河区人民法院)."""
        if self.name.startswith(("广州", "广东")):
            return self.name
        return "广州市" + self.name

    def new_id(self, prefix: str) -> str:
        # The court code keeps ids unique across courts (the gateway maps id -> court); the random
        # part keeps them unique across restarts of this in-memory court.
        return f"{prefix}-{self.digits}-{uuid.uuid4().hex[:12]}"

    def next_case_number(self, case_type: str, now: datetime) -> str:
        prefix = f"（{now.year}）{self.code}{case_type}"
        used = [int(no[len(prefix):-1]) for no in self.cases if no.startswith(prefix) and no[len(prefix):-1].isdigit()]
        return f"{prefix}{max(used + [30000]) + 1}号"

    def participant(self, case: Case, actor: Actor) -> Party | None:
        for party in case.parties:
            if not party.left and actor.is_person(party.person.id_type, party.person.id_number):
                return party
        return None

    def cases_of(self, actor: Actor) -> list[tuple[Case, Party]]:
        found = []
        for case in self.cases.values():
            party = self.participant(case, actor)
            if party is not None:
                found.append((case, party))
        return found

    def add_item(self, item: Item) -> Item:
        self.items[item.id] = item
        return item

    def item(self, kind: str, item_id: str) -> Item | None:
        found = self.items.get(item_id)
        return found if found is not None and found.kind == kind else None
