"""Schemas of the standard as OpenAPI components a code generator can resolve.

Every ``$defs`` entry of every schema document becomes a component of its own
(``common.json#/$defs/id`` → ``common.id``, ``entities/community.json#/$defs/create`` →
``entities.community.create``), so no reference points inside another component. A ``$ref`` with
assertions beside it (an entity is ``{"$ref": "#/$defs/fields", "required": [...]}``, a create
schema narrows members of ``fields``) is flattened into one object schema, because generators read
a ``$ref`` and drop its siblings. Derived per entity: the merge-patch schema (RFC 7396) and the page.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import urldefrag, urljoin

from ...schemas import BASE_URI, SchemaStore

__all__ = ["FORMAT_PATTERNS", "PREFIX", "Components", "component_name", "merge", "page_schema", "patch_schema"]

PREFIX = "#/components/schemas/"
# Keywords that say nothing about validity: a $ref carrying only these stays a $ref.
_ANNOTATIONS = frozenset({"description", "title", "readOnly", "writeOnly", "deprecated", "examples", "default",
                          "$comment"})
_DROPPED = frozenset({"$id", "$schema", "$defs"})
# An overlay member with one of these replaces the member it narrows instead of merging into it.
_REPLACING = frozenset({"$ref", "type", "enum", "const", "anyOf", "oneOf", "allOf", "pattern", "format"})
# Patterns beside the formats of the Chinese identifiers, for tools that ignore unknown format names.
# They state the shape only; the check character and the birth date still need the format checker.
FORMAT_PATTERNS = {
    "gb11643": "^[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]$",
    "gb32100": "^([0-9]{2}|[A-HJ-NP-RTUW-Y][0-9A-HJ-NP-RTUW-Y])[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$",
}
# A valid value of each, shown as the example (GB 11643-1999 appendix; a registered credit code).
FORMAT_EXAMPLES = {"gb11643": "11010519491231002X", "gb32100": "91350100M000100Y43"}


def component_name(uri: str) -> str:
    """``…/v1/entities/community.json#/$defs/create`` → ``entities.community.create``."""
    document, fragment = urldefrag(uri)
    name = document.removeprefix(BASE_URI).removesuffix(".json").replace("/", ".")
    if fragment in ("", "/"):
        return name
    parts = fragment.lstrip("/").split("/")
    if len(parts) != 2 or parts[0] != "$defs":
        raise ValueError(f"{uri}: only whole documents and $defs entries can be components")
    return f"{name}.{parts[1]}"


class Components:
    """Converted schemas by component name, built on demand from the store's documents."""

    def __init__(self, store: SchemaStore) -> None:
        self.store = store
        self.schemas: dict[str, Any] = {}

    # -- lookup
    def raw(self, uri: str) -> Any:
        document, fragment = urldefrag(uri)
        node: Any = self.store.documents[document]
        for part in filter(None, fragment.split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def ref(self, uri: str) -> dict[str, str]:
        """A reference to the component of ``uri``, converting it (and what it needs) on first use."""
        name = component_name(uri)
        if name not in self.schemas:
            self.schemas[name] = {}  # a placeholder first: a cyclic reference resolves to it
            self.schemas[name] = self.convert(self.raw(uri), urldefrag(uri).url)
        return {"$ref": PREFIX + name}

    def resolved(self, node: Any) -> Any:
        """The schema a component reference stands for (annotations beside it kept), else ``node``."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith(PREFIX):
            rest = {k: v for k, v in node.items() if k != "$ref"}
            node = {**copy.deepcopy(self.schemas[node["$ref"].removeprefix(PREFIX)]), **rest}
        return node

    # -- conversion
    def convert(self, node: Any, base: str) -> Any:
        if isinstance(node, list):
            return [self.convert(item, base) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROPPED or key == "$ref":
                continue
            if key in ("properties", "patternProperties", "$defs"):
                out[key] = {name: self.convert(sub, base) for name, sub in value.items()}
            elif key in ("enum", "const", "examples", "default", "required", "x-references"):
                out[key] = copy.deepcopy(value)
            else:
                out[key] = self.convert(value, base)
        title = out.get("title")
        if isinstance(title, str) and re.fullmatch(r"[^()]+ \(.+\)", title):
            # "Community (社区)": generators name classes after the title, so the English name stays there.
            out["x-title"], out["title"] = title, title.split(" (")[0].replace("/", " or ")
        if isinstance(out.get("format"), str) and out["format"] in FORMAT_PATTERNS:
            out.setdefault("pattern", FORMAT_PATTERNS[out["format"]])
            out.setdefault("examples", [FORMAT_EXAMPLES[out["format"]]])
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return out
        target = self.ref(urljoin(base, ref))
        if not set(out) - _ANNOTATIONS:
            return {**target, **out}
        return merge(self.resolved(target), out, self.resolved)


def merge(base: Any, overlay: dict[str, Any], resolved: Any) -> dict[str, Any]:
    """One schema for ``base`` and ``overlay`` together (a ``$ref`` with siblings, flattened).

    ``properties`` merge member by member, ``required`` is the union, other keywords of the overlay win.
    A member the overlay gives a type, reference or enum of its own replaces the base member: the
    standard's create schemas only ever narrow (``tests/tools/test_tool_openapi.py`` proves the
    flattened schemas accept and refuse every fixture as the originals do).
    """
    base = dict(resolved(base)) if isinstance(base, dict) else {}
    out = dict(base)
    for key, value in overlay.items():
        if key == "properties":
            members = dict(base.get("properties", {}))
            for name, sub in value.items():
                keep = members.get(name)
                members[name] = sub if keep is None or set(sub) & _REPLACING else merge(keep, sub, resolved)
            out["properties"] = members
        elif key == "required":
            out["required"] = list(dict.fromkeys([*base.get("required", []), *value]))
        else:
            out[key] = value
    return out


def patch_schema(create: dict[str, Any], components: Components, title: str) -> dict[str, Any]:
    """RFC 7396 merge patch derived from a create schema: nothing required, no members beyond the
    create schema's, ``null`` allowed where a member is optional (null removes it). Server-set members
    stay, marked readOnly: a platform ignores them in a patch as in a create (the catalogue says so).
    A nested object is merged member by member too, so it is a patch of its own: inline, or as the
    component ``<name>.patch`` beside a referenced one (``common.contact.patch``)."""
    create = components.resolved(create)
    required = set(create.get("required", []))
    members: dict[str, Any] = {}
    for name, sub in create.get("properties", {}).items():
        if components.resolved(sub).get("readOnly"):
            members[name] = sub
            continue
        value = _nested_patch(sub, components)
        members[name] = value if name in required else {"anyOf": [value, {"type": "null"}]}
    patch: dict[str, Any] = {"type": "object", "properties": members,
                             "additionalProperties": create.get("additionalProperties", False)}
    if title:
        patch = {"title": title, "description": "JSON Merge Patch (RFC 7396) of the entity: send only the members "
                 "to change; null removes an optional member; id, created_at, updated_at and a lifecycle's "
                 "status and status_history (readOnly) are set by the platform and ignored in a patch.", **patch}
    return patch


def _nested_patch(sub: Any, components: Components) -> Any:
    resolved = components.resolved(sub)
    if not (isinstance(resolved, dict) and resolved.get("type") == "object" and "properties" in resolved):
        return sub
    if "$ref" not in sub:
        return patch_schema(sub, components, "")
    name = sub["$ref"].removeprefix(PREFIX) + ".patch"
    if name not in components.schemas:
        components.schemas[name] = {}  # placeholder against cycles
        components.schemas[name] = patch_schema(sub, components, "")
    return {"$ref": PREFIX + name}


def page_schema(page: dict[str, Any], entity: dict[str, str], title: str) -> dict[str, Any]:
    """The page of one collection: the generic page with ``items`` typed."""
    concrete = copy.deepcopy(page)
    concrete["title"] = title
    concrete["properties"]["items"] = {**concrete["properties"]["items"], "items": entity}
    return concrete
