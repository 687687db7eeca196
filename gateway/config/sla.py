"""Time-limit rules (CONTRACTS.md section 8) and their defaults (DOMAIN.md section 5).

A rule belongs to a write operation: the timer starts when the gateway accepts
the write and stops on the court's event. Reminders go to the handler before
the deadline; escalation rungs name roles whose phones come from the court's
contacts, all sent by SMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from gateway.catalog import BY_ID
from gateway.config.types import Frozen, fail, problem

Role = Literal["handler", "division_head", "vice_president", "president"]
Counting = Literal["calendar", "working"]


def _unique_roles(roles: tuple[Role, ...]) -> tuple[Role, ...]:
    if not roles:
        raise problem("no_roles", "name at least one role")
    if len(set(roles)) != len(roles):
        raise problem("duplicate_role", "a role is listed twice")
    return roles


class EscalationRung(Frozen):
    """Tell these roles when the deadline is ``after_days`` behind (negative: still ahead)."""

    after_days: int = Field(ge=-365, le=365, description="days after the deadline; negative = before it")
    roles: Annotated[tuple[Role, ...], AfterValidator(_unique_roles)]


class SlaRule(Frozen):
    deadline_days: int = Field(ge=1, le=3650, description="the time limit, counted from the day after acceptance")
    counting: Counting = Field("calendar", description="calendar days, or working days (statutory calendar, 调休)")
    reminders_before_days: tuple[int, ...] = Field((), description="remind the handler this many days before")
    escalation: tuple[EscalationRung, ...] = Field((), description="rungs in increasing after_days")

    @model_validator(mode="after")
    def _consistent(self) -> SlaRule:
        for index, days in enumerate(self.reminders_before_days):
            if days in self.reminders_before_days[:index]:
                raise fail("SlaRule", ("reminders_before_days", index), "listed twice", days)
            if not 0 < days < self.deadline_days:
                raise fail("SlaRule", ("reminders_before_days", index),
                           f"must be at least 1 and less than deadline_days ({self.deadline_days})", days)
        steps = [rung.after_days for rung in self.escalation]
        for index in range(1, len(steps)):
            if steps[index] <= steps[index - 1]:
                raise fail("SlaRule", ("escalation", index, "after_days"),
                           "rungs must be in strictly increasing after_days", steps[index])
        if steps and steps[0] <= -self.deadline_days:
            raise fail("SlaRule", ("escalation", 0, "after_days"),
                       "the first rung falls before the timer starts", steps[0])
        return self

    @property
    def sends_sms(self) -> bool:
        return bool(self.reminders_before_days or self.escalation)


#: Guangzhou's "接诉即答、接单即办" ladder (DOMAIN.md section 5, inferred): handler and
#: division head at the deadline, the vice-president in charge a day later, the president the day after.
_LADDER: tuple[dict[str, Any], ...] = (
    {"after_days": 0, "roles": ("handler", "division_head")},
    {"after_days": 1, "roles": ("vice_president",)},
    {"after_days": 2, "roles": ("president",)},
)


def _default(days: int, counting: Counting) -> SlaRule:
    # The handler hears two days ahead (one for the two-day limits, where two would be the start).
    reminder = 2 if days > 2 else 1
    return SlaRule(deadline_days=days, counting=counting, reminders_before_days=(reminder,),
                   escalation=tuple(EscalationRung(**rung) for rung in _LADDER))


def default_sla_rules() -> dict[str, SlaRule]:
    """DOMAIN.md section 5, keyed by operation id; ``sla.rules`` in the config overrides them per key."""
    return {
        # 登记立案规定 art. 8: decide on a filing within 7 days of receipt.
        "filings.submit": _default(7, "calendar"),
        # Guangdong 12368 norm: a work order forwarded to a judge is answered within 2 working days.
        "judge_messages.send": _default(2, "working"),
        "consultations.create": _default(2, "working"),
        # 诉讼费用交纳办法 art. 53: refund within 15 days.
        "refunds.apply": _default(15, "calendar"),
        # 穗中法〔2020〕121号: register the effective date within 5 days.
        "certificates.request": _default(5, "calendar"),
        # Online mediation rules: 30 days, extendable by agreement.
        "mediations.apply": _default(30, "calendar"),
    }


def merge_rule_overrides(raw: object) -> object:
    """Apply ``sla.rules`` over the defaults, key by key; ``null`` switches a rule off.

    Runs before validation so that a partial override (only ``deadline_days``)
    keeps the default's other keys, and a rule for a new operation must be complete.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return raw
    merged: dict[object, object] = {op: rule.model_dump() for op, rule in default_sla_rules().items()}
    for op, override in raw.items():
        base = merged.get(op)
        if isinstance(override, Mapping) and isinstance(base, dict):
            merged[op] = {**base, **override}
        else:
            merged[op] = override
    return {op: rule for op, rule in merged.items() if rule is not None}


def _write_operation(op_id: str) -> str:
    operation = BY_ID.get(op_id)
    if operation is None:
        raise problem("unknown_operation", "unknown operation id {op_id}", op_id=op_id)
    if not operation.is_write:
        raise problem("read_operation", "{op_id} is a read; only writes start time limits", op_id=op_id)
    return op_id


OperationWithSla = Annotated[
    str,
    AfterValidator(_write_operation),
    WithJsonSchema({"type": "string", "enum": sorted(op.id for op in BY_ID.values() if op.is_write)}),
]


class SlaCalendar(Frozen):
    """Corrections to the statutory calendar of the ``chinese-calendar`` package, e.g. a year it does not know yet."""

    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> SlaCalendar:
        for index, day in enumerate(self.extra_workdays):
            if day in self.extra_holidays:
                raise fail("SlaCalendar", ("extra_workdays", index), f"{day} is also in extra_holidays", day)
        return self


def _allow_null_rules(schema: dict[str, Any]) -> None:
    # Validation turns a null rule into "switched off", so editors must accept null there too.
    rules = schema["properties"]["rules"]
    rules["additionalProperties"] = {"anyOf": [rules.get("additionalProperties", {}), {"type": "null"}]}


class SlaSettings(Frozen):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_allow_null_rules)

    calendar: SlaCalendar = SlaCalendar()
    #: After validation: the effective rules, the defaults with the config's overrides, minus those set to null.
    rules: Mapping[OperationWithSla, SlaRule] = Field(default_factory=default_sla_rules)

    @field_validator("calendar", mode="before")
    @classmethod
    def _empty_calendar(cls, value: object) -> object:
        return {} if value is None else value

    @field_validator("rules", mode="before")
    @classmethod
    def _with_defaults(cls, value: object) -> object:
        return merge_rule_overrides(value)

    def rule(self, op_id: str) -> SlaRule | None:
        return self.rules.get(op_id)

    @property
    def needs_sms(self) -> tuple[str, ...]:
        """Operations whose reminders or escalation go out by SMS."""
        return tuple(op for op, rule in self.rules.items() if rule.sends_sms)
