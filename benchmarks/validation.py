"""Validation throughput: compiled validators against compiling per call, and jsonschema-rs as a yardstick."""

from __future__ import annotations

import random
from typing import Any

from jsonschema import Draft202012Validator

from conformance.fixtures import load_fixture, resolve
from conformance.formats import is_credit_code, is_identity_number, make_identity_number
from conformance.schemas import format_checker, schema_store

from ._harness import best_of, record

SCHEMA = "entities/resident.json#/$defs/create"


def payloads(count: int) -> list[dict[str, Any]]:
    rng = random.Random(1)
    base = resolve(load_fixture("residents/valid/full"), lambda _: "c-1")
    out = []
    for _ in range(count):
        payload = dict(base)
        payload["identity"] = {"type": "resident-identity-card", "number": make_identity_number(rng)}
        out.append(payload)
    return out


def _rs_validator() -> Any:
    try:
        import jsonschema_rs
    except ImportError:
        return None
    store = schema_store()
    registry = jsonschema_rs.Registry([(uri, doc) for uri, doc in store.documents.items()])
    formats = {"gb11643": is_identity_number, "gb32100": is_credit_code}
    return jsonschema_rs.validator_for({"$ref": store.uri(SCHEMA)}, registry=registry, formats=formats,
                                       validate_formats=True)


def main(count: int = 2000) -> dict[str, Any]:
    store = schema_store()
    data = payloads(count)
    compiled = store.validator(SCHEMA)
    assert all(compiled.is_valid(p) for p in data), "the benchmark payloads must be valid"
    per_call_schema = {"$ref": store.uri(SCHEMA)}

    def with_compiled() -> None:
        for payload in data:
            compiled.is_valid(payload)

    def compiling_each_time() -> None:
        for payload in data[: count // 10]:
            Draft202012Validator(per_call_schema, registry=store.registry, format_checker=format_checker()).is_valid(payload)

    figures: dict[str, Any] = {"payloads": count}
    figures["compiled_per_s"] = count / best_of(3, with_compiled)
    figures["compile_per_call_per_s"] = (count // 10) / best_of(3, compiling_each_time)
    figures["compiled_vs_per_call"] = figures["compiled_per_s"] / figures["compile_per_call_per_s"]
    rs = _rs_validator()
    if rs is not None:
        bad = [p for p in data if not rs.is_valid(p)]
        figures["jsonschema_rs_agrees"] = not bad

        def with_rs() -> None:
            for payload in data:
                rs.is_valid(payload)

        figures["jsonschema_rs_per_s"] = count / best_of(3, with_rs)
        figures["jsonschema_rs_vs_compiled"] = figures["jsonschema_rs_per_s"] / figures["compiled_per_s"]
    else:
        figures["jsonschema_rs"] = "not installed (tox -e bench installs it)"
    record("validation", figures)
    return figures


if __name__ == "__main__":
    main()
