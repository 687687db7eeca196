"""What ``court-gateway demo`` needs for the 12368 hotline: the channel entry, a token, ready-made calls.

The hotline needs no platform stand-in of its own: the call centre is whoever
posts the steps (curl, a vendor flow, a VoiceXML browser), and the SMS gateway
stand-in that receives callback confirmations is the gateway's own
(gateway/notify/standin.py, served by the demo at ``/sms``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from demo_data import DEMO_PASSWORDS, DEMO_PEOPLE
from gateway import DemoKit

TOKEN_ENV = "IVR_TOKEN"
CHANNEL = "ivr12368"


@dataclass(frozen=True)
class SampleCaller:
    name: str
    phone: str
    case_no: str
    court_digits: str
    serial: str  # the digits before 号
    password: str


def sample_caller() -> SampleCaller:
    """A demo person with a case query password for a case whose number carries its court code."""
    from gateway import parse_case_number
    for password, (court, case_no, person_key) in DEMO_PASSWORDS.items():
        if court in case_no:
            person = DEMO_PEOPLE[person_key]
            serial = str(parse_case_number(case_no).sequence)
            return SampleCaller(person.name, person.phone, case_no, court[1:], serial, password)
    raise LookupError("the demo seed lists no case query password for a modern case number")


def channel_entry(token_env: str = TOKEN_ENV, **extra: Any) -> dict[str, Any]:
    return {"adapter": CHANNEL, "token_env": token_env, **extra}


def demo_kit(stand_in_url: str) -> DemoKit:
    token = secrets.token_urlsafe(32)
    from adapters.ivr12368.simulator import IvrPanel

    return DemoKit(channels={CHANNEL: channel_entry()}, env={TOKEN_ENV: token}, stand_in_routes=[],
                   notes=_notes(stand_in_url, token), simulator=IvrPanel(CHANNEL, token))


def _gateway_url(stand_in_url: str) -> str:
    # ``court-gateway demo`` serves the gateway two ports below the stand-ins (DemoPlan).
    port = urlsplit(stand_in_url).port or 8082
    return f"http://127.0.0.1:{port - 2}"


def _notes(stand_in_url: str, token: str) -> list[str]:
    gateway = _gateway_url(stand_in_url)
    stand_ins = f"http://127.0.0.1:{urlsplit(stand_in_url).port or 8082}"
    sample = sample_caller()
    url = f"{gateway}/channels/{CHANNEL}/json"

    def step(event: str, digits: str | None = None, **more: str) -> str:
        body: dict[str, str] = {"call_id": "demo-call-1", **more, "event": event}
        if digits is not None:
            body["digits"] = digits
        payload = json.dumps(body, ensure_ascii=False)
        return f"    curl -s {url} -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' -d '{payload}'"

    return [
        f"12368 hotline (/channels/{CHANNEL}): IVR token {TOKEN_ENV}={token}",
        (f"  sample caller {sample.name} {sample.phone}, case {sample.case_no}: "
        f"court digits {sample.court_digits}, serial number {sample.serial}, case query password {sample.password}"),
        "  A whole call in the JSON dialect (1 progress, 2 judge callback, 3 fees, 0 agent):",
        step("start", caller=sample.phone, called="12368"),
        step("input", "1"),
        step("input", sample.court_digits + "#"),
        step("input", sample.serial + "#"),
        step("input", sample.password + "#"),
        step("hangup"),
        (f"  VoiceXML browsers start at {gateway}/channels/{CHANNEL}/vxml?token={token} (form fields call_id, caller, "
        "called, event=start)"),
        f"  SMS the demo sent (callback confirmations): curl -s {stand_ins}/sms/messages",
    ]
