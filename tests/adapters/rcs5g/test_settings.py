"""adapters.rcs5g.settings: the channel's YAML keys, defaults, and problems named by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.rcs5g import ADAPTER
from adapters.rcs5g.settings import MAX_FILE_BYTES, Rcs5gSettings
from gateway.config import ConfigContext

ENV = {"APP_KEY": "app-key-of-the-chatbot", "CALLBACK": "0123456789abcdef0123456789abcdef-maap",
       "SHORT": "too-short"}
REQUIRED = {"chatbot_id": "sip:12368001@botplatform.rcs.chinamobile.com", "maap_base": "https://maap.example.invalid",
            "app_id": "gz-court-cmcc", "app_key_env": "APP_KEY", "callback_token_env": "CALLBACK"}


def load(**overrides: Any) -> Rcs5gSettings:
    return Rcs5gSettings.model_validate({**REQUIRED, **overrides}, context=ConfigContext(env=ENV))


def problems(**overrides: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        load(**overrides)
    return [".".join(str(p) for p in e["loc"]) for e in caught.value.errors()]


def test_the_adapter_is_named_after_its_folder_and_uses_these_settings() -> None:
    assert ADAPTER.name == Path(__file__).parent.name == "rcs5g"
    assert ADAPTER.settings_model is Rcs5gSettings


def test_defaults() -> None:
    settings = load()
    assert settings.app_key_env.value == ENV["APP_KEY"] and settings.callback_token_env.value == ENV["CALLBACK"]
    assert (settings.file_hosts, settings.idle_timeout_s, settings.max_file_bytes) == ((), 600, MAX_FILE_BYTES)
    assert (settings.max_password_attempts, settings.lockout_s, settings.hotline) == (3, 1800, "12368")
    dumped = repr(settings) + settings.model_dump_json()
    assert ENV["APP_KEY"] not in dumped and ENV["CALLBACK"] not in dumped


@pytest.mark.parametrize(("overrides", "where"), [
    ({"chatbot_id": "12368001@botplatform"}, "chatbot_id"),
    ({"chatbot_id": "sip:a b@botplatform"}, "chatbot_id"),
    ({"maap_base": "ftp://maap.example.invalid"}, "maap_base"),
    ({"app_key_env": "MISSING_VAR"}, "app_key_env"),
    ({"callback_token_env": "SHORT"}, "callback_token_env"),
    ({"file_hosts": ["https://files.example.invalid"]}, "file_hosts.0"),
    ({"file_hosts": ["Files.Example.invalid:443"]}, "file_hosts.0"),
    ({"idle_timeout_s": 5}, "idle_timeout_s"),
    ({"max_file_bytes": MAX_FILE_BYTES + 1}, "max_file_bytes"),
    ({"hotline": "call us"}, "hotline"),
    ({"idle_timeout": 600}, "idle_timeout"),  # a typo is an error, never a silent default
])
def test_problems_name_the_key(overrides: dict[str, Any], where: str) -> None:
    assert where in problems(**overrides)


@pytest.mark.parametrize("required", sorted(REQUIRED))
def test_every_platform_key_is_required(required: str) -> None:
    values = {k: v for k, v in REQUIRED.items() if k != required}
    with pytest.raises(ValidationError) as caught:
        Rcs5gSettings.model_validate(values, context=ConfigContext(env=ENV))
    assert [e["loc"] for e in caught.value.errors()] == [(required,)]
