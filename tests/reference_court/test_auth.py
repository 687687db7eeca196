"""Actor tokens: signature, algorithm, issuer, audience, expiry and lifetime (CONTRACTS.md section 5)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reference_court import DEMO_CASES, DEMO_PEOPLE, court_base_url, create_reference_court
from tests.reference_court.conftest import RefCourt, case_path, mint_token, problem
from tests.support.servers import serve

CASE = DEMO_CASES["zhangwei_yue0106_trial"]
ZHANG = DEMO_PEOPLE["zhangwei"]


async def _access(court: RefCourt, token: str | None, scheme: str = "Bearer") -> httpx.Response:
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return await court.client.get(f"{court.base('粤0106')}/api/v1/cases/{case_path(CASE)}/access", headers=headers)


async def test_health_needs_no_token(court: RefCourt) -> None:
    response = await court.client.get(court.base("粤0106") + "/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "court": "粤0106", "name": "天河区人民法院"}


async def test_valid_token_is_accepted(court: RefCourt, signing_key: ECKey) -> None:
    response = await _access(court, mint_token(signing_key, "粤0106", ZHANG))
    assert response.status_code == 200
    assert response.json()["role"] == "plaintiff"


async def test_missing_token_is_unauthenticated(court: RefCourt) -> None:
    response = await _access(court, None)
    problem(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_wrong_scheme_and_garbage_are_unauthenticated(court: RefCourt, signing_key: ECKey) -> None:
    problem(await _access(court, mint_token(signing_key, "粤0106", ZHANG), scheme="Basic"), 401, "UNAUTHENTICATED")
    problem(await _access(court, "not.a.jwt"), 401, "UNAUTHENTICATED")
    problem(await _access(court, "x" * 9000), 401, "UNAUTHENTICATED")


async def test_wrong_audience_issuer_and_expired_are_refused(court: RefCourt, signing_key: ECKey) -> None:
    for token in (
        mint_token(signing_key, "粤01", ZHANG),  # a token for another court
        mint_token(signing_key, "粤0106", ZHANG, iss="https://evil.example"),
        mint_token(signing_key, "粤0106", ZHANG, exp=int(time.time()) - 120, iat=int(time.time()) - 180),
    ):
        problem(await _access(court, token), 401, "UNAUTHENTICATED")


async def test_missing_exp_and_long_lifetime_are_refused(court: RefCourt, signing_key: ECKey) -> None:
    now = int(time.time())
    claims = {"iss": "court-gateway", "aud": "粤0106", "sub": "s", "assurance": "L2", "id_type": "ID_CARD",
              "id_number": ZHANG.id_number}
    no_exp = jwt.encode({"alg": "ES256", "kid": signing_key.kid}, claims, signing_key)
    problem(await _access(court, no_exp), 401, "UNAUTHENTICATED")
    problem(await _access(court, mint_token(signing_key, "粤0106", ZHANG, lifetime=3600)), 401, "UNAUTHENTICATED")
    no_iat = jwt.encode({"alg": "ES256", "kid": signing_key.kid}, {**claims, "exp": now + 600}, signing_key)
    problem(await _access(court, no_iat), 401, "UNAUTHENTICATED")


async def test_foreign_key_with_the_same_kid_is_refused(court: RefCourt, signing_key: ECKey) -> None:
    impostor = ECKey.generate_key("P-256", {"kid": str(signing_key.kid)}, private=True)
    problem(await _access(court, mint_token(impostor, "粤0106", ZHANG)), 401, "UNAUTHENTICATED")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_algorithm_is_pinned(court: RefCourt, signing_key: ECKey) -> None:
    now = int(time.time())
    claims = {"iss": "court-gateway", "aud": "粤0106", "sub": "s", "iat": now, "exp": now + 60,
              "assurance": "L2", "id_type": "ID_CARD", "id_number": ZHANG.id_number}
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    problem(await _access(court, unsigned), 401, "UNAUTHENTICATED")
    hmac_key = OctKey.generate_key(256)
    hs256 = jwt.encode({"alg": "HS256", "kid": signing_key.kid}, claims, hmac_key)
    problem(await _access(court, hs256), 401, "UNAUTHENTICATED")


async def test_unknown_kid_with_a_fixed_key_set_is_refused(court: RefCourt) -> None:
    other = ECKey.generate_key("P-256", {"kid": "somebody-else"}, private=True)
    problem(await _access(court, mint_token(other, "粤0106", ZHANG)), 401, "UNAUTHENTICATED")


async def test_anonymous_token_reaches_public_operations(court: RefCourt) -> None:
    response = await court.get("粤0106", "/templates")  # no person: sub "anonymous", assurance "none"
    assert response.status_code == 200
    assert len(response.json()["items"]) >= 12


async def test_anonymous_token_is_a_stranger_on_cases(court: RefCourt) -> None:
    problem(await court.get("粤0106", f"/cases/{case_path(CASE)}/progress"), 404, "NOT_FOUND")


async def test_bad_assurance_claim_is_refused(court: RefCourt) -> None:
    problem(await court.get("粤0106", "/templates", ZHANG, assurance="L9"), 401, "UNAUTHENTICATED")


async def test_jwks_from_gateway_url_is_fetched_again_for_a_new_kid(jwks: dict[str, Any],
                                                                    signing_key: ECKey) -> None:
    """Key rotation: the gateway lists a new key; the court learns it on the first token that names it."""
    published: dict[str, Any] = {"document": jwks, "fetches": 0}

    async def jwks_endpoint(request: Request) -> JSONResponse:
        published["fetches"] += 1
        return JSONResponse(published["document"])

    gateway = Starlette(routes=[Route("/.well-known/jwks.json", jwks_endpoint)])
    new_key = ECKey.generate_key("P-256", {"kid": "gateway-test-2"}, private=True)
    async with serve(gateway) as gateway_url:
        app = create_reference_court(jwks_provider=None, gateway_url=gateway_url)
        async with serve(app) as url, httpx.AsyncClient() as client:
            target = f"{court_base_url(url, '粤0106')}/api/v1/cases/{case_path(CASE)}/access"
            first = await client.get(target, headers={"Authorization": f"Bearer {mint_token(signing_key, '粤0106', ZHANG)}"})
            assert first.status_code == 200 and published["fetches"] == 1
            published["document"] = KeySet([signing_key, new_key]).as_dict(private=False)
            rotated = await client.get(target, headers={"Authorization": f"Bearer {mint_token(new_key, '粤0106', ZHANG)}"})
            assert rotated.status_code == 200
            assert published["fetches"] == 2


async def test_async_jwks_provider_is_used(signing_key: ECKey, jwks: dict[str, Any]) -> None:
    calls = 0

    async def provider() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return jwks

    app = create_reference_court(jwks_provider=provider, only_court="粤0106")
    async with serve(app) as url, httpx.AsyncClient() as client:
        token = mint_token(signing_key, "粤0106", ZHANG)
        response = await client.get(f"{url}/api/v1/cases/{case_path(CASE)}/access",
                                    headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert calls == 1
