"""adapters.ivr12368.settings: the channel's YAML keys, defaults, and problems named by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.ivr12368 import ADAPTER
from adapters.ivr12368.settings import IvrSettings
from gateway.config import ConfigContext

ENV = {"IVR_TOKEN": "0123456789abcdef0123456789abcdef-ivr", "SHORT": "too-short"}


def load(**overrides: Any) -> IvrSettings:
    return IvrSettings.model_validate({"token_env": "IVR_TOKEN", **overrides}, context=ConfigContext(env=ENV))


def problems(**overrides: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        load(**overrides)
    return [".".join(str(p) for p in e["loc"]) for e in caught.value.errors()]


def test_the_adapter_is_named_after_its_folder_and_uses_these_settings() -> None:
    assert ADAPTER.name == Path(__file__).parent.name == "ivr12368"
    assert ADAPTER.settings_model is IvrSettings


def test_defaults() -> None:
    settings = load()
    assert settings.token_env.value == ENV["IVR_TOKEN"]
    assert (settings.call_ttl_s, settings.max_password_attempts, settings.lockout_s) == (1800, 3, 1800)
    assert (settings.menu_timeout_s, settings.digits_timeout_s, settings.max_repeats) == (8, 15, 3)
    assert settings.agent_queue == "sip:12368-agents@callcenter.invalid"
    assert settings.callback_sms is True
    assert ENV["IVR_TOKEN"] not in repr(settings) and ENV["IVR_TOKEN"] not in settings.model_dump_json()


@pytest.mark.parametrize(("overrides", "where"), [
    ({"token_env": "SHORT"}, "token_env"),
    ({"token_env": "MISSING_VAR"}, "token_env"),
    ({"token_env": "0123456789abcdef0123456789abcdef"}, "token_env"),  # the secret itself, not a variable
    ({"call_ttl_s": 10}, "call_ttl_s"),
    ({"max_password_attempts": 0}, "max_password_attempts"),
    ({"lockout_s": 10**6}, "lockout_s"),
    ({"agent_queue": "http://agents.example.invalid"}, "agent_queue"),
    ({"agent_queue": "sip:a b"}, "agent_queue"),
    ({"max_repeat": 3}, "max_repeat"),  # a typo is an error, never a silent default
])
def test_problems_name_the_key(overrides: dict[str, Any], where: str) -> None:
    assert where in problems(**overrides)


def test_agent_queue_takes_sip_and_tel_uris() -> None:
    assert load(agent_queue="tel:+862083001234").agent_queue == "tel:+862083001234"
    assert load(agent_queue="sips:queue-12368@cc.example.invalid;transport=tls").agent_queue.startswith("sips:")
