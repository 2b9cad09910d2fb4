"""Hypothesis strategies from a resolved schema tree, one small function per keyword family.

Covers the subset of 2020-12 our schemas use (type, properties, required, additionalProperties,
enum, const, pattern, minLength/maxLength, minimum/maximum, items/prefixItems, minItems/maxItems,
uniqueItems, anyOf, format); ``$ref`` is already inlined by :mod:`._tree`.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from ..errors import SchemaError
from ._formats import format_strategy, ref_strategy, text

__all__ = ["from_tree"]

Strategy = st.SearchStrategy[Any]
_JSON_SCALARS = st.one_of(st.booleans(), st.integers(-1000, 1000), st.text(max_size=8))


def from_tree(schema: Any, *, full: bool = False) -> Strategy:
    """Valid instances of ``schema``; ``full`` puts every optional member in (the mutator wants them all)."""
    if schema is True or schema == {}:
        return _JSON_SCALARS
    if not isinstance(schema, dict):
        raise SchemaError(f"cannot generate from schema {schema!r}")
    special = ref_strategy(schema.get("x-ref", ""), schema)
    if special is not None:
        return special
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_tree(branch, full=full) for branch in schema["anyOf"]])
    kind = schema.get("type")
    builder = _BY_TYPE.get(kind if isinstance(kind, str) else "")
    if builder is None:
        raise SchemaError(f"cannot generate from a schema without one known type: {json.dumps(schema)[:200]}")
    return builder(schema, full)


def _string(schema: dict[str, Any], full: bool) -> Strategy:
    lo, hi = int(schema.get("minLength", 0)), int(schema.get("maxLength", 2000))
    named = format_strategy(schema["format"]) if "format" in schema else None
    if named is not None:
        return named
    if "format" in schema:
        raise SchemaError(f"no generator for format {schema['format']!r}; register one in generation._formats")
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: lo <= len(s) <= hi)
    return text(lo, hi)


def _integer(schema: dict[str, Any], full: bool) -> Strategy:
    return st.integers(schema.get("minimum"), schema.get("maximum"))


def _number(schema: dict[str, Any], full: bool) -> Strategy:
    return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)


def _boolean(schema: dict[str, Any], full: bool) -> Strategy:
    return st.booleans()


def _array(schema: dict[str, Any], full: bool) -> Strategy:
    lo, hi = int(schema.get("minItems", 0)), schema.get("maxItems")
    if "prefixItems" in schema:
        head = [from_tree(item, full=full) for item in schema["prefixItems"]]
        if len(head) < lo or (hi is not None and hi > len(head)) or "items" in schema:
            raise SchemaError("prefixItems is generated only as a fixed-length tuple")
        return st.tuples(*head).map(list)
    items = from_tree(schema.get("items", {}), full=full)
    hi = min(int(hi), lo + 8) if hi is not None else lo + 8
    unique = (lambda v: json.dumps(v, sort_keys=True)) if schema.get("uniqueItems") else None
    return st.lists(items, min_size=lo, max_size=hi, unique_by=unique)


def _object(schema: dict[str, Any], full: bool) -> Strategy:
    properties = {name: sub for name, sub in schema.get("properties", {}).items()
                  if not (isinstance(sub, dict) and sub.get("readOnly"))}
    required = set(schema.get("required", ()))
    if not properties and schema.get("additionalProperties", True) is not False:
        keys = st.from_regex(r"\A[a-z][a-z0-9_]{0,10}\Z")
        return st.dictionaries(keys, _JSON_SCALARS, max_size=3)
    must = {n: from_tree(s, full=full) for n, s in properties.items() if full or n in required}
    may = {n: from_tree(s, full=full) for n, s in properties.items() if n not in must}
    return st.fixed_dictionaries(must, optional=may)


_BY_TYPE = {"string": _string, "integer": _integer, "number": _number, "boolean": _boolean,
            "array": _array, "object": _object}
