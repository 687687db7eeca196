"""Notifications the gateway sends itself, whatever channel a person used: today, SMS.

:class:`Notifier` is the port the rest of the gateway depends on (the
confirmation of a callback request taken by phone, SLA reminders and
escalation, a citizen told of a court event when their channel has no push
service); :class:`SmsSender` implements it against the SMS provider of
CONTRACTS.md section 7.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from gateway.notify.screening import Refusal, screen
from gateway.notify.segments import segment_count, signed_text, split_segments
from gateway.notify.sms import RetryPolicy, SmsResult, SmsSender
from gateway.notify.templates import TEMPLATE_TEXTS, TemplateError


class Notifier(Protocol):
    async def sms(self, phone: str, event: str, params: Mapping[str, object], out_id: str) -> SmsResult:
        """Text ``phone`` the template of ``event``; at most once per ``out_id``; never raises for a failed send."""
        ...


__all__ = [
    "TEMPLATE_TEXTS",
    "Notifier",
    "Refusal",
    "RetryPolicy",
    "SmsResult",
    "SmsSender",
    "TemplateError",
    "screen",
    "segment_count",
    "signed_text",
    "split_segments",
]
