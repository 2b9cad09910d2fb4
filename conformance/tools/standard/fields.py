"""Field tables of the entities: each member (nested ones as ``a.b`` and ``a[].b``) with its type,
whether a record and a create request need it, its description, format, pattern and allowed values,
read from the entity's JSON Schema with its ``$ref``s followed (``common.json`` types keep their name)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...catalogue import Collection
from ...resources import schemas_dir
from ...schemas import BASE_URI

__all__ = ["Field", "entity_fields", "type_rows"]

_COMMON = "common.json"


@dataclass(frozen=True)
class Field:
    name: str
    depth: int
    type: str
    common: str | None  # the common.json type it is, linked to types.html
    required: bool  # in a stored record
    on_create: bool  # in a create request
    read_only: bool
    description: str
    format: str | None
    pattern: str | None
    enum: tuple[str, ...]
    bounds: str


@functools.cache
def _document(relative: str) -> dict[str, Any]:
    return json.loads((schemas_dir() / relative).read_text(encoding="utf-8"))


def _pointer(document: Any, pointer: str) -> Any:
    node = document
    for part in [p for p in pointer.split("/") if p]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _resolve(base: str, ref: str) -> tuple[str, Any]:
    """(document path relative to schemas/, node) of ``ref`` seen from the document ``base``."""
    target, _, pointer = ref.partition("#")
    if target.startswith(BASE_URI):
        document = target.removeprefix(BASE_URI)
    elif target:
        document = str(Path(base).parent.joinpath(target)).replace("\\", "/")
        parts: list[str] = []
        for part in document.split("/"):
            if part == "..":
                parts.pop()
            elif part != ".":
                parts.append(part)
        document = "/".join(parts)
    else:
        document = base
    return document, _pointer(_document(document), pointer)


def _common_name(document: str, ref: str) -> str | None:
    if document == _COMMON and "#/$defs/" in ref:
        return ref.rsplit("/", 1)[-1]
    return None


def _flatten(base: str, node: Any) -> tuple[str, dict[str, Any], str | None]:
    """Follow ``$ref`` chains: (document, merged node, common.json type name); local keywords win."""
    merged: dict[str, Any] = {}
    common = None
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 10:
        merged = _merge({k: v for k, v in node.items() if k != "$ref"}, merged)
        document, target = _resolve(base, node["$ref"])
        common = common or _common_name(document, node["$ref"])
        base, node = document, target
        seen += 1
    if isinstance(node, dict):
        merged = _merge(node, merged)
    return base, merged, common


def _merge(under: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``under``: keywords replace, except `required` (union) and `properties` (per member)."""
    merged = {**under, **over}
    if "required" in under and "required" in over:
        merged["required"] = list(dict.fromkeys([*under["required"], *over["required"]]))
    if "properties" in under and "properties" in over:
        merged["properties"] = {**under["properties"], **over["properties"]}
    return merged


def _type_text(base: str, node: dict[str, Any]) -> str:
    if "const" in node:
        return json.dumps(node["const"], ensure_ascii=False)
    if "enum" in node:
        return "enum"
    for key in ("anyOf", "oneOf"):
        if key in node:
            names = []
            for option in node[key]:
                option_base, flat, common = _flatten(base, option)
                names.append(common or _type_text(option_base, flat))
            return " | ".join(names)
    kind = node.get("type", "")
    if isinstance(kind, list):
        return " | ".join(kind)
    if kind == "array":
        item_base, items, common = _flatten(base, node.get("items", {}))
        return f"array of {common or _type_text(item_base, items) or 'any'}"
    return kind or ("object" if "properties" in node else "any")


def _bounds(node: dict[str, Any]) -> str:
    parts = []
    for key, sign in (("minLength", "≥"), ("maxLength", "≤"), ("minimum", "≥"), ("maximum", "≤"),
                      ("minItems", "items ≥"), ("maxItems", "items ≤")):
        if key in node:
            label = "length " if "Length" in key else ""
            parts.append(f"{label}{sign} {node[key]}")
    return ", ".join(parts)


def _walk(base: str, node: dict[str, Any], prefix: str, depth: int, required: set[str], create: set[str],
          out: list[Field]) -> None:
    for name, raw in node.get("properties", {}).items():
        child_base, child, common = _flatten(base, raw)
        full = f"{prefix}{name}"
        out.append(Field(
            name=full, depth=depth, type=_type_text(child_base, child), common=common,
            required=name in required, on_create=name in create, read_only=bool(child.get("readOnly")),
            description=str(child.get("description", "")), format=child.get("format"),
            pattern=child.get("pattern"), enum=tuple(str(v) for v in child.get("enum", ())), bounds=_bounds(child)))
        if common:
            continue  # a common type is described once, on the types page
        if child.get("type") == "object" or "properties" in child:
            inner = set(child.get("required", []))
            _walk(child_base, child, f"{full}.", depth + 1, inner, inner, out)
        elif child.get("type") == "array":
            item_base, items, item_common = _flatten(child_base, child.get("items", {}))
            if not item_common and "properties" in items:
                inner = set(items.get("required", []))
                _walk(item_base, items, f"{full}[].", depth + 1, inner, inner, out)


def entity_fields(col: Collection) -> list[Field]:
    """The field table of a collection's entity."""
    document = col.schema.removeprefix(BASE_URI)
    top = _document(document)
    base, fields, _ = _flatten(document, top)
    create_doc, create_ref = col.create_schema.removeprefix(BASE_URI).partition("#")[::2]
    _, create, _ = _flatten(create_doc, _pointer(_document(create_doc), create_ref)) if create_ref else (
        "", top, None)
    required = set(fields.get("required", []))
    on_create = set(create.get("required", []))
    out: list[Field] = []
    _walk(base, fields, "", 0, required, on_create, out)
    return out


def type_rows() -> list[Field]:
    """The shared types of ``common.json``, one row each."""
    rows = []
    for name, raw in _document(_COMMON).get("$defs", {}).items():
        base, node, _ = _flatten(_COMMON, raw)
        rows.append(Field(name=name, depth=0, type=_type_text(base, node), common=None, required=False,
                          on_create=False, read_only=False, description=str(node.get("description", "")),
                          format=node.get("format"), pattern=node.get("pattern"),
                          enum=tuple(str(v) for v in node.get("enum", ())), bounds=_bounds(node)))
    return rows
