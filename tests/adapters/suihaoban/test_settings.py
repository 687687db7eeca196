"""The 穗好办 channel's YAML keys: defaults, and problems named by key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from adapters.suihaoban import ADAPTER
from adapters.suihaoban.adapter import SuihaobanSettings
from gateway.config import ConfigContext

ENV = {"SHB_APP_SECRET": "0123456789abcdef0123456789abcdef", "SHORT": "short"}
MINIMAL = {"app_id": "shb-gz-court", "app_secret_env": "SHB_APP_SECRET",
           "usercenter_base": "https://usercenter.example.invalid"}


def load(**overrides: Any) -> SuihaobanSettings:
    return SuihaobanSettings.model_validate({**MINIMAL, **overrides}, context=ConfigContext(env=ENV))


def test_the_adapter_is_named_after_its_folder_and_uses_these_settings() -> None:
    assert ADAPTER.name == "suihaoban"
    assert ADAPTER.settings_model is SuihaobanSettings


def test_defaults() -> None:
    settings = load()
    assert settings.ticket_cache_max_s == 1800 and settings.usercenter_timeout_s == 5.0
    assert settings.app_secret_env.value == ENV["SHB_APP_SECRET"]
    assert settings.services == ("*",)


@pytest.mark.parametrize(("overrides", "where"), [
    ({"ticket_cache_max_s": 3600}, "ticket_cache_max_s"),  # the contract: at most 30 minutes
    ({"ticket_cache_max_s": 0}, "ticket_cache_max_s"),
    ({"app_secret_env": "SHORT"}, "app_secret_env"),
    ({"app_secret_env": "MISSING"}, "app_secret_env"),
    ({"usercenter_base": "usercenter.example.invalid"}, "usercenter_base"),
    ({"app_id": ""}, "app_id"),
    ({"sign_type": "HMAC-SM3"}, "sign_type"),  # unknown keys are errors
])
def test_problems_are_named_by_key(overrides: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load(**overrides)
    assert where in {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}
