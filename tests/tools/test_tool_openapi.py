"""``sc-conformance openapi``: a valid OpenAPI 3.1 document generated from whatever the catalogue holds."""

import json

from openapi_spec_validator import validate

from conformance.catalogue import catalogue
from conformance.cli import main
from conformance.tools.openapi import openapi_document


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


def test_document_is_valid_openapi_31():
    document = openapi_document()
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_collection_of_the_catalogue_has_its_paths():
    document = openapi_document()
    for collection in catalogue().collections.values():
        operations = document["paths"][collection.path]
        assert "get" in operations and ("post" in operations) == collection.writable
        assert ("delete" in document["paths"][collection.path + "/{id}"]) == collection.deletable


def test_every_ref_resolves_inside_the_document():
    document = openapi_document()
    found = list(refs(document))
    assert found and all(ref.startswith("#/") for ref in found)
    for ref in found:
        resolve(document, ref)  # raises KeyError when a reference dangles


def test_public_paths_need_no_token():
    document = openapi_document()
    for path in catalogue().public_paths:
        assert document["paths"][path]["get"]["security"] == []


def test_cli_writes_the_document(tmp_path):
    assert main(["openapi", "-o", str(tmp_path / "openapi.json")]) == 0
    validate(json.loads((tmp_path / "openapi.json").read_text(encoding="utf-8")))
