"""The config file as a whole, and its gateway section (CONTRACTS.md section 2).

docs/configuration.md is the reference for every key. Cross-section rules (the
default court exists, SLA messages have an SMS gateway) live on
:class:`GatewayConfig`; they look at the raw data so they are reported together
with every other problem rather than only once the rest is clean.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    PlainValidator,
    PrivateAttr,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, ValidationError

from gateway.config.channels import Channels, ChannelSettings, RateLimits
from gateway.config.courts import CourtSettings
from gateway.config.env_values import EnvEcKey, EnvSecret, StrongSecret
from gateway.config.notify import NotifySettings
from gateway.config.sla import SlaSettings, merge_rule_overrides
from gateway.config.types import (
    COURT_CODE_PATTERN,
    ConfigFile,
    CourtCode,
    Frozen,
    HttpUrl,
    Network,
    RateLimit,
    StateUrl,
    carry_errors,
    config_context,
    fail,
    located,
    problem,
)

# --------------------------------------------------------------------------- gateway

#: Asymmetric algorithms only: with a JWKS, accepting HS256 would let anyone holding
#: the public key forge tokens (algorithm confusion); "none" is never accepted.
JwtAlgorithm = Literal["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


def _non_empty(items: tuple[str, ...]) -> tuple[str, ...]:
    if not items:
        raise problem("empty_list", "list at least one")
    return items


class TrustedIssuer(Frozen):
    """An identity provider whose JWTs may call the canonical HTTP API directly (portals, staff tools)."""

    issuer: str = Field(min_length=1, description="the iss claim, exactly")
    audience: str = Field(min_length=1, description="the aud claim the gateway requires")
    jwks_url: HttpUrl
    algorithms: Annotated[tuple[JwtAlgorithm, ...], AfterValidator(_non_empty)] = ("RS256", "ES256")
    staff_roles_claim: str = Field(default="roles", min_length=1, description="claim listing the caller's staff roles")
    # Staff sign-in to the console (OpenID Connect authorization code with PKCE, CONTRACTS.md section 9):
    # either both endpoints, or the discovery document that names them.
    authorization_endpoint: HttpUrl | None = None
    token_endpoint: HttpUrl | None = None
    discovery_url: HttpUrl | None = Field(default=None,
                                          description="the issuer's /.well-known/openid-configuration")
    client_id: str | None = Field(default=None, min_length=1,
                                  description="the console's client id at this issuer (default: audience)")
    client_secret_env: EnvSecret | None = Field(default=None,
                                                description="only for an issuer that wants a confidential client")

    @model_validator(mode="after")
    def _sign_in_endpoints(self) -> TrustedIssuer:
        pair = (self.authorization_endpoint is None, self.token_endpoint is None)
        if pair[0] != pair[1]:
            missing = "token_endpoint" if pair[1] else "authorization_endpoint"
            raise fail("TrustedIssuer", (missing,), "give authorization_endpoint and token_endpoint together", None)
        if self.discovery_url is not None and self.authorization_endpoint is not None:
            raise fail("TrustedIssuer", ("discovery_url",),
                       "give discovery_url or the two endpoints, not both", self.discovery_url)
        return self

    @property
    def offers_sign_in(self) -> bool:
        return self.discovery_url is not None or self.authorization_endpoint is not None


class ConsoleSettings(Frozen):
    """The staff and operator web console under /console/ (CONTRACTS.md section 9)."""

    operator_role: str = Field(default="gateway_operator", min_length=1,
                               description="the staff role (in the issuer's roles claim) that sees every court")
    sign_in_issuer: str | None = Field(default=None, min_length=1,
                                       description="issuer staff sign in with (default: the first that offers it)")
    public_url: HttpUrl | None = Field(default=None, description="the gateway's URL as browsers reach it")
    session_ttl_s: int = Field(default=8 * 3600, ge=300, le=7 * 86400, description="console session lifetime")
    secure_cookies: bool = Field(default=True, description="Secure cookies (only demo turns this off)")


def _audit_log(raw: object, info: ValidationInfo) -> str:
    if raw == "stdout":
        return "stdout"
    if not isinstance(raw, str) or not raw.strip():
        raise problem("audit_log", 'must be "stdout" or a file path')
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else config_context(info).base_dir / path
    if not path.parent.is_dir():
        raise problem("audit_log_dir", "directory not found: {path}", path=str(path.parent))
    return str(path)


AuditLog = Annotated[str, PlainValidator(_audit_log, json_schema_input_type=str)]
_HOST_PORT = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+)):(?P<port>[0-9]{1,5})$")


def _host_port(raw: str) -> str:
    match = _HOST_PORT.match(raw)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise problem("host_port", "must be HOST:PORT, such as 127.0.0.1:9090 or [::1]:9090")
    return raw


#: HOST:PORT of the operations listener (CONTRACTS.md section 6)
HostPort = Annotated[str, AfterValidator(_host_port)]


def split_host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def _unique_issuers(issuers: tuple[TrustedIssuer, ...]) -> tuple[TrustedIssuer, ...]:
    seen: set[tuple[str, str]] = set()
    for index, issuer in enumerate(issuers):
        if (issuer.issuer, issuer.audience) in seen:
            raise fail("TrustedIssuer", (index, "issuer"), "issuer and audience listed twice", issuer.issuer)
        seen.add((issuer.issuer, issuer.audience))
    return issuers


class GatewaySettings(Frozen):
    """The ``gateway:`` section: state, keys, trusted callers and limits of the gateway itself."""

    state: StateUrl = Field(default="memory", description="memory, or a redis://, rediss://, unix://, "
                                                          "redis+sentinel:// or redis+cluster:// URL")
    state_username: str | None = Field(default=None, min_length=1, description="Redis ACL user")
    state_password_env: EnvSecret | None = None
    state_tls: bool = Field(default=False, description="TLS to Redis (rediss:// implies it)")
    state_tls_ca_file: ConfigFile | None = Field(default=None, description="CA bundle that signed Redis's cert")
    state_tls_cert_file: ConfigFile | None = Field(default=None, description="client certificate (mutual TLS)")
    state_tls_key_file: ConfigFile | None = Field(default=None, description="client key (mutual TLS)")
    secret_env: StrongSecret = Field(description="HS256 key of channel session tokens (>= 32 bytes)")
    signing_key_env: EnvEcKey = Field(description="PEM EC P-256 key signing actor tokens (ES256)")
    previous_signing_keys_env: tuple[EnvEcKey, ...] = ()
    trusted_issuers: Annotated[tuple[TrustedIssuer, ...], AfterValidator(_unique_issuers)] = ()
    default_court: CourtCode | None = None
    trusted_proxies: tuple[Network, ...] = ()
    pseudonym_secret_env: StrongSecret | None = None
    audit_log: AuditLog = "stdout"
    console: ConsoleSettings = ConsoleSettings()
    password_failures_per_court: RateLimit = Field(
        default=RateLimit(30, 3600),
        description="wrong case query passwords a court takes from all callers together before its password "
                    "service pauses for the rest of the hour (its contacts are told by SMS)",
    )
    uploads_per_client: int = Field(default=2, ge=1, le=64,
                                    description="uploads one client address may have in flight at once")
    ops_listen: HostPort | None = Field(
        default=None, description="HOST:PORT of a second listener for /metrics and /readyz (and /healthz); "
        "with it the public listener answers 404 for them",
    )
    api_rate_limits: RateLimits = Field(
        default=RateLimits(per_actor=RateLimit(600, 60), per_channel=RateLimit(5000, 1)),
        description="limits of the canonical HTTP API (first-party apps, back office): per person and in all",
    )

    @model_validator(mode="after")
    def _console_issuer(self) -> GatewaySettings:
        wanted = self.console.sign_in_issuer
        if wanted is not None and not any(i.issuer == wanted and i.offers_sign_in for i in self.trusted_issuers):
            raise fail("GatewaySettings", ("console", "sign_in_issuer"),
                       "no trusted_issuers entry with this issuer offers sign-in "
                       "(authorization_endpoint/token_endpoint or discovery_url)", wanted)
        return self

    @property
    def sign_in_issuer(self) -> TrustedIssuer | None:
        """The issuer court staff sign in to the console with, if any offers sign-in."""
        offering = [i for i in self.trusted_issuers if i.offers_sign_in]
        wanted = self.console.sign_in_issuer
        chosen = [i for i in offering if wanted is None or i.issuer == wanted]
        return chosen[0] if chosen else None

    def _state_tls_consistent(self) -> GatewaySettings:
        if (self.state_tls_cert_file is None) != (self.state_tls_key_file is None):
            missing = "state_tls_key_file" if self.state_tls_key_file is None else "state_tls_cert_file"
            raise fail("GatewaySettings", (missing,), "mutual TLS needs state_tls_cert_file and state_tls_key_file")
        tls_files = self.state_tls_ca_file or self.state_tls_cert_file
        if tls_files and not self.uses_state_tls:
            raise fail("GatewaySettings", ("state_tls",), "TLS files are given: use rediss:// or state_tls: true")
        if self.state_tls and self.state.startswith(("redis://", "unix://")):
            raise fail("GatewaySettings", ("state_tls",), "for TLS to one Redis use a rediss:// URL")
        return self

    @property
    def uses_state_tls(self) -> bool:
        return self.state_tls or self.state.startswith("rediss://")

    @property
    def secret(self) -> EnvSecret:
        return self.secret_env

    @property
    def signing_key(self) -> EnvEcKey:
        return self.signing_key_env

    @property
    def signing_keys(self) -> tuple[EnvEcKey, ...]:
        """The current key first, then the keys still published in the JWKS during a key change."""
        return (self.signing_key_env, *self.previous_signing_keys_env)

    @property
    def pseudonym_key(self) -> bytes:
        """Key of the keyed hash that turns an actor into the ``sub`` of audit records."""
        if self.pseudonym_secret_env is not None:
            return self.pseudonym_secret_env.value_bytes
        # Derived rather than reused, so the session-token key never doubles as another key.
        return hmac.new(self.secret_env.value_bytes, b"court-gateway/pseudonym/v1", hashlib.sha256).digest()

    @property
    def audit_log_path(self) -> Path | None:
        return None if self.audit_log == "stdout" else Path(self.audit_log)


# --------------------------------------------------------------------------- the whole file


def _some_courts(courts: Mapping[str, CourtSettings]) -> Mapping[str, CourtSettings]:
    if not courts:
        raise problem("no_courts", "at least one court is required")
    return courts


def _sms_users(data: Mapping[Any, Any]) -> list[str]:
    sla = data.get("sla")
    merged = merge_rule_overrides(sla.get("rules") if isinstance(sla, Mapping) else None)
    if not isinstance(merged, Mapping):
        return []
    return [str(op) for op, rule in merged.items()
            if isinstance(rule, Mapping) and (rule.get("reminders_before_days") or rule.get("escalation"))]


def _sms_problem(data: Mapping[Any, Any]) -> list[InitErrorDetails]:
    notify = data.get("notify")
    if isinstance(notify, Mapping) and notify.get("sms") is not None:
        return []
    users = _sms_users(data)
    if not users:
        return []
    message = (f"required: SLA reminders and escalation go out by SMS (rules for {', '.join(users)}); "
               "configure notify.sms, or set those rules' reminders_before_days and escalation to []")
    return [located(("notify", "sms"), message)]


def _default_court_problem(data: Mapping[Any, Any]) -> list[InitErrorDetails]:
    gateway, courts = data.get("gateway"), data.get("courts")
    if not isinstance(gateway, Mapping) or not isinstance(courts, Mapping):
        return []
    code = gateway.get("default_court")
    if not isinstance(code, str) or not re.fullmatch(COURT_CODE_PATTERN, code) or not courts:
        return []  # a malformed code is already reported by its own type
    if code not in courts:
        message = f"{code} is not one of the courts under courts:"
    elif isinstance(courts[code], Mapping) and courts[code].get("enabled") is False:
        message = f"{code} is disabled"
    else:
        return []
    return [located(("gateway", "default_court"), message, code)]


def _cross_problems(data: object) -> list[InitErrorDetails]:
    if not isinstance(data, Mapping):
        return []
    return [*_default_court_problem(data), *_sms_problem(data)]


class GatewayConfig(Frozen):
    """A validated config file. Load it with :func:`gateway.config.load_config`."""

    version: Literal[1] = Field(description="the config format; only 1 exists")
    gateway: GatewaySettings
    courts: Annotated[Mapping[CourtCode, CourtSettings], AfterValidator(_some_courts)]
    channels: Channels = Field(default_factory=dict)
    notify: NotifySettings = NotifySettings()
    sla: SlaSettings = SlaSettings()
    _source: Path | None = PrivateAttr(None)

    @model_validator(mode="wrap")
    @classmethod
    def _cross_checks(cls, data: object, handler: ValidatorFunctionWrapHandler) -> GatewayConfig:
        extra = _cross_problems(data)
        try:
            config: GatewayConfig = handler(data)
        except ValidationError as exc:
            if not extra:
                raise
            raise ValidationError.from_exception_data(cls.__name__, [*carry_errors(exc), *extra]) from None
        if extra:
            raise ValidationError.from_exception_data(cls.__name__, extra)
        return config

    @field_validator("notify", "sla", mode="before")
    @classmethod
    def _empty_section(cls, value: object) -> object:
        return {} if value is None else value

    def with_source(self, path: Path) -> GatewayConfig:
        self._source = path
        return self

    @property
    def source_path(self) -> Path | None:
        """The file this config was loaded from (None when built in code)."""
        return self._source

    @property
    def court_codes(self) -> tuple[str, ...]:
        return tuple(self.courts)

    @property
    def enabled_court_codes(self) -> tuple[str, ...]:
        return tuple(code for code, court in self.courts.items() if court.enabled)

    @property
    def default_court(self) -> str:
        """``gateway.default_court``, else the first enabled court listed (else the first listed)."""
        if self.gateway.default_court is not None:
            return self.gateway.default_court
        return (self.enabled_court_codes or self.court_codes)[0]

    def court(self, code: str) -> CourtSettings:
        return self.courts[code]

    @property
    def enabled_channels(self) -> dict[str, ChannelSettings]:
        return {name: channel for name, channel in self.channels.items() if channel.enabled}

    def channel(self, name: str) -> ChannelSettings:
        return self.channels[name]
