"""The JSON Schema (draft 2020-12) of the config file, for editors and CI (``court-gateway config-schema``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from gateway.config.models import GatewayConfig
from gateway.config.types import CHANNEL_NAME_PATTERN, AdapterSpec

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def config_schema(adapters: Mapping[str, AdapterSpec]) -> dict[str, Any]:
    """The whole file; each channel is checked against the settings model of its adapter.

    A channel named after an adapter may leave ``adapter`` out (it defaults to
    the name); any other channel must name its adapter.
    """
    models: list[type[BaseModel]] = [GatewayConfig, *(spec.settings_model for spec in adapters.values())]
    refs, document = models_json_schema([(model, "validation") for model in models], ref_template="#/$defs/{model}")
    defs: dict[str, Any] = dict(document.get("$defs", {}))
    root_name = refs[(GatewayConfig, "validation")]["$ref"].rsplit("/", 1)[-1]
    root: dict[str, Any] = defs.pop(root_name)
    by_adapter = {name: refs[(spec.settings_model, "validation")]["$ref"] for name, spec in sorted(adapters.items())}
    root["properties"]["channels"] = _channels(by_adapter)
    schema = {"$schema": DRAFT, **root, "title": "court-gateway config", "$defs": defs}
    _close_pattern_maps(schema)
    return schema


def _close_pattern_maps(node: object) -> None:
    """pydantic leaves keys that miss a mapping's key pattern allowed; the config refuses them, so must the schema."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for child in node.values():
            _close_pattern_maps(child)
    elif isinstance(node, list):
        for child in node:
            _close_pattern_maps(child)


def _branch(adapter: str, ref: str, *, named: bool) -> dict[str, Any]:
    branch: dict[str, Any] = {"allOf": [{"$ref": ref}], "properties": {"adapter": {"const": adapter}}}
    if named:
        branch["required"] = ["adapter"]
    return branch


def _channels(by_adapter: Mapping[str, str]) -> dict[str, Any]:
    named = [_branch(adapter, ref, named=True) for adapter, ref in by_adapter.items()]
    own_name = {
        adapter: {"anyOf": [_branch(adapter, ref, named=False),
                            *(b for b in named if b["properties"]["adapter"]["const"] != adapter)]}
        for adapter, ref in by_adapter.items()
    }
    return {
        "type": "object",
        "description": "channel name (its URL mount point /channels/{name}) -> settings of its adapter",
        "propertyNames": {"pattern": CHANNEL_NAME_PATTERN},
        "properties": own_name,
        "additionalProperties": {"anyOf": named} if named else False,
    }
