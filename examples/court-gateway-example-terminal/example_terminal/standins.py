"""What the example terminal brings to ``court-gateway demo``: one channel, one terminal and its key.

A counter terminal needs no platform behind it (no login service, no push service), so there
are no stand-in routes: the printed key is enough to sign requests by hand.
"""

from __future__ import annotations

import secrets

from gateway import DemoKit

CHANNEL = "example_terminal"
TERMINAL = "CT-DEMO-01"
KEY_ENV = "EXAMPLE_TERMINAL_CT_DEMO_01_KEY"


def channel_entry(terminal_id: str, key_env: str) -> dict[str, object]:
    return {"adapter": "example_terminal", "terminals": {terminal_id: {"key_env": key_env}}}


def demo_kit() -> DemoKit:
    key = secrets.token_urlsafe(24)
    return DemoKit(channels={CHANNEL: channel_entry(TERMINAL, KEY_ENV)}, env={KEY_ENV: key},
                   notes=[(f"example terminal: /channels/{CHANNEL}/, terminal {TERMINAL}, HMAC key {key} "
                           "(signing: examples/court-gateway-example-terminal/example_terminal/protocol.py)")])
