"""Outbound notifications: the SMS gateway (CONTRACTS.md section 7) and the events messages are about."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema, field_validator

from gateway.config.env_values import EnvSecret
from gateway.config.types import Frozen, HttpUrl, problem
from gateway.event_types import CITIZEN_EVENTS

#: What an SMS can be about: an event told to the citizen, a time limit told to court staff,
#: or the confirmation of a callback request a caller made by phone.
SMS_EVENTS: tuple[str, ...] = (*CITIZEN_EVENTS, "sla.reminder", "sla.escalation", "judge_message.callback_requested",
                               "case_passwords.paused")
DEFAULT_SMS_TEMPLATES: dict[str, str] = {
    event: "GZCOURT_" + event.upper().replace(".", "_") for event in SMS_EVENTS
}


def _event(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def check(name: str) -> str:
        if name not in allowed:
            raise problem("unknown_event", "unknown event {name}; known: {known}", name=name, known=", ".join(allowed))
        return name

    return check


SmsEvent = Annotated[str, AfterValidator(_event(SMS_EVENTS)), WithJsonSchema({"type": "string", "enum": list(SMS_EVENTS)})]
ChannelEvent = Annotated[
    str,
    AfterValidator(_event(("*", *CITIZEN_EVENTS))),
    WithJsonSchema({"type": "string", "enum": ["*", *CITIZEN_EVENTS]}),
]


class SmsSettings(Frozen):
    """The SMS gateway of CONTRACTS.md section 7."""

    base_url: HttpUrl
    sign_name: str = Field(min_length=1, description="the 【签名】 every message starts with")
    access_key_env: EnvSecret
    access_secret_env: EnvSecret | None = None
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    #: After validation: the defaults with the config's entries over them.
    templates: Mapping[SmsEvent, Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: dict(DEFAULT_SMS_TEMPLATES)
    )

    @field_validator("templates", mode="before")
    @classmethod
    def _over_defaults(cls, value: object) -> object:
        return {**DEFAULT_SMS_TEMPLATES, **value} if isinstance(value, Mapping) else value


class NotifySettings(Frozen):
    sms: SmsSettings | None = Field(default=None, description="absent: nothing is sent by SMS")
