"""``sc-conformance openapi``: a valid, generator-safe OpenAPI 3.1 document generated from the catalogue and schemas."""

import json
import re
import tomllib

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from conformance.catalogue import catalogue
from conformance.cli import main
from conformance.fixtures import fixture_names, load_fixture
from conformance.fixtures import resolve as resolve_fixture
from conformance.reference import create_app
from conformance.schemas import format_checker, schema_store
from conformance.tools.openapi import openapi_document, schemathesis_config
from conformance.tools.openapi.components import FORMAT_PATTERNS

METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
# Served by the reference platform but not part of the interface standard: the documents its own
# attestations point at (an attestation may name any URL; conformance/reference/guarantee.py).
NOT_IN_THE_STANDARD = {("GET", "/institutional-documents/{}")}


@pytest.fixture(scope="module")
def document():
    return openapi_document()


def resolve(document, ref):
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_document_is_valid_openapi_31(document):
    validate(document)
    assert document["openapi"] == "3.1.0" and document["servers"]


def test_the_document_and_the_reference_platform_serve_the_same_operations(document):
    shape = re.compile(r"\{[^}]*\}")
    served = {(method, shape.sub("{}", route.path)) for route in create_app(secret="s" * 32).routes
              for method in getattr(route, "methods", None) or ()}
    published = {(method.upper(), shape.sub("{}", path)) for path, method, _ in operations(document)}
    assert served - NOT_IN_THE_STANDARD - published == set(), "served but not published"
    assert published - served == set(), "published but not served"


def test_every_collection_of_the_catalogue_has_its_paths(document):
    for collection in catalogue().collections.values():
        listing, item = document["paths"][collection.path], document["paths"][collection.path + "/{id}"]
        assert "get" in listing and ("post" in listing) == collection.writable
        assert ("patch" in item) == collection.writable and ("delete" in item) == collection.deletable
        assert (collection.path + "/{id}/transitions" in document["paths"]) == bool(collection.lifecycle)


def test_every_ref_resolves_inside_the_document_and_none_points_into_a_component(document):
    found = list(refs(document))
    assert found and all(ref.startswith("#/") for ref in found)
    for ref in found:
        resolve(document, ref)  # raises KeyError when a reference dangles
        assert "$defs" not in ref, ref
        if ref.startswith("#/components/schemas/"):
            assert ref.count("/") == 3, f"{ref} points inside a component: generators cannot resolve it"
    assert not [name for name, schema in document["components"]["schemas"].items() if "$defs" in schema]


def test_no_schema_keeps_assertions_beside_a_ref(document):
    """Generators read a $ref and drop its siblings: only annotations may sit beside one."""
    annotations = {"$ref", "description", "title", "readOnly", "writeOnly", "deprecated", "examples", "default"}

    def walk(node, where):
        if isinstance(node, dict):
            if "$ref" in node:
                assert set(node) <= annotations, f"{where}: {sorted(set(node) - annotations)} beside $ref"
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(document["components"]["schemas"], "#/components/schemas")


def test_every_operation_has_a_summary_scopes_and_the_statuses_the_platform_answers(document):
    scopes = set(catalogue().scopes)
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        assert operation.get("summary") and operation.get("operationId"), where
        assert {"429", "503"} <= set(operation["responses"]), where
        if operation["security"]:
            [requirement] = operation["security"]
            assert set(requirement) == {"oauth2"} and set(requirement["oauth2"]) <= scopes and requirement["oauth2"]
            assert {"401", "403"} <= set(operation["responses"]), where
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= set(operation["responses"]), where
    for collection in catalogue().collections.values():
        if collection.writable:
            created = document["paths"][collection.path]["post"]["responses"]["201"]
            assert {"Location", "X-Request-Id"} <= set(created["headers"])
            assert created["links"]["read"]["operationId"] == f"read-{collection.entity}"
    responses = document["components"]["responses"]
    assert "WWW-Authenticate" in responses["Unauthorized"]["headers"]
    assert "Retry-After" in responses["TooManyRequests"]["headers"] and "Allow" in responses["MethodNotAllowed"]["headers"]
    events = document["paths"]["/events"]["get"]
    assert "after" in {p["name"] for p in events["parameters"]}
    assert document["components"]["securitySchemes"]["oauth2"]["type"] == "oauth2"


def test_a_page_schema_per_collection_and_links_from_next_cursor(document):
    schemas = document["components"]["schemas"]
    for collection in catalogue().collections.values():
        listing = document["paths"][collection.path]["get"]["responses"]["200"]
        page = resolve(document, listing["content"]["application/json"]["schema"]["$ref"])
        entity = resolve(document, document["paths"][collection.path + "/{id}"]["get"]["responses"]["200"]
                         ["content"]["application/json"]["schema"]["$ref"])
        assert resolve(document, page["properties"]["items"]["items"]["$ref"]) is entity
        assert listing["links"]["next"]["parameters"] == {"cursor": "$response.body#/next_cursor"}
        for member, target in collection.references.items():
            link = document["paths"][collection.path + "/{id}"]["get"]["responses"]["200"]["links"][member]
            assert link["operationId"] == f"read-{catalogue().collection(target).entity}"
    assert "interface.page" not in schemas  # the generic page (items without a type) is not published


def _validator(schema, document):
    """A validator of a component with every component reachable (the document as its registry root)."""
    return Draft202012Validator({**schema, "components": document["components"]}, format_checker=format_checker())


def _fixture_payloads(collection):
    for name in fixture_names():
        if name.startswith(f"{collection.name}/"):
            yield name, resolve_fixture(load_fixture(name), lambda target: f"{target[:3]}-0001")


def test_flattened_schemas_accept_and_refuse_every_fixture_as_the_originals_do(document):
    store = schema_store()
    for collection in catalogue().collections.values():
        if not collection.writable:
            continue
        post = document["paths"][collection.path]["post"]["requestBody"]["content"]["application/json"]
        flattened = _validator(resolve(document, post["schema"]["$ref"]), document)
        for name, payload in _fixture_payloads(collection):
            original = not store.errors(collection.create_schema, payload)
            assert flattened.is_valid(payload) == original, name
        for example in post.get("examples", {}).values():
            assert flattened.is_valid(example["value"]), example["summary"]


def test_merge_patch_schemas_require_nothing_and_allow_null_only_for_optional_members(document):
    for collection in catalogue().collections.values():
        if not collection.writable:
            continue
        patch = document["paths"][collection.path + "/{id}"]["patch"]["requestBody"]["content"]
        schema = resolve(document, patch["application/merge-patch+json"]["schema"]["$ref"])
        create = resolve(document, document["paths"][collection.path]["post"]["requestBody"]["content"]
                         ["application/json"]["schema"]["$ref"])
        create = resolve(document, create["$ref"]) if "$ref" in create else create
        assert "required" not in schema and schema["additionalProperties"] is False
        assert set(schema["properties"]) == set(create["properties"])
        check = _validator(schema, document)
        assert check.is_valid({}) and not check.is_valid({"no-such-member": 1})
        for member in create["properties"]:
            nullable = check.is_valid({member: None})
            read_only = create["properties"][member].get("readOnly")
            assert nullable == (member not in create.get("required", []) and not read_only), member


def test_custom_formats_carry_a_pattern_and_a_valid_example(document):
    checker = format_checker()

    def walk(node):
        if isinstance(node, dict):
            if node.get("format") in FORMAT_PATTERNS:
                assert node["pattern"] == FORMAT_PATTERNS[node["format"]]
                for example in node["examples"]:
                    assert re.search(node["pattern"], example) and checker.conforms(example, node["format"])
                yield node["format"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    assert set(walk(document["components"]["schemas"])) == set(FORMAT_PATTERNS)


def test_transition_requests_name_the_states_of_their_lifecycle(document):
    cat = catalogue()
    for collection in cat.collections.values():
        if collection.lifecycle:
            operation = document["paths"][collection.path + "/{id}/transitions"]["post"]
            request = resolve(document, operation["requestBody"]["content"]["application/json"]["schema"]["$ref"])
            states = resolve(document, request["properties"]["to"]["$ref"])["enum"]
            assert states == list(cat.lifecycles[collection.lifecycle].states)


def test_public_paths_need_no_token(document):
    for path in catalogue().public_paths:
        assert document["paths"][path]["get"]["security"] == []


def test_the_schemathesis_configuration_names_real_operations_and_parses(document):
    config = tomllib.loads(schemathesis_config())
    ids = {operation["operationId"] for _, _, operation in operations(document)}
    assert config["hooks"] and config["operations"]
    for block in config["operations"]:
        assert set(block["include-operation-id"]) <= ids
        assert block["checks"]["positive_data_acceptance"]["expected-statuses"]


def test_cli_writes_the_document_and_the_schemathesis_configuration(tmp_path, document):
    assert main(["openapi", "-o", str(tmp_path / "openapi.json"),
                 "--schemathesis-config", str(tmp_path / "st" / "schemathesis.toml")]) == 0
    assert json.loads((tmp_path / "openapi.json").read_text(encoding="utf-8")) == document
    assert tomllib.loads((tmp_path / "st" / "schemathesis.toml").read_text(encoding="utf-8"))["hooks"]
    assert "schemathesis.openapi.format" in (tmp_path / "st" / "schemathesis_hooks.py").read_text(encoding="utf-8")


def _success(operation):
    return next((status, response) for status, response in operation["responses"].items() if status.startswith("2"))


def test_every_operation_has_a_response_example_and_one_with_a_body_a_request_example(document):
    count = 0
    for _path, _method, operation in operations(document):
        count += 1
        status, response = _success(operation)
        if status == "204":
            assert "content" not in response, operation["operationId"]
        else:
            ((_media, content),) = response["content"].items()
            (example,) = content["examples"].values()
            assert example["value"], operation["operationId"]
        if "requestBody" in operation:
            ((_media, content),) = operation["requestBody"]["content"].items()
            assert content["examples"], operation["operationId"]
    assert count == 109


def test_every_example_validates_against_the_schema_it_illustrates(document):
    checked = 0
    for _path, _method, operation in operations(document):
        media_objects = [content for response in operation["responses"].values() if "content" in response
                         for content in response["content"].values() if "examples" in content]
        if "requestBody" in operation:
            media_objects += list(operation["requestBody"]["content"].values())
        for content in media_objects:
            schema = content["schema"]
            check = _validator(resolve(document, schema["$ref"]) if "$ref" in schema else schema, document)
            for name, example in content["examples"].items():
                errors = list(check.iter_errors(example["value"]))
                assert not errors, (operation["operationId"], name, errors[0].message)
                checked += 1
    cat = catalogue()
    writable = [c for c in cat.collections.values() if c.writable]
    deletes = sum(c.deletable for c in cat.collections.values())
    lifecycles = sum(bool(c.lifecycle) for c in cat.collections.values())
    fixtures = sum(n.startswith(f"{c.name}/valid/") for c in writable for n in fixture_names())
    # every response but 204, one request per PATCH and transition, every valid fixture per create
    assert checked == (109 - deletes) + len(writable) + lifecycles + fixtures


def test_the_create_examples_keep_every_valid_fixture(document):
    for collection in catalogue().collections.values():
        if collection.writable:
            content = document["paths"][collection.path]["post"]["requestBody"]["content"]["application/json"]
            valid = {n.split("/")[-1] for n in fixture_names() if n.startswith(f"{collection.name}/valid/")}
            assert set(content["examples"]) == valid and "minimal" in valid
