"""The wechat channel's YAML keys (CONTRACTS.md sections 2 and 4.1); README.md lists them with defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from adapters.wechat.protocol import DEFAULT_FIELDS, EVENT_VALUES, SUBSCRIBE_EVENTS, TEMPLATE_KEY
from gateway import (
    ChannelSettings,
    EnvSecret,
    Frozen,
    HttpUrl,
    RateLimit,
    settings_error,
    settings_problem,
)

APP_ID_PATTERN = r"^wx[0-9a-f]{16}$"
PAGE_PATTERN = r"^[A-Za-z0-9_\-./]+(\?[A-Za-z0-9_\-.=&%]*)?$"


def _event(name: str) -> str:
    if name not in SUBSCRIBE_EVENTS:
        raise settings_problem("unknown_event", "unknown event {name}; known: {known}", name=name,
                      known=", ".join(SUBSCRIBE_EVENTS))
    return name


SubscribeEvent = Annotated[str, AfterValidator(_event),
                           WithJsonSchema({"type": "string", "enum": list(SUBSCRIBE_EVENTS)})]


class SubscribeTemplate(Frozen):
    """One subscribe-message template, picked in the mini program's console (订阅消息)."""

    template_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$")
    page: str | None = Field(default=None, max_length=256, pattern=PAGE_PATTERN,
                             description="mini program page opened from the message, e.g. pages/case/progress")
    fields: Mapping[str, str] | None = Field(
        default=None, description="template key (thing1, time2 ...) -> the event value it shows; "
                                  "absent: the layout README.md suggests for the event",
    )


class WechatSettings(ChannelSettings):
    """广州微法院 mini program: WeChat login, real-name binding, subscribe messages."""

    app_id: str = Field(pattern=APP_ID_PATTERN, description="the mini program's AppID (wx + 16 hex digits)")
    app_secret_env: EnvSecret = Field(description="environment variable holding the mini program's AppSecret")
    api_base: HttpUrl = "https://api.weixin.qq.com"
    realname_base: HttpUrl = Field(description="the real-name (face) verification provider")
    face_threshold: float = Field(default=80.0, ge=0, le=100,
                                  description="face similarity from which a session is L3")
    session_ttl_s: int = Field(default=7200, ge=60, le=86400, description="lifetime of a session token")
    realname_binding_days: int = Field(default=365, ge=1, le=3650,
                                       description="how long a verified openid stays bound to its person")
    timeout_s: float = Field(default=5.0, gt=0, le=30, description="timeout of each call to WeChat or the provider")
    login_attempts_per_client: RateLimit = Field(default=RateLimit(30, 60),
                                                 description="sign-ins per client address (each one is a call to "
                                                             "WeChat's jscode2session)")
    realname_attempts: RateLimit = Field(default=RateLimit(10, 3600),
                                         description="real-name checks per WeChat account (each one is a paid call "
                                                     "to the provider)")
    miniprogram_state: Literal["formal", "trial", "developer"] = Field(
        default="formal", description="which version of the mini program subscribe messages open")
    subscribe_templates: Mapping[SubscribeEvent, SubscribeTemplate] = Field(
        default_factory=dict, description="event type -> template; once any is given, every event the channel "
                                          "tells needs one or a place in notify.sms_events; none: all by SMS",
    )

    @model_validator(mode="after")
    def _template_fields(self) -> WechatSettings:
        for event, template in self.subscribe_templates.items():
            for key, value in (template.fields or {}).items():
                where = ("subscribe_templates", event, "fields", key)
                if not TEMPLATE_KEY.match(key):
                    raise settings_error("wechat", where, "not a subscribe-message key: a field type (thing, "
                               "character_string, phrase, time, date, amount, number, letter, symbol) and a number")
                if value not in EVENT_VALUES[event]:
                    known = ", ".join(sorted(EVENT_VALUES[event]))
                    raise settings_error("wechat", where, f"{event} has no value {value!r}; it offers {known}")
        return self

    @model_validator(mode="after")
    def _templates_cover_the_events(self) -> WechatSettings:
        """With subscribe messages in use, every event the channel tells has a template or is routed
        to SMS on purpose (``notify.sms_events``): a missing template would leave people untold
        on WeChat without anyone having decided so. No templates at all: nothing is pushed, all SMS."""
        if not self.subscribe_templates:
            return self
        missing = self.notify.uncarried(self.subscribe_templates)
        if missing:
            raise settings_error("wechat", ("subscribe_templates",), "no template for " + ", ".join(missing)
                                 + ": add one, or list the event under notify.sms_events to tell it by SMS")
        both = [event for event in self.subscribe_templates if not self.notify.pushes(event)
                and self.notify.wants(event)]
        if both:
            raise settings_error("wechat", ("notify", "sms_events"), "listed for SMS but given a subscribe "
                                 "template too: " + ", ".join(both) + "; keep one of the two")
        return self

    def template_fields(self, event: str) -> Mapping[str, str]:
        template = self.subscribe_templates[event]
        return template.fields if template.fields is not None else DEFAULT_FIELDS[event]
