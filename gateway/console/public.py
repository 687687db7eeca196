"""The front page ``/`` (where the console, the API reference and the health endpoints are) and the
API reference ``/api/v1/docs``, rendered on the server from the OpenAPI document: no viewer to vendor,
no script, and it cannot drift from /api/v1/openapi.json because it is made from the same data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.console.render import page
from gateway.openapi import openapi_document

_ACCESS_LABELS = {"public": "公开", "self": "本人", "own": "本人创建的", "participant": "案件参与人"}


@dataclass(frozen=True)
class Field:
    name: str
    where: str
    required: bool
    type: str
    description: str


@dataclass(frozen=True)
class Endpoint:
    operation_id: str
    method: str
    path: str
    summary: str
    kind: str
    assurance: str
    access: str
    fields: list[Field]


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type_of(part) for part in schema["anyOf"])
    if schema.get("type") == "array":
        return f"[{_type_of(schema.get('items', {}))}]"
    return str(schema.get("type", "object"))


def _fields(operation: dict[str, Any]) -> list[Field]:
    found = [Field(p["name"], p["in"], bool(p.get("required")), _type_of(p.get("schema", {})),
                   str(p.get("description") or _description(p.get("schema", {}))))
             for p in operation.get("parameters", [])]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    required = set(body.get("required", []))
    for name, schema in body.get("properties", {}).items():
        found.append(Field(name, "body", name in required, _type_of(schema), _description(schema)))
    return found


def _description(schema: dict[str, Any]) -> str:
    if "description" in schema:
        return str(schema["description"])
    for part in schema.get("anyOf", []):
        if "description" in part:
            return str(part["description"])
    return ""


def endpoints(document: dict[str, Any]) -> list[Endpoint]:
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            found.append(Endpoint(operation["operationId"], method.upper(), path, operation.get("summary", ""),
                                  operation.get("x-kind", ""), operation.get("x-assurance", ""),
                                  _ACCESS_LABELS.get(operation.get("x-access", ""), operation.get("x-access", "")),
                                  _fields(operation)))
    return found


async def home(request: Request) -> Response:
    return page("home.html", session=None)


async def api_docs(request: Request) -> Response:
    document = openapi_document()
    return page("api_docs.html", session=None, info=document["info"], endpoints=endpoints(document))


def public_routes() -> list[BaseRoute]:
    return [Route("/", home, methods=["GET"]), Route("/api/v1/docs", api_docs, methods=["GET"])]
