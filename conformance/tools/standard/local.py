"""The pages of a local standard in the readable specification: its requirements and tightened ones, its entity
extensions (read from its schemas) and its evaluation scheme, beside the national base's pages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ...catalogue import catalogue
from ...errors import ProfileError
from ...loading import LoadError, json_file
from ...profiles import Profile, Requirement, _load_yaml
from ...schemas import BASE_URI
from ...standards import Standard

__all__ = ["extension_views", "local_requirements", "schemes", "tightened"]


def local_requirements(standard: Standard, profiles: list[Profile]) -> list[Requirement]:
    """The requirements the standard's own profiles define, in profile order."""
    own = set(standard.profile_ids())
    found: dict[str, Requirement] = {}
    for profile in profiles:
        for req in profile.requirements:
            if req.profile in own:
                found.setdefault(req.id, req)
    return list(found.values())


def tightened(standard: Standard, profiles: list[Profile]) -> list[Requirement]:
    """The inherited requirements the standard's profiles tighten, each with its override and reason."""
    own = set(standard.profile_ids())
    found: dict[str, Requirement] = {}
    for profile in profiles:
        if profile.id not in own:
            continue
        for req in profile.requirements:
            if req.override is not None and req.override.profile in own:
                found.setdefault(req.id, req)
    return list(found.values())


def _national_refs(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(BASE_URI):
            yield ref
        for value in node.values():
            yield from _national_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _national_refs(value)


def _local(document: Mapping[str, Any], node: Any, depth: int = 0) -> Any:
    """A node with a reference into its own document (``#/$defs/x``) followed."""
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and depth < 8:
        target: Any = document
        for part in node["$ref"][2:].split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        node, depth = target, depth + 1
    return node


def _constraint(node: Mapping[str, Any]) -> str:
    parts = [f"{key}: {node[key]}" for key in ("format", "pattern", "minItems", "maxItems", "minimum", "maximum",
                                                 "minLength", "maxLength") if key in node]
    if "enum" in node:
        parts.append("enum: " + ", ".join(map(str, node["enum"])))
    return "; ".join(parts)


def _members(document: Mapping[str, Any], node: Any, prefix: str, depth: int = 0) -> list[dict[str, Any]]:
    node = _local(document, node)
    if not isinstance(node, Mapping) or depth > 6:
        return []
    rows: list[dict[str, Any]] = []
    for branch in node.get("allOf", []):
        if not (isinstance(branch, Mapping) and str(branch.get("$ref", "")).startswith(BASE_URI)):
            rows += _members(document, branch, prefix, depth + 1)  # the national branch is the national page's
    required = set(node.get("required", []))
    for name, sub in (node.get("properties") or {}).items():
        sub = _local(document, sub)
        if not isinstance(sub, Mapping):
            continue
        rows.append({"path": prefix + name, "type": str(sub.get("type", "")), "required": name in required,
                     "constraint": _constraint(sub), "description": str(sub.get("description", ""))})
        rows += _members(document, sub, f"{prefix}{name}.", depth + 1)
    return rows


def extension_views(standard: Standard) -> list[dict[str, Any]]:
    """Each schema of the standard: its ``$id``, the national schemas it extends (by ``$id``) and the members it adds
    or requires (those of every ``$defs`` entry extending a national schema, else the document's own)."""
    folder = standard.folder("schemas")
    if folder is None:
        return []
    entities = {col.schema: col.entity for col in catalogue().collections.values()}
    views = []
    for path in sorted(folder.rglob("*.json")):
        try:
            document = json_file(path, "schema")
        except LoadError:
            continue  # lint reports it, naming the file
        if not isinstance(document, dict):
            continue
        extending = [node for node in (document.get("$defs") or {}).values() if any(_national_refs(node))]
        members = [row for node in extending for row in _members(document, node, "")] or _members(document, document, "")
        refs = list(dict.fromkeys(ref.partition("#")[0] for ref in _national_refs(document)))
        relative = path.relative_to(folder).as_posix()
        views.append({"name": relative, "id": str(document.get("$id", "")), "title": str(document.get("title", relative)),
                      "description": str(document.get("description", "")), "members": members,
                      "file": f"schemas/local/{standard.id}/{relative}",
                      "extends": [{"uri": ref, "entity": entities.get(ref)} for ref in refs], "path": path})
    return views


def schemes(standard: Standard) -> list[dict[str, Any]]:
    """The standard's evaluation scheme files as written (``schemas/suite/evaluation.json``)."""
    folder = standard.evaluation_dir
    found = []
    for path in sorted(folder.glob("*.yaml")) if folder else []:
        try:
            data, _ = _load_yaml(path)  # the bounded strict loader of profiles
        except ProfileError:
            continue  # lint reports it, naming the file and line
        if isinstance(data, dict):
            found.append(data)
    return found
