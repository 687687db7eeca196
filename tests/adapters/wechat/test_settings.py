"""adapters.wechat.settings: the channel's YAML keys, defaults, and problems named by key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from adapters.wechat import ADAPTER
from adapters.wechat.protocol import DEFAULT_FIELDS
from adapters.wechat.settings import WechatSettings
from gateway.config import ConfigContext

ENV = {"WECHAT_APP_SECRET": "0123456789abcdef0123456789abcdef"}
MINIMAL = {"app_id": "wx0000000000000001", "app_secret_env": "WECHAT_APP_SECRET",
           "realname_base": "https://realname.example.invalid"}


def load(**overrides: Any) -> WechatSettings:
    return WechatSettings.model_validate({**MINIMAL, **overrides}, context=ConfigContext(env=ENV))


def problems(**overrides: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        load(**overrides)
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in caught.value.errors()]


def test_the_adapter_is_named_after_its_folder_and_uses_these_settings() -> None:
    assert ADAPTER.name == "wechat"
    assert ADAPTER.settings_model is WechatSettings


def test_defaults() -> None:
    settings = load()
    assert settings.api_base == "https://api.weixin.qq.com"
    assert settings.face_threshold == 80
    assert settings.session_ttl_s == 7200
    assert settings.app_secret_env.value == ENV["WECHAT_APP_SECRET"]
    assert settings.subscribe_templates == {}
    assert settings.services == ("*",)


def test_templates_default_to_the_suggested_layout_and_accept_an_operator_layout() -> None:
    settings = load(subscribe_templates={
        "hearing.scheduled": {"template_id": "AbC-123_x", "page": "pages/case/hearings?tab=1"},
        "refund.completed": {"template_id": "R1", "fields": {"thing5": "case_no", "amount1": "amount"}},
    })
    assert settings.template_fields("hearing.scheduled") == DEFAULT_FIELDS["hearing.scheduled"]
    assert settings.template_fields("refund.completed") == {"thing5": "case_no", "amount1": "amount"}


@pytest.mark.parametrize(("overrides", "where"), [
    ({"app_id": "wx123"}, "app_id"),
    ({"app_secret_env": "MISSING_SECRET"}, "app_secret_env"),
    ({"realname_base": "ftp://x"}, "realname_base"),
    ({"face_threshold": 101}, "face_threshold"),
    ({"subscribe_templates": {"payment.reminded": {"template_id": "T"}}}, "subscribe_templates.payment.reminded"),
    ({"subscribe_templates": {"refund.completed": {"template_id": "T", "fields": {"thing1": "id_number"}}}},
     "subscribe_templates.refund.completed.fields.thing1"),
    ({"subscribe_templates": {"refund.completed": {"template_id": "T", "fields": {"name1": "case_no"}}}},
     "subscribe_templates.refund.completed.fields.name1"),
    ({"app_secret": "inline"}, "app_secret"),
])
def test_problems_are_named_by_key(overrides: dict[str, Any], where: str) -> None:
    places = [place for place, _ in problems(**overrides)]
    assert any(place.startswith(where) for place in places), places


def test_realname_base_is_required() -> None:
    with pytest.raises(ValidationError) as caught:
        WechatSettings.model_validate({k: v for k, v in MINIMAL.items() if k != "realname_base"},
                                      context=ConfigContext(env=ENV))
    assert [e["loc"] for e in caught.value.errors()] == [("realname_base",)]


def test_the_demo_kit_is_a_valid_channel_with_its_secret_and_stand_ins() -> None:
    kit = ADAPTER.demo_kit("http://127.0.0.1:8082/wechat")
    entry = kit.channels["wechat"]
    settings = WechatSettings.model_validate(entry, context=ConfigContext(env=kit.env))
    assert settings.api_base == "http://127.0.0.1:8082/wechat/wx"
    assert settings.realname_base == "http://127.0.0.1:8082/wechat/realname"
    assert set(settings.subscribe_templates) == set(DEFAULT_FIELDS)
    assert [getattr(route, "path", None) for route in kit.stand_in_routes] == ["/wx", "/realname"]
    assert any("demo-code-zhangwei" in note for note in kit.notes)
