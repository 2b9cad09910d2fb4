"""Negative generation: the places a create schema can be broken, one violation at a time.

:func:`sites` lists every (kind, pointer) the schema allows breaking; :func:`mutate` applies one
to a full valid payload. The kinds are those of issue 4: wrong type, missing required member,
out-of-range number, bad check character, bad enum value, unknown member, over-long string,
malformed time.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._classes import invalid_values

__all__ = ["KINDS", "KIND_KEYWORDS", "Site", "kinds_of_error", "mutate", "sites"]

KINDS = ("wrong-type", "missing-required", "out-of-range", "bad-check-character", "bad-enum",
         "extra-field", "over-long", "malformed-time")
# The JSON Schema keyword (and format) each kind violates: how a requirement's invalid fixture, checked
# against the schema, tells which kind of rule that requirement states (the lint's data).
KIND_KEYWORDS: dict[str, tuple[str, ...]] = {
    "wrong-type": ("type",), "missing-required": ("required",), "out-of-range": ("minimum", "maximum"),
    "bad-check-character": ("format:gb11643", "format:gb32100"), "bad-enum": ("enum",),
    "extra-field": ("additionalProperties",), "over-long": ("maxLength",), "malformed-time": ("format:date-time",),
}
_WRONG_TYPE = {"string": 12345, "integer": "12", "number": "1.5", "boolean": "true", "array": {"0": 1},
               "object": ["not", "an", "object"]}
# The ways a date-time is malformed are the invalid classes of format:date-time (one table, ``_classes``).
_MALFORMED_TIMES = tuple(kind_value for kind_value in invalid_values("format:date-time") if kind_value)
_EXTRA_MEMBER = "x_unknown_member"


def kinds_of_error(keyword: str, format_name: str | None = None) -> set[str]:
    """The mutation kinds a validation error of ``keyword`` (with the schema's ``format``) belongs to."""
    names = {keyword, f"format:{format_name}"} if keyword == "format" or format_name else {keyword}
    return {kind for kind, keywords in KIND_KEYWORDS.items() if names & set(keywords)}


@dataclass(frozen=True)
class Site:
    """One violation: its kind, the member it breaks (a JSON pointer) and the schema there."""

    kind: str
    pointer: str
    schema: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.kind} at {self.pointer or '/'}"


def sites(schema: dict[str, Any], pointer: str = "") -> Iterator[Site]:
    """Every violation the schema allows, in a stable order."""
    if schema.get("additionalProperties") is False:
        yield Site("extra-field", pointer, schema)
    for name in schema.get("required", ()):
        if not _read_only(schema.get("properties", {}).get(name)):
            yield Site("missing-required", f"{pointer}/{name}", schema)
    for name, sub in schema.get("properties", {}).items():
        if not isinstance(sub, dict) or _read_only(sub):
            continue
        yield from _member_sites(sub, f"{pointer}/{name}")


def _member_sites(schema: dict[str, Any], pointer: str) -> Iterator[Site]:
    kind = _type_of(schema)
    if kind in _WRONG_TYPE:
        yield Site("wrong-type", pointer, schema)
    if "minimum" in schema or "maximum" in schema:
        yield Site("out-of-range", pointer, schema)
    if schema.get("format") in ("gb11643", "gb32100"):
        yield Site("bad-check-character", pointer, schema)
    if schema.get("format") == "date-time":
        yield Site("malformed-time", pointer, schema)
    if "enum" in schema and all(isinstance(v, str) for v in schema["enum"]):
        yield Site("bad-enum", pointer, schema)
    if kind == "string" and "maxLength" in schema and "format" not in schema:
        yield Site("over-long", pointer, schema)
    if kind == "object" and "properties" in schema:
        yield from sites(schema, pointer)
    for index, item in enumerate(schema.get("prefixItems", ())):
        yield from _member_sites(item, f"{pointer}/{index}")


def _read_only(schema: Any) -> bool:
    return isinstance(schema, dict) and bool(schema.get("readOnly"))


def _type_of(schema: dict[str, Any]) -> str | None:
    if isinstance(schema.get("type"), str):
        return schema["type"]
    if "const" in schema:
        return type(schema["const"]).__name__.replace("str", "string")
    branches = schema.get("anyOf", ())
    kinds = {_type_of(b) for b in branches if isinstance(b, dict)}
    return kinds.pop() if len(kinds) == 1 else None


def mutate(payload: dict[str, Any], site: Site) -> dict[str, Any]:
    """A copy of a full valid payload with exactly the violation ``site`` describes."""
    broken = copy.deepcopy(payload)
    *parents, leaf = site.pointer.split("/")[1:] if site.pointer else [""]
    holder: Any = broken
    for part in parents:
        holder = holder[int(part)] if isinstance(holder, list) else holder[part]
    if site.kind == "extra-field":
        target = holder[int(leaf)] if isinstance(holder, list) else (holder[leaf] if leaf else holder)
        target[_EXTRA_MEMBER] = "not in the standard"
        return broken
    if site.kind == "missing-required":
        del holder[leaf]
        return broken
    key: Any = int(leaf) if isinstance(holder, list) else leaf
    holder[key] = _broken_value(site, holder[key])
    return broken


def _broken_value(site: Site, value: Any) -> Any:
    schema = site.schema
    if site.kind == "wrong-type":
        return _WRONG_TYPE[_type_of(schema) or "string"]
    if site.kind == "out-of-range":
        step = 1 if _type_of(schema) == "integer" else 0.5
        return schema["maximum"] + step if "maximum" in schema else schema["minimum"] - step
    if site.kind == "bad-check-character":
        alphabet = "0123456789X" if schema["format"] == "gb11643" else "0123456789ABCDEFGHJKLMNPQRTUWXY"
        return value[:-1] + next(c for c in alphabet if c != value[-1])
    if site.kind == "malformed-time":
        return _MALFORMED_TIMES[len(value) % len(_MALFORMED_TIMES)]
    if site.kind == "bad-enum":
        return "not-" + str(schema["enum"][0])
    if site.kind == "over-long":
        return "长" * (int(schema["maxLength"]) + 1)
    raise ValueError(f"unknown mutation kind {site.kind!r}; known: {', '.join(KINDS)}")
