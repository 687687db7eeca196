"""OWASP API8:2023 Security misconfiguration (QUALITY.md security item 8): hostile input never produces
a server error, a traceback or a debug page, on the canonical API and every channel's routes; every
answer is in the caller's format.
"""

from __future__ import annotations

import httpx
import pytest

from tests.security.conftest import DRIVERS
from tests.support.stack import Stack

GARBAGE = [b"\xff\xfe\x00garbage", b'{"a": [1, 2', b"[]", b'{"__proto__": {"x": 1}}', b"null"]


@pytest.mark.parametrize("body", GARBAGE)
async def test_hostile_bodies_never_show_a_traceback(stack: Stack, client: httpx.AsyncClient, body: bytes) -> None:
    paths = ["/api/v1/fees/calculate", "/api/v1/consultations"]
    for d in DRIVERS:
        base = f"/channels/{d.channel}"
        paths += [base + suffix for suffix in ("/login", "/invoke", "/json", "/vxml", "/sessions", "/api/fees.calculate",
                                               "/gateway/fees.calculate", "/ops/fees.calculate", "/nowhere")]
    for path in paths:
        answer = await client.post(f"{stack.gateway_url}{path}", content=body,
                                   headers={"Content-Type": "application/json"})
        text = answer.text
        assert answer.status_code < 500, (path, answer.status_code, text[:200])
        assert "Traceback" not in text and 'File "' not in text, path
        assert answer.headers["content-type"].split(";")[0] in (
            "application/json", "application/problem+json", "application/voicexml+xml"), (path, answer.headers)
