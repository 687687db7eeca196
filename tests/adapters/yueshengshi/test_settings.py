"""The 粤省事 channel's YAML keys: defaults, and problems named by key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from adapters.yueshengshi import ADAPTER
from adapters.yueshengshi.adapter import YueshengshiSettings
from gateway.config import ConfigContext

ENV = {"YSS_APP_SECRET": "0123456789abcdef0123456789abcdef", "YSS_CLIENT_SECRET": "client-secret"}
MINIMAL = {"app_id": "yss-gz-court", "app_secret_env": "YSS_APP_SECRET", "idp_base": "https://idp.example.invalid/",
           "client_id": "gz-court", "client_secret_env": "YSS_CLIENT_SECRET"}


def load(**overrides: Any) -> YueshengshiSettings:
    return YueshengshiSettings.model_validate({**MINIMAL, **overrides}, context=ConfigContext(env=ENV))


def test_the_adapter_is_named_after_its_folder_and_uses_these_settings() -> None:
    assert ADAPTER.name == "yueshengshi"
    assert ADAPTER.settings_model is YueshengshiSettings


def test_defaults() -> None:
    settings = load()
    assert settings.sign_algorithm == "hmac-sm3"
    assert settings.session_ttl_s == 7200 and settings.jwks_cache_s == 3600 and settings.idp_timeout_s == 5.0
    assert settings.idp_base == "https://idp.example.invalid"  # one spelling, no trailing slash
    assert settings.app_secret_env.value == ENV["YSS_APP_SECRET"]
    assert settings.client_secret_env.value == "client-secret"
    assert settings.services == ("*",)


@pytest.mark.parametrize(("overrides", "where"), [
    ({"sign_algorithm": "md5"}, "sign_algorithm"),
    ({"app_secret_env": "MISSING"}, "app_secret_env"),
    ({"app_secret_env": "YSS_CLIENT_SECRET"}, "app_secret_env"),  # 13 bytes: too short for an HMAC key
    ({"client_secret_env": "the-secret-itself"}, "client_secret_env"),
    ({"idp_base": "ftp://idp"}, "idp_base"),
    ({"idp_base": "https://idp.example.invalid/?x=1"}, "idp_base"),
    ({"session_ttl_s": 10}, "session_ttl_s"),
    ({"jwks_cache_s": 0}, "jwks_cache_s"),
    ({"app_id": ""}, "app_id"),
    ({"app_scret_env": "YSS_APP_SECRET"}, "app_scret_env"),  # a typo is an error, never ignored
])
def test_problems_are_named_by_key(overrides: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load(**overrides)
    assert where in {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}


def test_a_missing_key_is_named() -> None:
    with pytest.raises(ValidationError) as caught:
        YueshengshiSettings.model_validate({k: v for k, v in MINIMAL.items() if k != "idp_base"},
                                           context=ConfigContext(env=ENV))
    assert [e["loc"] for e in caught.value.errors()] == [("idp_base",)]
