"""Create schemas as plain trees: every ``$ref`` inlined, overlays merged, the source URI kept as ``x-ref``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from ..errors import SchemaError
from ..schemas import SchemaStore

__all__ = ["resolved_tree"]

_MAX_DEPTH = 24  # our schemas are not recursive; a deeper chain means a cycle


def resolved_tree(store: SchemaStore, ref: str) -> dict[str, Any]:
    """The schema at ``ref`` with every reference inlined (the generator and the mutator walk this)."""
    uri = store.uri(ref)
    return _inline(store, {"$ref": uri}, uri, 0)


def _lookup(store: SchemaStore, uri: str) -> Any:
    try:
        return store.registry.resolver().lookup(uri).contents
    except Exception as exc:  # referencing.exceptions.Unresolvable and friends
        raise SchemaError(f"cannot resolve {uri!r} while building a generator: {exc}") from exc


def _inline(store: SchemaStore, node: Any, base: str, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise SchemaError(f"schema references nest deeper than {_MAX_DEPTH} at {base!r}: a cycle?")
    if isinstance(node, list):
        return [_inline(store, item, base, depth) for item in node]
    if not isinstance(node, dict):
        return node
    siblings = {k: _inline(store, v, base, depth) for k, v in node.items() if k != "$ref"}
    if "$ref" not in node:
        return siblings
    target = urljoin(base, node["$ref"])
    referenced = _inline(store, _lookup(store, target), target.split("#")[0], depth + 1)
    merged = _overlay(referenced, siblings)
    merged.setdefault("x-ref", target.rsplit("/v1/", 1)[-1])
    return merged


def _overlay(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``$ref`` with siblings: the overlay narrows the base (our create schemas only narrow members)."""
    merged = dict(base)
    for key, value in overlay.items():
        if key == "properties" and isinstance(value, dict):
            properties = dict(merged.get("properties", {}))
            for name, sub in value.items():
                current = properties.get(name)
                replaces = "x-ref" in sub or current is None
                properties[name] = sub if replaces else _overlay(current, sub)
            merged["properties"] = properties
        elif key == "required" and isinstance(value, list):
            merged["required"] = sorted(set(merged.get("required", [])) | set(value))
        else:
            merged[key] = value
    return merged
