"""The kiosk wire protocol (CONTRACTS.md section 4.4), pure: signatures and envelopes.

Every request carries four headers::

    X-Device-Id         the terminal's id in the channel's ``devices``
    X-Device-Timestamp  unix seconds
    X-Device-Nonce      unique per request (at most 128 characters)
    X-Device-Signature  base64(HMAC-SHA256(device_key,
                            METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n hex(SHA256(body))))

PATH is the raw path as sent, including ``/channels/{channel}`` and ``?query``
if any; the body is the exact bytes sent (empty for DELETE); hex is lower-case;
the key is the UTF-8 bytes of the device's secret.

Two envelopes, chosen by the channel's ``profile``:

    efating    {"ok": true, "data", "screen", "print"}   {"ok": false, "code", "message", "screen"}
    yuezhizhu  {"status": "SUCCESS", "result", "display"} {"status": "FAIL", "errorCode", "errorMessage"}

Errors carry the HTTP status of their code (CONTRACTS.md section 3 table) and
the code's name; messages are the kiosk's own Chinese wording that says what
to do next (``screens.ERROR_ADVICE``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from adapters.kiosk.receipts import COLUMNS, ENCODING, Receipt
from adapters.kiosk.screens import Screen
from gateway import ErrorCode, GatewayError, same

Profile = Literal["efating", "yuezhizhu"]
DEVICE_ID = "x-device-id"
TIMESTAMP = "x-device-timestamp"
NONCE = "x-device-nonce"
SIGNATURE = "x-device-signature"
IDEMPOTENCY_FIELD = "txn_id"


# --------------------------------------------------------------------------- signatures


@dataclass(frozen=True)
class DeviceHeaders:
    device_id: str
    timestamp: str
    nonce: str
    signature: str

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> DeviceHeaders:
        """The four headers; a missing device id is UNAUTHENTICATED (nobody known is asking)."""
        device_id = headers.get(DEVICE_ID, "").strip()
        if not device_id:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "X-Device-Id is missing")
        return cls(device_id, headers.get(TIMESTAMP, "").strip(), headers.get(NONCE, "").strip(),
                   headers.get(SIGNATURE, "").strip())


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, digest_hex: str) -> bytes:
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest_hex}".encode()


def sign(key: bytes, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The X-Device-Signature value (what a terminal computes)."""
    return _signature(key, string_to_sign(method, path, timestamp, nonce, body_digest(body)))


def _signature(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii")


def signature_matches(keys: Sequence[bytes], offered: str, message: bytes) -> bool:
    """Constant-time against each key in force (the current one, then any being replaced)."""
    if not offered:
        return False
    matched = False
    for key in keys:
        # Every key is tried, so the time taken does not say which one matched.
        matched |= same(_signature(key, message), offered)
    return matched


# --------------------------------------------------------------------------- envelopes


def screen_body(screen: Screen) -> dict[str, Any]:
    """efating's ``screen``: large type, short lines, the buttons to show."""
    return {
        "title": screen.title,
        "tone": screen.tone,
        "font": "large",
        "blocks": [{"heading": block.heading, "lines": list(block.lines)} for block in screen.blocks],
        "actions": [{"id": action.id, "label": action.label} for action in screen.actions],
    }


def print_body(receipt: Receipt | None) -> dict[str, Any] | None:
    if receipt is None:
        return None
    return {"encoding": ENCODING, "paper_mm": 80, "columns": COLUMNS, "lines": list(receipt.lines),
            "qr": receipt.qr}


def display_body(screen: Screen, receipt: Receipt | None) -> dict[str, Any]:
    """粤智助's ``display``: the same screen in the platform's camelCase, with the receipt inside."""
    return {
        "title": screen.title,
        "tone": screen.tone,
        "fontSize": "LARGE",
        "sections": [{"heading": block.heading, "lines": list(block.lines)} for block in screen.blocks],
        "buttons": [{"code": action.id, "text": action.label} for action in screen.actions],
        "printData": print_body(receipt),
    }


def success(profile: Profile, data: Any, screen: Screen, receipt: Receipt | None) -> dict[str, Any]:
    if profile == "efating":
        return {"ok": True, "data": data, "screen": screen_body(screen), "print": print_body(receipt)}
    return {"status": "SUCCESS", "result": data, "display": display_body(screen, receipt)}


def failure(profile: Profile, error: GatewayError, message: str, screen: Screen, request_id: str) -> dict[str, Any]:
    """An error in the profile's envelope; ``reason`` (identity refusals) names what failed, never whose."""
    reason = error.extra.get("reason")
    fields = [e.as_dict() for e in error.errors] or None
    if profile == "efating":
        body: dict[str, Any] = {"ok": False, "code": error.code.value, "message": message,
                                "screen": screen_body(screen), "request_id": request_id}
        if fields:
            body["errors"] = fields
    else:
        body = {"status": "FAIL", "errorCode": error.code.value, "errorMessage": message,
                "display": display_body(screen, None), "requestId": request_id}
        if fields:
            body["fieldErrors"] = fields
    if isinstance(reason, str):
        body["reason"] = reason
    return body


def http_status(error: GatewayError) -> int:
    """Kiosks get the code's own HTTP status (CONTRACTS.md section 4 table)."""
    return error.status
