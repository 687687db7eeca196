"""adapters.wechat.settings: the channel's YAML keys, defaults, and problems named by key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from adapters.wechat import ADAPTER
from adapters.wechat.protocol import DEFAULT_FIELDS, EVENT_VALUES, SUBSCRIBE_EVENTS
from adapters.wechat.settings import WechatSettings
from gateway.config import CITIZEN_EVENTS, ConfigContext

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
    }, notify={"events": ["hearing.scheduled", "refund.completed"]})
    assert settings.template_fields("hearing.scheduled") == DEFAULT_FIELDS["hearing.scheduled"]
    assert settings.template_fields("refund.completed") == {"thing5": "case_no", "amount1": "amount"}


def every_template(*leaving_out: str) -> dict[str, Any]:
    return {event: {"template_id": "T" + str(n)} for n, event in enumerate(CITIZEN_EVENTS) if event not in leaving_out}


def test_every_event_a_citizen_is_told_has_a_default_layout_and_values() -> None:
    assert set(SUBSCRIBE_EVENTS) == set(CITIZEN_EVENTS) == set(DEFAULT_FIELDS) == set(EVENT_VALUES)
    assert set(load(subscribe_templates=every_template()).subscribe_templates) == set(CITIZEN_EVENTS)


def test_a_template_list_that_leaves_an_event_out_is_an_error_naming_it() -> None:
    [(where, message)] = problems(subscribe_templates=every_template("filing.correction_required",
                                                                       "payment.confirmed"))
    assert where == "subscribe_templates"
    assert "filing.correction_required, payment.confirmed" in message and "notify.sms_events" in message


def test_an_event_left_out_on_purpose_goes_by_sms_or_is_not_wanted_at_all() -> None:
    by_sms = load(subscribe_templates=every_template("payment.confirmed"),
                  notify={"sms_events": ["payment.confirmed"]})
    assert not by_sms.notify.pushes("payment.confirmed") and by_sms.notify.wants("payment.confirmed")
    unwanted = load(subscribe_templates=every_template("payment.confirmed"),
                    notify={"events": [e for e in CITIZEN_EVENTS if e != "payment.confirmed"]})
    assert not unwanted.notify.wants("payment.confirmed")
    assert load().notify.uncarried([]) == list(CITIZEN_EVENTS)  # no templates at all: everything by SMS


def test_an_event_with_a_template_cannot_also_be_listed_for_sms() -> None:
    [(where, message)] = problems(subscribe_templates=every_template(), notify={"sms_events": ["filing.received"]})
    assert where == "notify.sms_events" and "filing.received" in message


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
