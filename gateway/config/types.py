"""Value types of the config file (URLs, codes, limits) and the validation context.

Each type validates the YAML text and documents itself in the JSON Schema as
the string an editor should offer. Values that depend on the world outside the
file (environment variables, relative paths) come from a :class:`ConfigContext`
passed as pydantic's validation context, so the same models validate against
``os.environ`` in production and a plain dict in tests.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError, ValidationError, core_schema

if TYPE_CHECKING:
    from gateway.config.channels import ChannelSettings


class AdapterSpec(Protocol):
    """What the config needs from an adapter: its name and the model of its channel settings.

    An adapter class with ``name`` and ``settings_model`` class attributes fits.
    """

    @property
    def name(self) -> str: ...

    @property
    def settings_model(self) -> type[ChannelSettings]: ...


@dataclass(frozen=True)
class ConfigContext:
    """The outside world a config is validated against (pydantic validation context)."""

    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    base_dir: Path = field(default_factory=Path.cwd)  # relative file paths are relative to the config file
    adapters: Mapping[str, AdapterSpec] = field(default_factory=dict)


def config_context(info: ValidationInfo) -> ConfigContext:
    """The context of this validation; models validated on their own fall back to os.environ and the cwd."""
    context = info.context
    return context if isinstance(context, ConfigContext) else ConfigContext()


class Frozen(BaseModel):
    """Every config model: immutable once loaded, and unknown keys are errors (a typo must not disable a check)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def located(loc: tuple[str | int, ...], message: str, value: object = None) -> InitErrorDetails:
    """One error at ``loc`` below the model being validated."""
    return {"type": problem("config", message), "loc": loc, "input": value}


def fail(title: str, loc: tuple[str | int, ...], message: str, value: object = None) -> ValidationError:
    """An error raised from a model validator but located at one of its fields (pydantic prefixes the model's path)."""
    return ValidationError.from_exception_data(title, [located(loc, message, value)])


def carry_errors(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[InitErrorDetails]:
    """A nested validation's errors, to re-raise from an outer validator under ``prefix``."""
    # Without a context pydantic shows a template verbatim, so the formatted messages survive as they are.
    return [
        {"type": problem(error["type"], error["msg"]), "loc": (*prefix, *error["loc"]), "input": error["input"]}
        for error in exc.errors()
    ]


def problem(kind: str, message: str, **values: object) -> PydanticCustomError:
    """A validation error whose message is shown as is (no ``Value error,`` prefix)."""
    return PydanticCustomError(kind, message, dict(values) or None)


# --------------------------------------------------------------------------- rate limits

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
RATE_LIMIT_PATTERN = r"^\s*[1-9][0-9]{0,8}\s*/\s*(second|minute|hour|day)\s*$"


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` requests per ``period_s`` seconds; written ``60/minute`` in YAML."""

    count: int
    period_s: int

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        if not re.fullmatch(RATE_LIMIT_PATTERN, text):
            raise ValueError(text)
        count, unit = (part.strip() for part in text.split("/"))
        return cls(int(count), _PERIODS[unit])

    def __str__(self) -> str:
        unit = next((name for name, seconds in _PERIODS.items() if seconds == self.period_s), None)
        return f"{self.count}/{unit}" if unit else f"{self.count}/{self.period_s}s"

    @classmethod
    def _validate(cls, raw: object) -> RateLimit:
        if isinstance(raw, cls):
            return raw
        try:
            return cls.parse(raw) if isinstance(raw, str) else cls.parse("")
        except ValueError:
            raise problem(
                "rate_limit", "a rate limit is written COUNT/PERIOD, PERIOD one of second, minute, hour, day "
                "(e.g. 60/minute)"
            ) from None

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "pattern": RATE_LIMIT_PATTERN, "examples": ["60/minute", "2000/second"]}


# --------------------------------------------------------------------------- names and codes

#: Court codes as case numbers carry them (DOMAIN.md section 2): 最高法, a
#: province, province + 2 digits (intermediate and specialised courts), province + 4 digits (basic courts).
COURT_CODE_PATTERN = r"^(?:最高法|[京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔云藏陕甘青宁新兵军](?:\d{2}|\d{4})?)$"
#: A channel's name is its URL mount point: /channels/{name}/...
CHANNEL_NAME_PATTERN = r"^[a-z][a-z0-9_-]{1,31}$"


def check_court_code(text: str) -> str:
    if not re.fullmatch(COURT_CODE_PATTERN, text):
        raise problem(
            "court_code",
            "not a court code: the code as case numbers carry it, e.g. 粤01 or 粤0106 (a province and 2 or 4 digits)",
        )
    return text


def check_channel_name(text: str) -> str:
    if not re.fullmatch(CHANNEL_NAME_PATTERN, text):
        raise problem(
            "channel_name",
            "a channel name is its URL mount point: 2-32 characters, lower-case letters, digits, _ and -, "
            "starting with a letter",
        )
    return text


CourtCode = Annotated[str, AfterValidator(check_court_code), WithJsonSchema({"type": "string", "pattern": COURT_CODE_PATTERN})]
ChannelName = Annotated[
    str, AfterValidator(check_channel_name), WithJsonSchema({"type": "string", "pattern": CHANNEL_NAME_PATTERN})
]


# --------------------------------------------------------------------------- URLs, networks, files


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise problem("http_url", "must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise problem("url_credentials", "must not carry credentials; secrets go in environment variables (_env keys)")
    if parts.query or parts.fragment:
        raise problem("url_query", "must be a base URL without query or fragment")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise problem("http_url", "has an invalid port") from None
    # One spelling, so "{base_url}/api/v1/..." never gets a double slash.
    return text.rstrip("/")


#: An http(s) base URL, without trailing slash, credentials, query or fragment.
HttpUrl = Annotated[str, AfterValidator(_http_url), WithJsonSchema({"type": "string", "format": "uri",
                                                                      "pattern": "^https?://"})]

STATE_PATTERN = r"^(memory|(redis|rediss|unix|redis\+sentinel|redis\+cluster)://.+)$"
STATE_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster")


def _state_url(text: str) -> str:
    if text == "memory":
        return text
    parts = urlsplit(text)
    if parts.scheme not in STATE_SCHEMES or not (parts.netloc or parts.path):
        raise problem("state_url", "must be memory, or a redis://, rediss://, unix://, redis+sentinel:// "
                                   "or redis+cluster:// URL")
    if "@" in parts.netloc and ":" in parts.netloc.rpartition("@")[0]:
        raise problem("url_credentials", "must not carry a password; use gateway.state_password_env")
    if parts.scheme == "redis+sentinel" and not parts.path.strip("/"):
        raise problem("state_url", "a redis+sentinel:// URL names the service: redis+sentinel://HOST:PORT/SERVICE")
    return text


StateUrl = Annotated[str, AfterValidator(_state_url), WithJsonSchema({"type": "string", "pattern": STATE_PATTERN})]

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip_network(raw: object) -> IpNetwork:
    if isinstance(raw, IpNetwork):
        return raw
    if not isinstance(raw, str):
        raise problem("ip_network", "must be an IP address or a CIDR network such as 10.0.0.0/8")
    try:
        return ipaddress.ip_network(raw.strip(), strict=True)
    except ValueError:
        pass
    try:
        ipaddress.ip_network(raw.strip(), strict=False)
    except ValueError:
        raise problem("ip_network", "must be an IP address or a CIDR network such as 10.0.0.0/8") from None
    # Host bits set usually means a mistyped prefix; trusting a wider net than meant is a security bug.
    raise problem("ip_network_host_bits", "{text} has host bits set; write the network address",
                  text=raw.strip())


Network = Annotated[IpNetwork, PlainValidator(_ip_network, json_schema_input_type=str)]


def _config_file(raw: object, info: ValidationInfo) -> Path:
    if not isinstance(raw, str | Path) or not str(raw).strip():
        raise problem("file_path", "must be a file path")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = config_context(info).base_dir / path
    if not path.is_file():
        raise problem("file_missing", "file not found: {path}", path=str(path))
    if not os.access(path, os.R_OK):
        raise problem("file_unreadable", "file not readable: {path}", path=str(path))
    return path


#: An existing, readable file; a relative path is relative to the config file's directory.
ConfigFile = Annotated[Path, PlainValidator(_config_file, json_schema_input_type=str)]
