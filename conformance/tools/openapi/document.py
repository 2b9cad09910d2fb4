"""The interface standard as an OpenAPI 3.1 document, generated from ``schemas/`` and the endpoint catalogue.

One source: the catalogue names the collections, paths, scopes, references and lifecycles; the
schemas give every body; ``tools/examples`` gives every operation's example (from the fixtures).
Nothing here restates them by hand.
"""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import urljoin

from ...catalogue import Catalogue, Collection, catalogue
from ...resources import schemas_dir
from ...schemas import BASE_URI, SchemaStore, schema_store
from ..examples import Example, fixture_examples, operation_examples
from .components import PREFIX, Components, merge, page_schema, patch_schema

__all__ = ["SCHEME", "openapi_document", "operation_id"]

JSON, PROBLEM, MERGE_PATCH = "application/json", "application/problem+json", "application/merge-patch+json"
SCHEME = "oauth2"
_ITEM_ID = "id"

# status → (component name, when the standard answers it, header it must carry)
_PROBLEMS: dict[str, tuple[str, str, str | None]] = {
    "400": ("BadRequest", "malformed-json or invalid-parameter: the body is not JSON, or a query parameter "
                          "(limit, cursor, updated_since, after) is not one the platform accepts. A cursor is "
                          "opaque: only a next_cursor this platform issued is valid", None),
    "401": ("Unauthorized", "unauthenticated: no bearer token, or one that is not valid (RFC 6750)", "WWW-Authenticate"),
    "403": ("Forbidden", "forbidden (the token lacks the scope, or is bound to another community) or, for a "
                         "transition, role-not-allowed", None),
    "404": ("NotFound", "not-found: no such record visible to this token", None),
    "405": ("MethodNotAllowed", "method-not-allowed, with Allow: DELETE where the platform does not declare the "
                                "`delete` capability, and every method a path does not offer", "Allow"),
    "409": ("Conflict", "conflict, transition-not-allowed (the lifecycle has no such transition, or the record "
                        "is final), field-not-allowed-in-state (a member the lifecycle gates to other states), or "
                        "record-referenced (a DELETE the platform refuses because other records refer to it)", None),
    "413": ("PayloadTooLarge", "payload-too-large", None),
    "415": ("UnsupportedMediaType", "unsupported-media-type: send application/json (application/merge-patch+json "
                                    "for PATCH)", None),
    "422": ("Unprocessable", "validation-failed (the body does not match the schema; `errors` holds JSON pointers) "
                             "or reference-not-found (a reference names a record that does not exist)", None),
    "429": ("TooManyRequests", "rate-limited: wait Retry-After (seconds or an HTTP-date) and retry", "Retry-After"),
    "503": ("Unavailable", "unavailable: wait Retry-After and retry", "Retry-After"),
}
_EVERYWHERE = ("429", "503")
_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {"description": "Identifies the request in the platform's logs and audit trail; echoes the "
                                    "client's X-Request-Id when it sent a safe one.",
                     "schema": {"type": "string", "minLength": 1}},
    "Location": {"description": "URI reference of the created record, resolved against the request URL "
                                "(`{collection URL}/{id}`).", "schema": {"type": "string", "format": "uri-reference"}},
    "WWW-Authenticate": {"description": "RFC 6750 challenge: `Bearer realm=…`, with error=\"invalid_token\" for a "
                                        "token that is not valid.", "schema": {"type": "string", "minLength": 1}},
    "Retry-After": {"description": "Seconds to wait, or an HTTP-date (RFC 9110 §10.2.3).",
                    "schema": {"type": "string", "minLength": 1}},
    "Allow": {"description": "The methods the path offers.", "schema": {"type": "string"}},
}


def operation_id(action: str, collection: Collection) -> str:
    """``list-communities``, ``create-community``, ``read-community``, … (stable: generators name functions after it)."""
    return f"{action}-{collection.name if action == 'list' else collection.entity}"


@functools.cache
def _raw_catalogue() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((schemas_dir() / "interface" / "catalogue.json").read_text(encoding="utf-8"))
    return raw


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _headers(*names: str) -> dict[str, Any]:
    return {name: _header(name) for name in ("X-Request-Id", *names)}


def _ok(schema: Any, description: str, *, media: str = JSON, headers: tuple[str, ...] = (),
        links: dict[str, Any] | None = None, example: Example | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None and example.response is not None:
        content["examples"] = {"example": {"summary": f"{example.method} {example.url}", "value": example.response}}
    response: dict[str, Any] = {"description": description, "headers": _headers(*headers), "content": {media: content}}
    if links:
        response["links"] = links
    return response


def _problems(*statuses: str) -> dict[str, Any]:
    return {status: {"$ref": f"#/components/responses/{_PROBLEMS[status][0]}"}
            for status in sorted({*statuses, *_EVERYWHERE})}


def _responses_components(problem: dict[str, str]) -> dict[str, Any]:
    return {name: {"description": text, "headers": _headers(*([header] if header else [])),
                   "content": {PROBLEM: {"schema": problem}}}
            for name, text, header in _PROBLEMS.values()}


def _security(*scopes: str) -> list[dict[str, list[str]]]:
    return [{SCHEME: list(scopes)}]


def _security_scheme(cat: Catalogue) -> dict[str, Any]:
    return {SCHEME: {
        "type": "oauth2",
        "description": "Bearer tokens (RFC 6750) issued by the platform's own authorisation server; they are "
                       "opaque to clients. Each operation names the scope it needs; `pii` additionally unmasks "
                       "identity numbers and phones, `sensitive` shows sensitive resident tags, on every read "
                       "path. A token may be bound to one community: it then sees and writes only that community.",
        "flows": {"clientCredentials": {"tokenUrl": "https://platform.example/oauth/token", "scopes": dict(cat.scopes)}},
    }}


def _examples(collection: Collection, cat: Catalogue) -> dict[str, Any]:
    """Create examples: the collection's valid fixtures, references replaced by the example ids."""
    return {name: {"summary": f"fixtures/{collection.name}/valid/{name}.json", "value": payload}
            for name, payload in fixture_examples(collection, cat).items()}


def _body(schema: Any, example: Example | None) -> dict[str, Any]:
    """A request body's media type object, with the operation's example request."""
    if example is None or example.request is None:
        return {"schema": schema}
    return {"schema": schema, "examples": {"example": {"summary": f"{example.method} {example.url}",
                                                       "value": example.request}}}


def _page_parameters(cat: Catalogue, collection: Collection, components: Components) -> list[dict[str, Any]]:
    page = cat.page
    parameters = [
        {"name": page["limit_param"], "in": "query", "description": "page size, at most the discovery document's "
         "max_page_size (a larger one answers 400); without it the platform chooses",
         "schema": {"type": "integer", "minimum": 1, "maximum": page["max_limit"]}},
        {"name": page["cursor_param"], "in": "query", "description": "the `next_cursor` of the previous page, "
         "opaque; it stays usable while records are written", "schema": {"type": "string", "minLength": 1}},
        {"name": page["updated_since_param"], "in": "query", "description": "only records with updated_at at or "
         "after this instant, in non-decreasing updated_at order (capability updated-since)",
         "schema": components.ref(BASE_URI + "common.json#/$defs/date-time")},
    ]
    after = _raw_catalogue().get("transitions", {}).get("events_after_param")
    if collection.name == "events" and after:
        parameters.append({"name": after, "in": "query", "description": "id of the last event processed: only "
                           "events published after it, in order of publication", "schema": {"type": "string",
                                                                                             "minLength": 1}})
    return parameters


def _reference_links(collection: Collection, cat: Catalogue) -> dict[str, Any]:
    return {f"{member}": {"operationId": operation_id("read", cat.collection(target)),
                          "parameters": {_ITEM_ID: f"$response.body#/{member}"},
                          "description": f"the {cat.collection(target).entity} this record refers to"}
            for member, target in collection.references.items()}


def _item_links(collection: Collection, cat: Catalogue, *, with_references: bool) -> dict[str, Any]:
    links: dict[str, Any] = {"read": {"operationId": operation_id("read", collection),
                                      "parameters": {_ITEM_ID: "$response.body#/id"}}}
    if collection.writable:
        links["patch"] = {"operationId": operation_id("patch", collection), "parameters": {_ITEM_ID: "$response.body#/id"}}
    if collection.deletable:
        links["delete"] = {"operationId": operation_id("delete", collection), "parameters": {_ITEM_ID: "$response.body#/id"}}
    if collection.lifecycle:
        links["transition"] = {"operationId": operation_id("transition", collection),
                               "parameters": {_ITEM_ID: "$response.body#/id"}}
    return {**links, **(_reference_links(collection, cat) if with_references else {})}


def _collection_paths(cat: Catalogue, collection: Collection, components: Components,
                      examples: dict[tuple[str, str | None], Example]) -> dict[str, Any]:
    def example(action: str) -> Example | None:
        return examples.get((action, collection.name))

    entity = components.ref(collection.schema)
    entity_name = entity["$ref"].removeprefix(PREFIX)
    title = components.schemas[entity_name].get("title", collection.entity)
    tag, read, write = [collection.name], collection.scopes["read"], collection.scopes["write"]
    page_name = f"{entity_name}.page"
    components.schemas[page_name] = page_schema(components.resolved(components.ref(BASE_URI + "interface/page.json")),
                                                entity, f"Page of {collection.name}")
    next_page = {"next": {"operationId": operation_id("list", collection),
                          "parameters": {cat.page["cursor_param"]: "$response.body#/next_cursor"},
                          "description": "the next page; absent when next_cursor is null (the last page)"}}
    available = f" Offered when the platform declares the `{collection.capability}` capability." \
        if collection.capability else ""
    listing: dict[str, Any] = {"get": {
        "operationId": operation_id("list", collection), "tags": tag, "summary": f"List {collection.name} page by page",
        "description": f"One page of {title}, in an order of the platform's choice; follow next_cursor to visit "
                       f"every record exactly once.{available} Scope `{read}`.",
        "security": _security(read), "parameters": _page_parameters(cat, collection, components),
        "responses": {"200": _ok({"$ref": PREFIX + page_name}, "one page", links=next_page,
                                         example=example("list")),
                      **_problems("400", "401", "403")}}}
    item: dict[str, Any] = {
        "parameters": [{"name": _ITEM_ID, "in": "path", "required": True, "description": f"id of the {collection.entity}",
                        "schema": components.ref(BASE_URI + "common.json#/$defs/id")}],
        "get": {"operationId": operation_id("read", collection), "tags": tag, "summary": f"Read one {collection.entity}",
                "description": f"Scope `{read}`; personal data masked without `pii`.", "security": _security(read),
                "responses": {"200": _ok(entity, collection.entity, links=_reference_links(collection, cat),
                                        example=example("read")),
                              **_problems("401", "403", "404")}}}
    paths: dict[str, Any] = {collection.path: listing, f"{collection.path}/{{{_ITEM_ID}}}": item}
    if collection.writable:
        create_schema = components.ref(collection.create_schema)
        patch_name = f"{entity_name}.patch"
        components.schemas[patch_name] = patch_schema(create_schema, components,
                                                      f"Merge patch of a {collection.entity}")
        fixtures = _examples(collection, cat)
        body: dict[str, Any] = {"schema": create_schema, **({"examples": fixtures} if fixtures else {})}
        listing["post"] = {
            "operationId": operation_id("create", collection), "tags": tag, "summary": f"Create a {collection.entity}",
            "description": f"Scope `{write}`. The platform assigns id, created_at and updated_at"
                           f"{' and starts the lifecycle' if collection.lifecycle else ''}; every reference must name "
                           "an existing record (422 reference-not-found otherwise).",
            "security": _security(write), "requestBody": {"required": True, "content": {JSON: body}},
            "responses": {"201": _ok(entity, "created", headers=("Location",),
                                     links=_item_links(collection, cat, with_references=True),
                                     example=example("create")),
                          **_problems("400", "401", "403", "409", "413", "415", "422")}}
        item["patch"] = {
            "operationId": operation_id("patch", collection), "tags": tag, "summary": f"Change a {collection.entity}",
            "description": f"JSON Merge Patch (RFC 7396), scope `{write}`; the merged record must still be valid.",
            "security": _security(write),
            "requestBody": {"required": True,
                            "content": {MERGE_PATCH: _body({"$ref": PREFIX + patch_name}, example("patch"))}},
            "responses": {"200": _ok(entity, "changed", example=example("patch")),
                          **_problems("400", "401", "403", "404", "409", "413", "415", "422")}}
    if collection.deletable:
        item["delete"] = {
            "operationId": operation_id("delete", collection), "tags": tag, "summary": f"Delete a {collection.entity}",
            "description": f"Scope `{write}`. Optional: a platform without the `delete` capability answers 405. A "
                           "platform may refuse to delete a record others refer to (409 record-referenced) or delete "
                           "it; a reference to a deleted record then answers 404 when followed.",
            "security": _security(write),
            "responses": {"204": {"description": "deleted", "headers": _headers()},
                          **_problems("401", "403", "404", "405", "409")}}
    if collection.lifecycle:
        paths[f"{collection.path}/{{{_ITEM_ID}}}/transitions"] = _transition_path(collection, components, item, entity,
                                                                                  entity_name, example("transition"))
    return paths


def _transition_path(collection: Collection, components: Components, item: dict[str, Any],
                     entity: dict[str, str], entity_name: str, example: Example | None) -> dict[str, Any]:
    spec = _raw_catalogue()["transitions"]
    # The generic request narrowed to this lifecycle's states: an unknown state is a schema error (422).
    states = components.ref(urljoin(spec["lifecycles"], f"#/$defs/{collection.lifecycle}-status"))
    request_name = f"{entity_name}.transition-request"
    components.schemas[request_name] = merge(components.resolved(components.ref(spec["request_schema"])),
                                             {"properties": {"to": states}}, components.resolved)
    problems = spec.get("problems", {})
    explained = "; ".join(f"{status} {code}" for status, code in sorted(problems.items()))
    return {"parameters": item["parameters"], spec.get("method", "POST").lower(): {
        "operationId": operation_id("transition", collection), "tags": [collection.name],
        "summary": f"Move a {collection.entity} to another state of its lifecycle",
        "description": f"The `{collection.lifecycle}` lifecycle of schemas/interface/lifecycles.json says which "
                       f"role may make which transition; scope `{collection.scopes['write']}`. Refusals: {explained}. "
                       "The status history gains one entry and the event feed one event.",
        "security": _security(collection.scopes["write"]),
        "requestBody": {"required": True, "content": {JSON: _body({"$ref": PREFIX + request_name}, example)}},
        "responses": {"200": _ok(entity, "moved", example=example), **_problems("400", "401", "403", "404", "409", "413", "415", "422")},
    }}


def _public(cat: Catalogue, components: Components, examples: dict[tuple[str, str | None], Example]) -> dict[str, Any]:
    def get(operation: str, summary: str, schema: str, description: str) -> dict[str, Any]:
        ok = _ok(components.ref(BASE_URI + schema), summary, example=examples.get((operation, None)))
        return {"get": {"operationId": operation, "tags": ["discovery"], "summary": summary, "description": description,
                        "security": [], "responses": {"200": ok, **_problems()}}}

    return {
        cat.discovery_path: get("discovery", "Discovery document", "interface/discovery.json",
                                "Public. Collection hrefs are URI references resolved against this document's URL."),
        cat.conformance_path: get("conformance", "Conformance declaration", "interface/conformance.json",
                                  "Public. The profiles and versions the platform claims."),
    }


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _reachable(schemas: dict[str, Any], roots: list[Any]) -> dict[str, Any]:
    """Only the components something refers to (flattened `fields` and the generic page are not)."""
    seen: set[str] = set()
    todo = [ref for root in roots for ref in _refs(root)]
    while todo:
        ref = todo.pop()
        name = ref.removeprefix(PREFIX)
        if ref.startswith(PREFIX) and name not in seen:
            seen.add(name)
            todo.extend(_refs(schemas[name]))
    return {name: schemas[name] for name in sorted(seen)}


def openapi_document(cat: Catalogue | None = None, store: SchemaStore | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every collection in the catalogue, with the schemas as components."""
    cat, store = cat or catalogue(), store or schema_store()
    components = Components(store)
    problem = components.ref(BASE_URI + "interface/problem.json")
    examples = {(example.action, example.collection): example for example in operation_examples(cat, store)}
    paths = _public(cat, components, examples)
    for collection in cat.collections.values():
        paths.update(_collection_paths(cat, collection, components, examples))
    description = _raw_catalogue().get("description", "")
    responses = _responses_components(problem)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Smart-community interface standard", "version": cat.version,
                 "description": f"{description}\n\nGenerated by `sc-conformance openapi` from schemas/ and "
                                "schemas/interface/catalogue.json. Every error is an RFC 9457 problem whose `code` "
                                "is one of the registry in interface.problem (x-codes: a bilingual title per code). "
                                "A method a path does not list answers 405 with Allow; any request may answer 429 or "
                                "503 with Retry-After."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "https://{host}{basePath}", "description": "the platform under test; the base URL may "
                     "carry a path prefix, and every path here is relative to it",
                     "variables": {"host": {"default": "platform.example"}, "basePath": {"default": "/api"}}}],
        "security": _security(),
        "tags": [{"name": "discovery"}, *({"name": name} for name in cat.collections)],
        "paths": paths,
        "components": {"schemas": _reachable(components.schemas, [paths, responses]),
                       "responses": responses,
                       "headers": {name: {**header, "required": True} for name, header in _HEADERS.items()},
                       "securitySchemes": _security_scheme(cat)},
    }
