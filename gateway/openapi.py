"""The OpenAPI 3.1 document at ``/api/v1/openapi.json``, generated from the catalog and models.

Generated, never hand-written, so the document cannot drift from the routes
(OWASP API9): a test compares it with the app's routing table.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from gateway.catalog import OPERATIONS, Operation
from gateway.errors import CODES
from gateway.models import Problem, QueuedResult

_REF = "#/components/schemas/{model}"


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(model.model_json_schema(ref_template=_REF, mode="serialization"))
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    return schema


def _ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    if model.__name__ not in components:
        components[model.__name__] = _schema(model, components)
    return {"$ref": _REF.format(model=model.__name__)}


def _parameters(op: Operation, args_schema: dict[str, Any]) -> list[dict[str, Any]]:
    properties = args_schema.get("properties", {})
    required = set(args_schema.get("required", []))
    params = [
        {"name": name, "in": "path", "required": True, "schema": properties.get(name, {"type": "string"})}
        for name in op.path_params
    ]
    if op.method == "GET" or op.id == "uploads.create":
        params += [
            {"name": name, "in": "query", "required": name in required, "schema": schema}
            for name, schema in properties.items() if name not in op.path_params
        ]
    if op.is_write:
        params.append({"name": "Idempotency-Key", "in": "header", "required": op.id != "uploads.create",
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                       "description": "1-255 printable ASCII; the same key and body within 24 h replays"})
    return params


def _request_body(op: Operation, args_schema: dict[str, Any]) -> dict[str, Any] | None:
    if op.method != "POST":
        return None
    if op.id == "uploads.create":
        return {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream"}}}}}}
    body = copy.deepcopy(args_schema)
    for name in op.path_params:
        body.get("properties", {}).pop(name, None)
        if name in body.get("required", []):
            body["required"].remove(name)
    return {"required": True, "content": {"application/json": {"schema": body}}}


def _responses(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": _ref(Problem, components)}}
    if op.binary:
        success = {"description": "the file", "content": {"application/octet-stream": {"schema": {"type": "string"}}}}
    else:
        success = {"description": "success", "content": {"application/json": {"schema": _ref(op.result, components)}}}
    responses: dict[str, Any] = {str(op.success_status): success}
    if op.is_write and op.id != "uploads.create":
        responses["202"] = {"description": "accepted and queued: the court will receive it when it is back",
                            "content": {"application/json": {"schema": _ref(QueuedResult, components)}}}
    for status in sorted({info.status for info in CODES.values()}):
        responses.setdefault(str(status), {"description": "error (see `code`)", "content": problem})
    return responses


def _operation(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    args_schema = _schema(op.args, components)
    entry: dict[str, Any] = {
        "operationId": op.id,
        "summary": op.summary,
        "tags": [op.id.split(".")[0]],
        "parameters": _parameters(op, args_schema),
        "responses": _responses(op, components),
        "x-kind": op.kind.value,
        "x-assurance": op.assurance,
        "x-access": op.access.value,
    }
    body = _request_body(op, args_schema)
    if body:
        entry["requestBody"] = body
    if op.needs_actor:
        entry["security"] = [{"bearer": []}]
    return entry


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        paths.setdefault("/api/v1" + op.path, {})[op.method.lower()] = _operation(op, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "court-gateway canonical litigation-service API",
            "version": "1.0.0",
            "description": "One API for the courts of Guangzhou behind every channel. Errors are "
                           "application/problem+json with a stable `code`.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
