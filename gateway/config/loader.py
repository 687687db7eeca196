"""Read a config file once, validate all of it, and report every problem with its line."""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from gateway.config.channels import ChannelSettings
from gateway.config.models import GatewayConfig
from gateway.config.problems import ConfigError, ConfigProblem
from gateway.config.types import AdapterSpec, ConfigContext
from gateway.config.yaml_source import YamlDocument, YamlProblem, parse_yaml


def load_config(
    path: Path, *, env: Mapping[str, str] | None = None, adapters: Mapping[str, AdapterSpec]
) -> GatewayConfig:
    """Load and validate ``path``; raise :class:`ConfigError` listing every problem.

    ``env`` is where ``*_env`` keys are looked up (default: the process
    environment); ``adapters`` maps adapter names to their specs, whose
    settings models validate the channels.
    """
    _check_adapters(adapters)
    path = Path(path)
    document = _read(path)
    problems = [ConfigProblem(path, p.line, _dotted(p.path), p.message) for p in document.problems]
    if not document.parsed:
        raise ConfigError(problems)
    context = ConfigContext(env=os.environ if env is None else env, base_dir=path.absolute().parent,
                            adapters=adapters)
    try:
        config = GatewayConfig.model_validate(document.data, context=context)
    except ValidationError as exc:
        problems.extend(_problem(path, document, error) for error in exc.errors())
    if problems:
        raise ConfigError(problems)
    return config.with_source(path)


def check_config(path: Path, env: Mapping[str, str] | None, adapters: Mapping[str, AdapterSpec]) -> list[str]:
    """Every problem of the file as ``PATH:LINE: dotted.key: message``; empty when it is valid."""
    try:
        load_config(path, env=env, adapters=adapters)
    except ConfigError as exc:
        return [str(problem) for problem in exc.problems]
    return []


def _check_adapters(adapters: Mapping[str, AdapterSpec]) -> None:
    # A wrong registry is a programming error, not a config problem: fail loudly.
    for name, spec in adapters.items():
        if not (isinstance(spec.settings_model, type) and issubclass(spec.settings_model, ChannelSettings)):
            raise TypeError(f"adapter {name!r}: settings_model must subclass gateway.config.ChannelSettings")


def _read(path: Path) -> YamlDocument:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return _unreadable(f"cannot read the file: {exc.strerror or exc}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _unreadable("the file is not UTF-8", raw[: exc.start].count(b"\n") + 1)
    return parse_yaml(text)


def _unreadable(message: str, line: int = 1) -> YamlDocument:
    return YamlDocument(None, problems=[YamlProblem((), line, message)], parsed=False)


def _dotted(keys: Sequence[Hashable]) -> str:
    return ".".join(str(key) for key in keys)


def _problem(path: Path, document: YamlDocument, error: ErrorDetails) -> ConfigProblem:
    keys, line = _locate(document, error["loc"])
    return ConfigProblem(path, line, _dotted(keys), _message(error))


def _locate(document: YamlDocument, loc: tuple[str | int, ...]) -> tuple[list[Hashable], int]:
    """Follow pydantic's error location through the file: the dotted key, and the line of the deepest key found.

    A key the file does not have (a missing one, or one a default filled in)
    stays in the dotted key and points at its parent's line. A name pydantic
    adds below a plain value (a union branch) is dropped.
    """
    node: object = document.data
    keys: list[Hashable] = []
    line = document.lines.get((), 1)
    inside = True
    for part in loc:
        if part == "[key]":  # pydantic's marker for an error in a mapping key: the key is already in the path
            continue
        if inside and _has(node, part):
            node = node[part]  # type: ignore[index]
            keys.append(part)
            line = document.lines.get(tuple(keys), line)
        elif inside and not isinstance(node, Mapping | list):
            continue
        else:
            inside = False
            keys.append(part)
    return keys, line


def _has(node: object, part: str | int) -> bool:
    if isinstance(node, Mapping):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


_KINDS = {str: "a string", int: "a number", float: "a number", bool: "true/false", list: "a list",
          dict: "a mapping", type(None): "empty"}


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in ("model_type", "model_attributes_type", "dict_type", "mapping_type"):
        return f"must be a mapping (key: value), not {_KINDS.get(type(error['input']), 'this')}"
    return error["msg"]
