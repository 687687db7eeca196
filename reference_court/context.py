"""What every operation handler works with: the court's state, the actor, the time.

Handlers are synchronous: once the request is parsed nothing awaits until the
answer is stored, so two deliveries of one write cannot interleave (see
``court.py``). The helpers here are the access rules of CONTRACTS.md section 3:
participant routes answer ``NOT_FOUND`` for strangers exactly as for missing
cases; "own" items answer ``NOT_FOUND`` for anybody but their creator.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reference_court import timeutil
from reference_court.auth import Actor
from reference_court.contract.case_numbers import CaseNo, NotACaseNumber, read_case_no
from reference_court.contract.shapes import DocumentRef
from reference_court.problems import CourtError, not_found, validation_failed
from reference_court.seed import Case, Party
from reference_court.store import Application, CourtState, Filing, Item, Upload


@dataclass
class Outcome:
    """A JSON answer; ``status`` None means the operation's usual success status."""

    body: Any
    status: int | None = None


def parse_number(text: str, field_name: str = "case_no") -> CaseNo:
    try:
        return read_case_no(text)
    except NotACaseNumber:
        raise validation_failed(field_name, "案号格式不正确，请按“（2024）粤0106民初88号”的格式填写。",
                                "INVALID_CASE_NUMBER") from None


@dataclass
class OpContext:
    state: CourtState
    actor: Actor
    now: datetime

    @property
    def stamp(self) -> str:
        return timeutil.iso(self.now)

    # --- cases -----------------------------------------------------------------------------

    def case(self, case_no: str) -> Case:
        """A case of this court by number; a legacy number only if this court holds it."""
        number = parse_number(case_no)
        if number.court is not None and number.court != self.state.code:
            raise not_found()
        case = self.state.cases.get(number.text)
        if case is None:
            raise not_found()
        return case

    def participant_case(self, case_no: str) -> tuple[Case, Party]:
        case = self.case(case_no)
        party = self.state.participant(case, self.actor)
        if party is None:
            raise not_found()  # identical to a missing case: no enumeration (DOMAIN.md section 6)
        return case, party

    # --- own items -------------------------------------------------------------------------

    def own_filing(self, filing_id: str) -> Filing:
        filing = self.state.filings.get(filing_id)
        if filing is None or not filing.owner.matches(self.actor):
            raise not_found()
        return filing

    def own_application(self, application_id: str) -> Application:
        application = self.state.applications.get(application_id)
        if application is None or not application.owner.matches(self.actor):
            raise not_found()
        return application

    def own_item(self, kind: str, item_id: str) -> Item:
        item = self.state.item(kind, item_id)
        if item is None or not item.owner.matches(self.actor):
            raise not_found()
        return item

    def own_uploads(self, documents: Sequence[DocumentRef], field_name: str = "documents") -> list[dict[str, Any]]:
        """The referenced uploads, each of which this actor must have uploaded to this court."""
        found = []
        for document in documents:
            upload: Upload | None = self.state.uploads.get(document.upload_id)
            if upload is None or not upload.owner.matches(self.actor):
                raise not_found(f"{field_name}：上传文件不存在或已失效，请重新上传。")
            found.append({"upload_id": upload.upload_id, "name": document.name, "sha256": upload.sha256,
                          "size": upload.size, "content_type": upload.content_type})
        return found

    # --- arguments -------------------------------------------------------------------------

    def same_court(self, court: str | None) -> None:
        if court is not None and court != self.state.code:
            raise validation_failed("court", f"本系统为{self.state.name}（{self.state.code}），不受理{court}的业务。")

    def require_identity(self, what: str) -> tuple[str, str]:
        identity = self.actor.identity
        if identity is None:
            raise CourtError(403, "ASSURANCE_TOO_LOW", f"{what}需要先完成实名认证。")
        return identity

    def require_l3(self, what: str) -> None:
        if self.actor.assurance != "L3":
            raise CourtError(403, "ASSURANCE_TOO_LOW", f"{what}需要实名认证并通过人脸识别。")


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, offset = text.partition(":")
        if kind == "o" and offset.isdigit():
            return int(offset)
    except ValueError:
        pass
    raise validation_failed("cursor", "分页游标无效，请从第一页重新查询。")


def page(items: list[dict[str, Any]], cursor: str | None, limit: int) -> dict[str, Any]:
    """``{"items", "next_cursor"}`` over a list already in display order (newest first)."""
    start = decode_cursor(cursor)
    chunk = items[start:start + limit]
    more = start + limit < len(items)
    return {"items": chunk, "next_cursor": encode_cursor(start + limit) if more else None}
