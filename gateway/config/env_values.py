"""Secrets the config names by environment variable (every key ending in ``_env``).

The YAML holds a variable's name; validation reads the value from the
environment of the :class:`~gateway.config.types.ConfigContext` and checks its
format (a PEM key parses, a phone is a mobile number, a signing key is long
enough). The objects print as their variable's name only.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import AfterValidator, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from gateway.config.types import config_context, problem

ENV_NAME_PATTERN = r"^[A-Z][A-Z0-9_]*$"


class EnvSecret:
    """A secret the config names by its environment variable (keys ending in ``_env``).

    In YAML it is the variable's name; once validated ``.value`` holds the
    variable's value. ``str()``, ``repr()`` and serialisation show only the name,
    so a config can be logged or dumped without leaking anything.
    """

    __slots__ = ("_value", "name")
    schema_description: ClassVar[str] = "name of the environment variable holding the secret"

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self._value = value

    @property
    def value(self) -> str:
        return self._value

    @property
    def value_bytes(self) -> bytes:
        """The UTF-8 bytes of the value: what HMAC keys and JWT secrets are made of."""
        return self._value.encode()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        # Equal config after a reload means equal values too (a rotated key is a change);
        # compare_digest keeps the comparison's timing independent of the secret.
        return (
            type(other) is type(self)
            and isinstance(other, EnvSecret)
            and other.name == self.name
            and hmac.compare_digest(other.value_bytes, self.value_bytes)
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name))

    @classmethod
    def resolve(cls, name: str, env: Mapping[str, str]) -> Self:
        value = env.get(name)
        if value is None:
            raise problem("env_missing", "environment variable {name} is not set", name=name)
        if not value.strip():
            raise problem("env_empty", "environment variable {name} is empty", name=name)
        return cls.from_value(name, value)

    @classmethod
    def from_value(cls, name: str, value: str) -> Self:
        """Build from a value already in hand; subclasses parse and check it here."""
        return cls(name, value)

    @classmethod
    def _validate(cls, raw: object, info: ValidationInfo) -> Self:
        if isinstance(raw, cls):
            return raw
        if not isinstance(raw, str) or not re.fullmatch(ENV_NAME_PATTERN, raw):
            # The value is not echoed: a key ending in _env that does not hold a
            # variable name most often holds the secret itself.
            raise problem(
                "env_name",
                "must name an environment variable (upper-case letters, digits and _), "
                "never hold the secret itself",
            )
        return cls.resolve(raw, config_context(info).env)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(_env_name),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "pattern": ENV_NAME_PATTERN, "description": cls.schema_description}


def _env_name(secret: EnvSecret) -> str:
    return secret.name


def min_bytes(count: int) -> AfterValidator:
    """Refuse secrets shorter than ``count`` bytes (HMAC and HS256 keys below 256 bits are guessable)."""

    def check(secret: EnvSecret) -> EnvSecret:
        size = len(secret.value_bytes)
        if size < count:
            raise problem(
                "env_too_short",
                "environment variable {name} holds {size} bytes; at least {count} are required",
                name=secret.name, size=size, count=count,
            )
        return secret

    return AfterValidator(check)


#: A secret of at least 32 bytes: session-token, event-signature and pseudonym keys.
StrongSecret = Annotated[EnvSecret, min_bytes(32)]


def _load_pem(name: str, value: str) -> PrivateKeyTypes:
    # An env file cannot hold line breaks, so a PEM written with literal "\n" is accepted too.
    text = value.replace("\\n", "\n") if "\n" not in value else value
    try:
        return load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise problem(
            "env_pem", "environment variable {name} does not hold an unencrypted PEM private key", name=name
        ) from None


class EnvPem(EnvSecret):
    """A PEM private key in an environment variable; ``.key`` is the parsed key."""

    __slots__ = ("key",)
    schema_description = "name of the environment variable holding a PEM private key"

    def __init__(self, name: str, value: str, key: PrivateKeyTypes) -> None:
        super().__init__(name, value)
        self.key = key

    @classmethod
    def from_value(cls, name: str, value: str) -> Self:
        return cls(name, value, _load_pem(name, value))


class EnvEcKey(EnvSecret):
    """An EC P-256 private key (PEM) in an environment variable, for ES256; ``.key`` is the parsed key."""

    __slots__ = ("key",)
    schema_description = "name of the environment variable holding a PEM EC P-256 private key"

    def __init__(self, name: str, value: str, key: ec.EllipticCurvePrivateKey) -> None:
        super().__init__(name, value)
        self.key = key

    @classmethod
    def from_value(cls, name: str, value: str) -> Self:
        key = _load_pem(name, value)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise problem(
                "env_pem_curve", "environment variable {name} holds a key that is not EC P-256 (ES256)", name=name
            )
        return cls(name, value, key)


MOBILE_PATTERN = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


def normalise_mobile(text: str) -> str | None:
    """``+86 138 0013 8000`` -> ``13800138000``; None when it is not a mainland mobile number (SMS needs one)."""
    match = MOBILE_PATTERN.match(re.sub(r"[\s-]", "", text))
    return match.group(1) if match else None


class EnvPhone(EnvSecret):
    """A mainland mobile number in an environment variable (staff phones are personal data, not config)."""

    __slots__ = ()
    schema_description = "name of the environment variable holding a mobile number"

    @classmethod
    def from_value(cls, name: str, value: str) -> Self:
        number = normalise_mobile(value)
        if number is None:
            raise problem("env_phone", "environment variable {name} does not hold a mobile number", name=name)
        return cls(name, number)
