"""Courts: where each court system lives, how to reach it, and whom to tell when time runs out."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, PrivateAttr, model_validator

from gateway.config.env_values import EnvPhone, EnvSecret, StrongSecret, normalise_mobile
from gateway.config.sla import Role
from gateway.config.types import ConfigFile, Frozen, HttpUrl, fail, problem

StaffRole = Literal["division_head", "vice_president", "president"]


def _dedupe(phones: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(phones))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {getattr(exc, 'strerror', None) or 'not UTF-8'}") from None


def _read_phone_lines(path: Path) -> list[str] | str:
    """Mobile numbers of a phones file, or what is wrong with it (never the number itself)."""
    try:
        text = _read_text(path)
    except ValueError as exc:
        return str(exc)
    phones: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        phone = normalise_mobile(text)
        if phone is None:
            return f"line {number} of {path} is not a mobile number"
        phones.append(phone)
    return phones


class RoleContacts(Frozen):
    """Who holds a role at a court; phones come from the environment or a file, never from this YAML."""

    phones_env: tuple[EnvPhone, ...] = ()
    phones_file: ConfigFile | None = Field(default=None, description="one mobile number per line, # comments")
    _file_phones: tuple[str, ...] = PrivateAttr(())

    @model_validator(mode="after")
    def _load(self) -> RoleContacts:
        if not self.phones_env and self.phones_file is None:
            raise problem("contacts_empty", "give phones_env or phones_file")
        if self.phones_file is not None:
            read = _read_phone_lines(self.phones_file)
            if isinstance(read, str):
                raise fail("RoleContacts", ("phones_file",), read, str(self.phones_file))
            self._file_phones = tuple(read)
        return self

    @property
    def phones(self) -> tuple[str, ...]:
        return _dedupe([secret.value for secret in self.phones_env] + list(self._file_phones))


def _handler_map(data: object) -> dict[str, str] | str:
    """handler reference -> mobile, or what is wrong (the position, never a number)."""
    if not isinstance(data, Mapping):
        return "must hold a mapping of handler reference to mobile number"
    result: dict[str, str] = {}
    for index, (ref, raw) in enumerate(data.items(), start=1):
        phone = normalise_mobile(str(raw)) if isinstance(raw, str | int) else None
        if phone is None:
            return f"entry {index} is not a mobile number"
        result[str(ref)] = phone
    return result


def _handlers_from(key: str, load: Callable[[], object]) -> dict[str, str]:
    try:
        result = _handler_map(load())
    except json.JSONDecodeError:
        result = "is not valid JSON"
    except yaml.YAMLError:
        result = "is not valid YAML"
    except ValueError as exc:  # the file could not be read
        raise fail("CourtContacts", (key,), str(exc)) from None
    if isinstance(result, str):
        raise fail("CourtContacts", (key,), f"the handler map {result}")
    return result


class CourtContacts(Frozen):
    """Phones for SLA reminders and escalation (CONTRACTS.md section 8).

    ``handler`` in a court event is an opaque staff reference; the handler map
    turns it into a phone. The other roles have fixed phones per court.
    """

    handlers_env: EnvSecret | None = Field(default=None, description="variable holding a JSON object: handler -> mobile")
    handlers_file: ConfigFile | None = Field(default=None, description="YAML or JSON file: handler -> mobile")
    roles: Mapping[StaffRole, RoleContacts] = Field(default_factory=dict)
    _handlers: Mapping[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _load(self) -> CourtContacts:
        if self.handlers_env is not None and self.handlers_file is not None:
            raise fail("CourtContacts", ("handlers_file",), "give handlers_env or handlers_file, not both")
        secret, path = self.handlers_env, self.handlers_file
        if secret is not None:
            self._handlers = _handlers_from("handlers_env", lambda: json.loads(secret.value))
        if path is not None:
            self._handlers = _handlers_from("handlers_file", lambda: yaml.safe_load(_read_text(path)))
        return self

    @property
    def handler_phones(self) -> Mapping[str, str]:
        """Staff reference -> phone, as configured (the console shows them masked)."""
        return self._handlers

    def phones(self, role: Role, handler: str | None = None) -> tuple[str, ...]:
        """Phones to tell for ``role``; for ``handler``, the phone of that staff reference if known."""
        if role == "handler":
            phone = self._handlers.get(handler) if handler is not None else None
            return (phone,) if phone else ()
        contacts = self.roles.get(role)
        return contacts.phones if contacts is not None else ()


class CourtSettings(Frozen):
    name: str = Field(min_length=1)
    base_url: HttpUrl = Field(description="the court system's root; the gateway calls {base_url}/api/v1/...")
    timeout_s: float = Field(default=5.0, gt=0, le=120, description="whole-request timeout of a court call")
    connect_timeout_s: float = Field(default=2.0, gt=0, le=60)
    event_secret_env: StrongSecret = Field(description="HMAC-SHA256 key of X-Court-Signature on court events")
    ca_file: ConfigFile | None = None
    client_cert_file: ConfigFile | None = None
    client_key_file: ConfigFile | None = None
    enabled: bool = True
    contacts: CourtContacts = CourtContacts()

    @model_validator(mode="after")
    def _consistent(self) -> CourtSettings:
        if self.connect_timeout_s > self.timeout_s:
            raise fail("CourtSettings", ("connect_timeout_s",), "must not exceed timeout_s", self.connect_timeout_s)
        if (self.client_cert_file is None) != (self.client_key_file is None):
            missing = "client_key_file" if self.client_key_file is None else "client_cert_file"
            raise fail("CourtSettings", (missing,), "mutual TLS needs client_cert_file and client_key_file", None)
        if not self.is_https and (self.ca_file or self.client_cert_file):
            raise fail("CourtSettings", ("base_url",), "TLS files are set, so base_url must be https://",
                       self.base_url)
        return self

    @property
    def is_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def uses_mtls(self) -> bool:
        return self.client_cert_file is not None
