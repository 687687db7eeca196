"""A call's arguments checked against its operation's model, before anything else is done."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from gateway.calls import validation_error
from gateway.catalog import Operation
from gateway.logs import get_logger

_log = get_logger("court_gateway.pipeline")


def validate_args(op: Operation, raw: Mapping[str, Any]) -> dict[str, Any]:
    try:
        model = op.args.model_validate(dict(raw))
    except ValidationError as exc:
        raise validation_error(exc) from None
    return model.model_dump(mode="json", exclude_none=True)


def warn_of_manual_review(op: Operation, args: dict[str, Any], request_id: str) -> None:
    """A USCC that fails only its check character goes to the court flagged for review by hand
    (DOMAIN.md section 3); the log says where, never the number."""
    for role in ("plaintiffs", "defendants", "third_parties", "applicants", "respondents"):
        for index, party in enumerate(args.get(role) or []):
            if isinstance(party, dict) and party.get("review") == "manual":
                _log.warning("id number sent for manual review", operation=op.id, field=f"{role}[{index}].id_number",
                             reason="USCC check character", request_id=request_id)
