"""The console's config keys: a trusted issuer's sign-in endpoints and gateway.console, each problem
located like every other config problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_config import Case, problems_of, write_case

ISSUER = "  signing_key_env: GATEWAY_SIGNING_KEY\n"


def issuer(extra: str) -> str:
    return (ISSUER + "  trusted_issuers:\n    - issuer: https://idp.example.invalid\n      audience: court-gateway\n"
            "      jwks_url: https://idp.example.invalid/jwks\n" + extra)


CASES = [
    Case("token endpoint without the authorization endpoint", ISSUER,
         issuer("      token_endpoint: https://idp.example.invalid/token  # <-\n"),
         "gateway.trusted_issuers.0.authorization_endpoint", "give authorization_endpoint and token_endpoint together",
         at="- issuer:"),
    Case("endpoints and discovery both", ISSUER,
         issuer("      authorization_endpoint: https://idp.example.invalid/auth\n"
                "      token_endpoint: https://idp.example.invalid/token\n"
                "      discovery_url: https://idp.example.invalid/.well-known/openid-configuration\n"),
         "gateway.trusted_issuers.0.discovery_url", "not both", at="discovery_url:"),
    Case("sign-in endpoint that is not a URL", ISSUER,
         issuer("      discovery_url: idp.example.invalid  # <-\n"),
         "gateway.trusted_issuers.0.discovery_url", "must be an http:// or https:// URL"),
    Case("sign-in issuer that offers no sign-in", ISSUER,
         issuer("  console: {sign_in_issuer: https://idp.example.invalid}  # <-\n"),
         "gateway.console.sign_in_issuer", "offers sign-in"),
    Case("unknown console key", ISSUER, ISSUER + "  console: {operator_rol: ops}  # <-\n",
         "gateway.console.operator_rol", "unknown key"),
    Case("session lifetime out of range", ISSUER, ISSUER + "  console: {session_ttl_s: 10}  # <-\n",
         "gateway.console.session_ttl_s", "greater than or equal to 300"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_console_problem_is_located(tmp_path: Path, case: Case) -> None:
    path, line, env = write_case(tmp_path, case)
    problems = problems_of(path, env)
    assert [(p.line, p.key) for p in problems] == [(line, case.key)], problems
    assert case.message in problems[0].message


def test_an_issuer_with_endpoints_is_the_sign_in_issuer(tmp_path: Path) -> None:
    from tests.test_config import MINIMAL, load

    text = MINIMAL.replace(ISSUER, issuer("      authorization_endpoint: https://idp.example.invalid/auth\n"
                                          "      token_endpoint: https://idp.example.invalid/token\n"
                                          "      client_id: gz-console\n"
                                          "  console: {operator_role: ops, secure_cookies: true}\n"), 1)
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    gateway = load(path).gateway
    chosen = gateway.sign_in_issuer
    assert chosen is not None and chosen.client_id == "gz-console" and chosen.offers_sign_in
    assert gateway.console.operator_role == "ops" and gateway.console.session_ttl_s == 8 * 3600
