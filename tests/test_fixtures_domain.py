"""The issue-3 fixtures say what their names say: valid ones match the create schema, invalid ones do not."""

from __future__ import annotations

import pytest

from conformance.catalogue import catalogue
from conformance.fixtures import fixture_names, load_fixture, resolve
from conformance.schemas import schema_store

DOMAIN = {c.name for c in catalogue().collections.values()} - {
    "communities", "grids", "buildings", "residents", "organisations", "audit-records", "consents", "indicators"}
# Invalid for a reason a schema cannot see: the platform checks them against other records.
SEMANTIC = {"work-orders/invalid/other-street-code"}
NAMES = [n for n in fixture_names() if n.split("/")[0] in DOMAIN]


def test_every_writable_domain_collection_has_valid_and_invalid_fixtures() -> None:
    writable = {c.name for c in catalogue().collections.values() if c.name in DOMAIN and c.writable}
    kinds = {(n.split("/")[0], n.split("/")[1]) for n in NAMES}
    assert {c for c in writable if (c, "valid") not in kinds} == set()
    assert {c for c in writable if (c, "invalid") not in kinds} == set()


@pytest.mark.parametrize("name", NAMES)
def test_fixture_matches_its_kind(name: str) -> None:
    collection, kind, _ = name.split("/")
    payload = resolve(load_fixture(name), lambda _: "ref-1")
    errors = schema_store().errors(catalogue().collections[collection].create_schema, payload)
    if kind == "valid" or name in SEMANTIC:
        assert errors == []
    else:
        assert errors, f"{name} should be invalid"
