import json
import shutil

import pytest

from conformance.catalogue import catalogue
from conformance.errors import SchemaError
from conformance.fixtures import fixture_names, load_fixture, resolve
from conformance.resources import schemas_dir
from conformance.schemas import SchemaStore, national_store, schema_store


def test_every_schema_has_a_stable_id_and_loads():
    store = national_store()
    assert all(uri.startswith("https://smart-community.example/schemas/v1/") for uri in store.documents)
    assert store.digest.startswith("sha256:")
    # the installed local standards' schemas join the registry under their own ids, beside the national ones
    assert set(store.documents) < set(schema_store().documents)


def test_validators_are_built_once():
    store = schema_store()
    assert store.validator("entities/resident.json") is store.validator("entities/resident.json")


def _fixtures(kind):
    return [name for name in fixture_names() if f"/{kind}/" in name]


@pytest.mark.parametrize("name", _fixtures("valid"))
def test_valid_fixtures_validate(name):
    collection = catalogue().collection(name.split("/")[0])
    payload = resolve(load_fixture(name), lambda _: "parent-1")
    assert schema_store().errors(collection.create_schema, payload) == []


@pytest.mark.parametrize("name", _fixtures("invalid"))
def test_invalid_fixtures_fail_validation(name):
    collection = catalogue().collection(name.split("/")[0])
    payload = resolve(load_fixture(name), lambda _: "parent-1")
    # Schema-valid: only the platform knows the reference dangles, or that the street is not the community's.
    if name.endswith(("dangling-community", "other-street-code")):
        assert schema_store().errors(collection.create_schema, payload) == []
    else:
        assert schema_store().errors(collection.create_schema, payload) != []


def test_time_without_offset_is_rejected_by_format_and_pattern():
    errors = schema_store().errors("common.json#/$defs/date-time", "2020-12-31 18:06:40")
    assert {e.validator for e in errors} == {"format", "pattern"}


def test_masked_identity_is_valid_in_responses_but_not_on_input():
    masked = {"type": "resident-identity-card", "number": "110105********002X"}
    base = {"community_id": "c-1", "name": "张伟", "identity": masked}
    assert schema_store().errors("entities/resident.json#/$defs/create", base)
    stored = dict(base, id="r-1", created_at="2026-11-25T10:00:00+08:00", updated_at="2026-11-25T10:00:00Z")
    assert schema_store().errors("entities/resident.json", stored) == []


def test_a_format_without_a_working_checker_refuses_to_start(tmp_path, monkeypatch):
    shutil.copytree(schemas_dir(), tmp_path / "schemas")
    from jsonschema import FormatChecker

    import conformance.schemas as schemas

    broken = FormatChecker()
    broken.checkers.update(schemas.format_checker().checkers)
    del broken.checkers["date-time"]  # as if rfc3339-validator were missing: jsonschema then passes any value
    monkeypatch.setattr(schemas, "format_checker", lambda: broken)
    with pytest.raises(SchemaError, match="date-time.*no working checker"):
        SchemaStore(tmp_path / "schemas")


def test_a_format_without_a_probe_is_refused(tmp_path):
    shutil.copytree(schemas_dir(), tmp_path / "schemas")
    extra = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://x.example/s.json",
             "type": "string", "format": "hostname"}
    (tmp_path / "schemas" / "extra.json").write_text(json.dumps(extra))
    with pytest.raises(SchemaError, match="format 'hostname' has no probe"):
        SchemaStore(tmp_path / "schemas")


def test_no_enum_of_any_schema_lists_a_value_twice():
    """An enum listing a value twice is published twice (the problem registry showed two codes twice, issue 18);
    JSON Schema asks for unique enum items."""
    import json

    from conformance.resources import schemas_dir

    def enums(node, where):
        if isinstance(node, dict):
            if isinstance(node.get("enum"), list):
                yield where, node["enum"]
            for key, value in node.items():
                yield from enums(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from enums(value, f"{where}/{index}")

    doubled = []
    for path in sorted(schemas_dir().rglob("*.json")):
        for where, values in enums(json.loads(path.read_text(encoding="utf-8")), path.name):
            keys = [json.dumps(v, sort_keys=True) for v in values]
            doubled += [f"{where}: {k}" for k in sorted(set(keys)) if keys.count(k) > 1]
    assert doubled == []
