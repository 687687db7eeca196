"""Fixtures: a real reference court on loopback and ES256 actor tokens minted with joserfc."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from starlette.applications import Starlette

from reference_court import DEMO_PEOPLE, court_base_url, create_reference_court
from reference_court.seed import DemoPerson
from tests.support.servers import serve

KID = "gateway-test-1"


@pytest.fixture(scope="session")
def signing_key() -> ECKey:
    return ECKey.generate_key("P-256", {"kid": KID, "use": "sig", "alg": "ES256"}, private=True)


@pytest.fixture(scope="session")
def jwks(signing_key: ECKey) -> dict[str, Any]:
    return dict(KeySet([signing_key]).as_dict(private=False))


Mint = Callable[..., str]


def mint_token(key: ECKey, audience: str, who: DemoPerson | None = None, *, assurance: str = "L2",
               lifetime: int = 60, kid: str | None = None, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "court-gateway", "aud": audience, "iat": now, "exp": now + lifetime,
        "sub": f"sub-{who.key}" if who else "anonymous",
        "name": who.name if who else None,
        "id_type": who.id_type if who else None,
        "id_number": who.id_number if who else None,
        "assurance": assurance if who else "none",
        "channel": "wechat",
    }
    claims.update(overrides)
    return jwt.encode({"alg": "ES256", "kid": kid or str(key.kid)}, claims, key)


@pytest.fixture(scope="session")
def mint(signing_key: ECKey) -> Mint:
    def make(audience: str, who: DemoPerson | None = None, **options: Any) -> str:
        return mint_token(signing_key, audience, who, **options)

    return make


def case_path(case_no: str) -> str:
    return quote(case_no, safe="")


@dataclass
class RefCourt:
    """A running reference court and a client that speaks to it as the gateway would."""

    url: str
    app: Starlette
    client: httpx.AsyncClient
    mint: Mint

    def base(self, code: str) -> str:
        return court_base_url(self.url, code)

    def headers(self, code: str, who: DemoPerson | str | None = None, *, key: str | None = None,
                **options: Any) -> dict[str, str]:
        person = DEMO_PEOPLE[who] if isinstance(who, str) else who
        headers = {"Authorization": f"Bearer {self.mint(code, person, **options)}",
                   "X-Request-Id": f"test-{uuid.uuid4().hex[:10]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    async def get(self, code: str, path: str, who: DemoPerson | str | None = None, **options: Any) -> httpx.Response:
        return await self.client.get(self.base(code) + "/api/v1" + path, headers=self.headers(code, who, **options))

    async def post(self, code: str, path: str, who: DemoPerson | str | None, body: Any = None, *,
                   key: str | None = "auto", **options: Any) -> httpx.Response:
        idem = uuid.uuid4().hex if key == "auto" else key
        return await self.client.post(self.base(code) + "/api/v1" + path, json=body,
                                      headers=self.headers(code, who, key=idem, **options))


async def _running(jwks: dict[str, Any], mint: Mint, **options: Any) -> AsyncIterator[RefCourt]:
    app = create_reference_court(jwks_provider=jwks, **options)
    async with serve(app) as url, httpx.AsyncClient(timeout=10) as client:
        yield RefCourt(url, app, client, mint)


@pytest.fixture(scope="module")
async def court(jwks: dict[str, Any], mint: Mint) -> AsyncIterator[RefCourt]:
    """One reference court per test module (tests create records with fresh keys, so they don't collide)."""
    async for running in _running(jwks, mint):
        yield running


@pytest.fixture
async def fresh_court(jwks: dict[str, Any], mint: Mint) -> AsyncIterator[RefCourt]:
    """A court of its own, for tests that count records or change faults."""
    async for running in _running(jwks, mint):
        yield running


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is the problem+json of CONTRACTS.md section 3 and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "code", "detail"} <= body.keys()
    assert body["status"] == status and body["code"] == code, body
    return body
