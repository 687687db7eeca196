"""The gateway's config file (CONTRACTS.md section 2): load it once, validate all of it, name every problem.

    config = load_config(Path("config/channels.yaml"), adapters=registry)
    config.gateway.secret.value             # secrets resolve from *_env variables
    config.courts["粤0106"].base_url
    config.channel("efating").services      # an adapter's own ChannelSettings subclass

A broken file raises :class:`ConfigError`, whose ``problems`` read
``PATH:LINE: dotted.key: message``. docs/configuration.md is the reference.
"""

from gateway.config.channels import ChannelNotify, ChannelSettings, RateLimits
from gateway.config.courts import CourtContacts, CourtSettings, RoleContacts, StaffRole
from gateway.config.env_values import EnvEcKey, EnvPem, EnvPhone, EnvSecret, StrongSecret, min_bytes
from gateway.config.loader import check_config, load_config
from gateway.config.models import GatewayConfig, GatewaySettings, TrustedIssuer
from gateway.config.notify import DEFAULT_SMS_TEMPLATES, SMS_EVENTS, NotifySettings, SmsSettings
from gateway.config.problems import ConfigError, ConfigProblem
from gateway.config.schema import config_schema
from gateway.config.sla import EscalationRung, Role, SlaCalendar, SlaRule, SlaSettings, default_sla_rules
from gateway.config.types import (
    AdapterSpec,
    ChannelName,
    ConfigContext,
    ConfigFile,
    CourtCode,
    Frozen,
    HttpUrl,
    RateLimit,
)
from gateway.event_types import CITIZEN_EVENTS, COURT_EVENT_TYPES

__all__ = [
    "CITIZEN_EVENTS",
    "COURT_EVENT_TYPES",
    "DEFAULT_SMS_TEMPLATES",
    "SMS_EVENTS",
    "AdapterSpec",
    "ChannelName",
    "ChannelNotify",
    "ChannelSettings",
    "ConfigContext",
    "ConfigError",
    "ConfigFile",
    "ConfigProblem",
    "CourtCode",
    "CourtContacts",
    "CourtSettings",
    "EnvEcKey",
    "EnvPem",
    "EnvPhone",
    "EnvSecret",
    "EscalationRung",
    "Frozen",
    "GatewayConfig",
    "GatewaySettings",
    "HttpUrl",
    "NotifySettings",
    "RateLimit",
    "RateLimits",
    "Role",
    "RoleContacts",
    "SlaCalendar",
    "SlaRule",
    "SlaSettings",
    "SmsSettings",
    "StaffRole",
    "StrongSecret",
    "TrustedIssuer",
    "check_config",
    "config_schema",
    "default_sla_rules",
    "load_config",
    "min_bytes",
]
