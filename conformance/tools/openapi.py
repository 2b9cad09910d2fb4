"""The interface standard as an OpenAPI 3.1 document, generated from ``schemas/`` and the endpoint catalogue."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urldefrag, urljoin

from ..catalogue import Catalogue, catalogue
from ..schemas import BASE_URI, SchemaStore, schema_store

__all__ = ["openapi_document"]

PROBLEM = "application/problem+json"


def _key(uri: str) -> str:
    """Component name of a schema document: ``…/v1/entities/community.json`` → ``entities.community``."""
    return uri.removeprefix(BASE_URI).removesuffix(".json").replace("/", ".")


def _local(uri: str) -> dict[str, str]:
    document, fragment = urldefrag(uri)
    return {"$ref": f"#/components/schemas/{_key(document)}{fragment}"}


def _rewrite(node: Any, base: str) -> Any:
    """Copy of a schema with every ``$ref`` pointing into components (no network resolution needed)."""
    if isinstance(node, dict):
        out = {k: _rewrite(v, base) for k, v in node.items() if k not in ("$id", "$schema")}
        if isinstance(node.get("$ref"), str):
            out["$ref"] = _local(urljoin(base, node["$ref"]))["$ref"]
        return out
    if isinstance(node, list):
        return [_rewrite(item, base) for item in node]
    return node


def _components(store: SchemaStore) -> dict[str, Any]:
    schemas = {_key(uri): _rewrite(copy.deepcopy(doc), uri) for uri, doc in sorted(store.documents.items())
               if not uri.startswith(BASE_URI + "suite/")}  # the suite's own formats are not the interface
    responses = {
        name: {"description": text, "content": {PROBLEM: {"schema": _local(BASE_URI + "interface/problem.json")}}}
        for name, text in (("BadRequest", "the request is malformed (RFC 9457 problem)"),
                           ("Unauthorized", "no or an invalid bearer token"),
                           ("Forbidden", "the token lacks the scope"),
                           ("NotFound", "no such record"),
                           ("Unprocessable", "the payload is not valid against the entity schema"))
    }
    security = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "scopes are carried in the token's `scope` claim"}}
    return {"schemas": schemas, "responses": responses, "securitySchemes": security}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Any]:
    names = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound",
             "422": "Unprocessable"}
    return {code: {"$ref": f"#/components/responses/{names[code]}"} for code in codes}


def _page_params(cat: Catalogue) -> list[dict[str, Any]]:
    page = cat.page
    return [
        {"name": page["limit_param"], "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                              "maximum": page["max_limit"],
                                                              "default": page["default_limit"]}},
        {"name": page["cursor_param"], "in": "query", "schema": {"type": "string"}},
        {"name": page["updated_since_param"], "in": "query", "schema": {"type": "string", "format": "date-time"}},
    ]


def _collection_paths(cat: Catalogue, name: str) -> dict[str, Any]:
    col = cat.collection(name)
    entity, tag = _local(col.schema), [col.name]
    scopes = f"scopes: read `{col.scopes.get('read')}`, write `{col.scopes.get('write')}`"
    page = {"allOf": [_local(BASE_URI + "interface/page.json"),
                      {"type": "object", "properties": {"items": {"type": "array", "items": entity}}}]}
    listing: dict[str, Any] = {"get": {"operationId": f"list-{col.name}", "tags": tag, "summary": f"page of {col.entity}",
                                       "description": scopes, "parameters": _page_params(cat),
                                       "responses": {"200": _json(page, "one page"), **_errors("400", "401", "403")}}}
    item_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    item: dict[str, Any] = {"parameters": [item_id],
                            "get": {"operationId": f"read-{col.entity}", "tags": tag,
                                    "responses": {"200": _json(entity, col.entity), **_errors("401", "403", "404")}}}
    if col.writable:
        listing["post"] = {"operationId": f"create-{col.entity}", "tags": tag,
                           "requestBody": {"required": True, "content": {"application/json": {"schema": _local(col.create_schema)}}},
                           "responses": {"201": _json(entity, "created"), **_errors("400", "401", "403", "422")}}
        item["patch"] = {"operationId": f"patch-{col.entity}", "tags": tag,
                         "requestBody": {"required": True, "content": {"application/merge-patch+json": {"schema": {"type": "object"}}}},
                         "responses": {"200": _json(entity, "changed"), **_errors("400", "401", "403", "404", "422")}}
    if col.deletable:
        item["delete"] = {"operationId": f"delete-{col.entity}", "tags": tag,
                          "responses": {"204": {"description": "deleted"}, **_errors("401", "403", "404")}}
    return {col.path: listing, f"{col.path}/{{id}}": item}


def openapi_document(cat: Catalogue | None = None, store: SchemaStore | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every collection in the catalogue, with the schemas as components."""
    cat, store = cat or catalogue(), store or schema_store()
    public = {"security": []}
    paths: dict[str, Any] = {
        cat.discovery_path: {"get": {"operationId": "discovery", **public, "summary": "discovery document",
                                     "responses": {"200": _json(_local(BASE_URI + "interface/discovery.json"), "discovery")}}},
        cat.conformance_path: {"get": {"operationId": "conformance", **public, "summary": "conformance declaration",
                                       "responses": {"200": _json(_local(BASE_URI + "interface/conformance.json"), "declaration")}}},
    }
    for name in cat.collections:
        paths.update(_collection_paths(cat, name))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Smart-community interface standard", "version": cat.version,
                 "description": "Generated by `sc-conformance openapi` from schemas/ and schemas/interface/catalogue.json."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "security": [{"bearer": []}],
        "tags": [{"name": name} for name in cat.collections],
        "paths": paths,
        "components": _components(store),
    }
