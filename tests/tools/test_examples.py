"""``tools/examples``: a request and a response example for every operation of the catalogue, each valid."""

import json
from urllib.parse import urljoin

import pytest

from conformance.catalogue import catalogue
from conformance.errors import SchemaError
from conformance.merge_patch import apply_merge_patch
from conformance.schemas import BASE_URI, schema_store
from conformance.tools.examples import CHANGED, CREATED, merge_patch, operation_examples

PAGE = BASE_URI + "interface/page.json"
TRANSITION_REQUEST = BASE_URI + "interface/lifecycles.json#/$defs/transition-request"


@pytest.fixture(scope="module")
def examples():
    return {(e.action, e.collection): e for e in operation_examples()}


def _catalogue_operations():
    """(action, collection) of every operation the catalogue offers, as the OpenAPI document and platform serve."""
    cat = catalogue()
    yield ("discovery", None)
    yield ("conformance", None)
    for c in cat.collections.values():
        yield ("list", c.name)
        yield ("read", c.name)
        if c.writable:
            yield ("create", c.name)
            yield ("patch", c.name)
        if c.deletable:
            yield ("delete", c.name)
        if c.lifecycle:
            yield ("transition", c.name)


def _valid(ref, instance):
    errors = schema_store().errors(ref, instance)
    assert not errors, f"{ref}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_every_operation_of_the_catalogue_has_exactly_one_example(examples):
    expected = list(_catalogue_operations())
    assert sorted(examples, key=str) == sorted(expected, key=str)
    assert len(operation_examples()) == len(expected) == 109  # the operations issue 18 counts


def test_every_operation_has_a_response_and_one_with_a_body_has_a_request(examples):
    for (action, name), example in examples.items():
        assert (example.request is not None) == example.has_request_body == (action in ("create", "patch",
                                                                                          "transition")), action
        if action == "delete":
            assert example.status == 204 and example.response is None
        else:
            assert example.response is not None and example.status in (200, 201), (action, name)


def test_bodies_validate_against_their_schemas(examples):
    cat = catalogue()
    for (action, name), example in examples.items():
        if action == "discovery":
            _valid(BASE_URI + "interface/discovery.json", example.response)
            continue
        if action == "conformance":
            _valid(BASE_URI + "interface/conformance.json", example.response)
            continue
        c = cat.collection(name)
        if action == "list":
            _valid(PAGE, example.response)
            for item in example.response["items"]:
                _valid(c.schema, item)
        elif action == "create":
            _valid(c.create_schema, example.request)
            _valid(c.schema, example.response)
        elif action == "patch":
            body = examples[("create", name)].request
            _valid(c.create_schema, apply_merge_patch(body, example.request))
            _valid(c.schema, example.response)
        elif action == "transition":
            _valid(TRANSITION_REQUEST, example.request)
            _valid(c.schema, example.response)
        elif action == "read":
            _valid(c.schema, example.response)


def test_the_stored_entity_is_the_create_body_with_the_servers_members(examples):
    cat = catalogue()
    for c in cat.collections.values():
        if not c.writable:
            continue
        create, read = examples[("create", c.name)], examples[("read", c.name)]
        assert create.response == read.response == examples[("list", c.name)].response["items"][0]
        server = {k: v for k, v in create.response.items() if k not in create.request}
        expected = {"id", "created_at", "updated_at"}
        if c.lifecycle:
            life = cat.lifecycles[c.lifecycle]
            expected |= {life.status_field, life.history_field}
            assert server[life.status_field] == life.initial
            assert server[life.history_field] == [{"from": None, "to": life.initial, "at": CREATED}]
        assert set(server) == expected and server["created_at"] == server["updated_at"] == CREATED
        assert read.url == f"{c.path}/{server['id']}" and read.path == f"{c.path}/{{id}}"
        assert examples[("list", c.name)].query == {cat.page["limit_param"]: str(cat.page["default_limit"])}


def test_a_merge_patch_changes_one_writable_member_and_the_response_is_its_result(examples):
    cat = catalogue()
    for c in cat.collections.values():
        if not c.writable:
            continue
        patch, created = examples[("patch", c.name)], examples[("create", c.name)]
        (member,) = patch.request
        assert member not in c.references and member not in ("id", "created_at", "updated_at")
        merged = apply_merge_patch(created.request, patch.request)
        assert merged != created.request, c.name  # it changes something
        assert patch.response == {**created.response, **merged, "updated_at": CHANGED}


def test_a_transition_is_the_lifecycles_first_and_its_result_appends_the_history(examples):
    cat = catalogue()
    for c in cat.collections.values():
        if not c.lifecycle:
            continue
        life, example = cat.lifecycles[c.lifecycle], examples[("transition", c.name)]
        first = next(t for t in life.transitions if t.source == life.initial)
        assert example.request == {"to": first.target, "role": first.roles[0]}
        assert example.response[life.status_field] == first.target
        assert example.response[life.history_field][-1] == {"from": life.initial, "to": first.target, "at": CHANGED,
                                                            "role": first.roles[0]}
        assert example.url == f"{c.path}/{examples[('read', c.name)].response['id']}/transitions"


def test_the_feeds_describe_the_example_create_of_a_lifecycle_record(examples):
    event, audit = examples[("read", "events")].response, examples[("read", "audit-records")].response
    work_order = examples[("create", event["resource"]["collection"])].response
    assert catalogue().collection(event["resource"]["collection"]).lifecycle
    assert event["type"] == "created" and event["resource"]["id"] == work_order["id"]
    assert event["status"] == work_order["status"] and event["occurred_at"] == work_order["created_at"]
    assert event["community_id"] == work_order["community_id"]
    assert audit["action"] == "create" and audit["status"] == examples[("create", audit["collection"])].status
    assert audit["resource"] == event["resource"]["href"] and audit["time"] == work_order["created_at"]


def test_discovery_names_every_collection_resolving_to_its_path(examples):
    cat = catalogue()
    document = examples[("discovery", None)].response
    here = "https://platform.example/api" + cat.discovery_path
    assert urljoin(here, document["conformance"]) == "https://platform.example/api" + cat.conformance_path
    assert {c["name"]: urljoin(here, c["href"]) for c in document["collections"]} == {
        c.name: "https://platform.example/api" + c.path for c in cat.collections.values()}
    assert document["max_page_size"] == cat.page["max_limit"]
    assert {c.capability for c in cat.collections.values() if c.capability} <= set(document["capabilities"])


def test_examples_are_deterministic():
    first, second = operation_examples(), operation_examples()
    assert json.dumps([e.__dict__ for e in first], sort_keys=True, default=dict) == \
        json.dumps([e.__dict__ for e in second], sort_keys=True, default=dict)


def test_a_collection_no_patch_can_be_found_for_is_a_one_line_error():
    cat = catalogue()
    communities = cat.collection("communities")
    # a body whose every member is fixed (references, server members): nothing a patch could change
    with pytest.raises(SchemaError, match="no example merge patch for 'communities'"):
        merge_patch(communities, cat, schema_store(), {"id": "community-0001"})
