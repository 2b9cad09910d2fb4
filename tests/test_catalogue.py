"""The catalogue as typed data: collections, their lifecycles, and the state machines' own consistency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.catalogue import Catalogue, Collection, catalogue
from conformance.errors import SchemaError, UsageError
from conformance.resources import schemas_dir
from conformance.schemas import schema_store


def test_every_lifecycle_collection_names_a_lifecycle_and_its_entity_uses_its_states() -> None:
    cat = catalogue()
    named = {c.name: c.lifecycle for c in cat.collections.values() if c.lifecycle}
    assert named == {"work-orders": "work-order", "grid-events": "grid-event", "alarms": "alarm"}
    for name, lifecycle in named.items():
        schema = schema_store().documents[cat.collections[name].schema]
        status = schema["$defs"]["fields"]["properties"]["status"]["$ref"]
        assert status.endswith(f"lifecycles.json#/$defs/{lifecycle}-status")


def test_main_path_runs_from_the_initial_state_to_a_final_state() -> None:
    work_order = catalogue().lifecycles["work-order"]
    steps = work_order.path_to_final()
    assert steps[0].source == work_order.initial
    assert steps[-1].target in work_order.final
    assert [s.target for s in steps] == ["accepted", "assigned", "in-progress", "resolved", "closed"]
    assert all(a.target == b.source for a, b in zip(steps, steps[1:]))


def test_forbidden_targets_are_exactly_those_without_a_transition() -> None:
    alarm = catalogue().lifecycles["alarm"]
    assert alarm.forbidden_from("raised") == ["dispatched", "resolved", "closed", "false-alarm"]
    assert alarm.transition("raised", "acknowledged") is not None


def test_lifecycle_naming_an_unknown_state_is_refused(tmp_path: Path) -> None:
    source = schemas_dir() / "interface"
    (tmp_path / "catalogue.json").write_text((source / "catalogue.json").read_text(encoding="utf-8"), encoding="utf-8")
    lifecycles = json.loads((source / "lifecycles.json").read_text(encoding="utf-8"))
    lifecycles["x-lifecycles"]["alarm"]["transitions"].append({"from": "raised", "to": "ignored", "roles": ["system"]})
    (tmp_path / "lifecycles.json").write_text(json.dumps(lifecycles), encoding="utf-8")
    with pytest.raises(SchemaError, match="ignored"):
        Catalogue.load(tmp_path / "catalogue.json")


def test_collection_keeps_members_it_does_not_type() -> None:
    raw = {"name": "things", "path": "/things", "entity": "thing", "schema": "s", "create_schema": "c",
           "scopes": {"read": "r", "write": "w"}, "writable": True, "deletable": False, "audited": True}
    collection = Collection.load(raw)
    assert collection.extra == {"audited": True}
    assert collection.transitions_path is None


def test_lifecycle_of_a_collection_without_one_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no lifecycle"):
        catalogue().lifecycle_of("residents")
