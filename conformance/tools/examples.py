"""A request and a response example for every operation of the catalogue, derived from the standard's data.

Create bodies are each writable collection's ``valid/minimal`` fixture with its ``{{ref:…}}`` placeholders replaced
by example ids; the stored entity adds the server's members (and, with a lifecycle, its initial state); a merge patch
changes one writable member to a value another valid fixture holds (or a revised text); the read-only feeds
(``events``, ``audit-records``) describe the example create of the first lifecycle collection. Instants and ids are
fixed, so both publications (``sc-conformance openapi``, ``standard build``) print the same examples every time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalogue import Catalogue, Collection, Lifecycle, catalogue
from ..errors import SchemaError
from ..fixtures import fixture_names, load_fixture, references, resolve
from ..merge_patch import apply_merge_patch
from ..profiles import load_profile
from ..resources import profiles_dir
from ..schemas import SchemaStore, schema_store

__all__ = ["CHANGED", "CREATED", "Example", "example_id", "fixture_examples", "merge_patch", "operation_examples"]

CREATED = "2026-01-01T08:00:00Z"  # when every example record was created
CHANGED = "2026-01-01T09:00:00Z"  # when an example PATCH or transition changed it
_SERVER_MEMBERS = ("id", "created_at", "updated_at")
_REQUEST_ID = "req-0001"  # no data holds an X-Request-Id: the audit record's is fixed here
_ACTOR = "client-0001"  # nor a token subject
# appended to a text member when no other fixture gives the patch a value
_REVISED = {True: " (revised)", False: "(修订)"}


@dataclass(frozen=True)
class Example:
    """One operation with an example exchange. ``path`` is the catalogue's template (``{id}`` for an item);
    ``url`` the concrete one with the example id and query."""

    action: str  # discovery, conformance, list, create, read, patch, delete, transition
    collection: str | None
    method: str
    path: str
    url: str
    status: int
    request: Any = None  # the body; None when the operation has none
    response: Any = None  # the body; None for 204
    query: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_request_body(self) -> bool:
        return self.action in ("create", "patch", "transition")

    @property
    def request_media(self) -> str | None:
        """The request's Content-Type (RFC 7396's for a merge patch), None without a body."""
        if not self.has_request_body:
            return None
        return "application/merge-patch+json" if self.action == "patch" else "application/json"


def example_id(collection: Collection) -> str:
    """The id every example gives the collection's example record (``work-order-0001``)."""
    return f"{collection.entity}-0001"


def fixture_examples(collection: Collection, cat: Catalogue) -> dict[str, Any]:
    """Every valid fixture of a collection by name, references replaced by the example ids."""
    prefix = f"{collection.name}/valid/"
    return {name.removeprefix(prefix): resolve(load_fixture(name), lambda target: example_id(cat.collection(target)))
            for name in fixture_names() if name.startswith(prefix)}


def _create_body(collection: Collection, cat: Catalogue) -> dict[str, Any]:
    bodies = fixture_examples(collection, cat)
    if not bodies:
        raise SchemaError(f"collection {collection.name!r} is writable but has no fixture under "
                          f"fixtures/{collection.name}/valid/; add valid/minimal.json")
    body = bodies.get("minimal", next(iter(bodies.values())))
    if not isinstance(body, dict):
        raise SchemaError(f"fixtures/{collection.name}/valid/minimal.json is not a JSON object")
    return body


def _started(collection: Collection, cat: Catalogue, body: Mapping[str, Any]) -> dict[str, Any]:
    """The stored record a create makes: the body, the server's members and, with a lifecycle, its initial state."""
    entity = {"id": example_id(collection), **body, "created_at": CREATED, "updated_at": CREATED}
    if collection.lifecycle:
        life = cat.lifecycles[collection.lifecycle]
        entity[life.status_field] = life.initial
        entity[life.history_field] = [{"from": None, "to": life.initial, "at": CREATED}]
    return entity


def _first_transition(life: Lifecycle) -> tuple[str, str, str]:
    """(from, to, role) of the lifecycle's first transition out of its initial state."""
    transition = next((t for t in life.transitions if t.source == life.initial), None)
    if transition is None or not transition.roles:
        raise SchemaError(f"lifecycle {life.name!r} has no transition out of its initial state {life.initial!r}")
    return transition.source, transition.target, transition.roles[0]


def _patch_candidates(collection: Collection, cat: Catalogue, body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    fixed = set(collection.references) | set(_SERVER_MEMBERS)
    if collection.lifecycle:
        life = cat.lifecycles[collection.lifecycle]
        fixed |= {life.status_field, life.history_field, *life.field_gates}
    others = [value for name, value in sorted(fixture_examples(collection, cat).items())
              if name != "minimal" and isinstance(value, dict)]
    # first a member the create already holds, changed to another fixture's value; then one it lacks
    for present in (True, False):
        for other in others:
            for member, value in other.items():
                if member not in fixed and (member in body) == present and body.get(member) != value:
                    yield {member: value}
    for member, value in body.items():  # then a text revised, at the top or one level down (a nested merge)
        if member not in fixed and isinstance(value, str) and not references(value):
            yield {member: _revised(value)}
        elif member not in fixed and isinstance(value, dict):
            yield from ({member: {key: _revised(text)}} for key, text in value.items()
                        if isinstance(text, str) and not references(text))


def _revised(text: str) -> str:
    return text + _REVISED[text.isascii()]


def merge_patch(collection: Collection, cat: Catalogue, store: SchemaStore, body: Mapping[str, Any]) -> dict[str, Any]:
    """A one-member RFC 7396 merge patch of a writable member whose result the create schema still accepts."""
    for patch in _patch_candidates(collection, cat, body):
        errors = store.errors(collection.create_schema, apply_merge_patch(body, patch))
        if not errors:
            return patch
        # a revised text an enum refuses: the enum's next value instead (the schema holds them)
        member = next(iter(patch))
        for error in errors:
            if error.validator == "enum" and list(error.absolute_path) == [member]:
                choice = next((v for v in error.validator_value if v != body.get(member)), None)
                if choice is not None and not store.errors(collection.create_schema,
                                                            apply_merge_patch(body, {member: choice})):
                    return {member: choice}
    raise SchemaError(f"no example merge patch for {collection.name!r}: give it a second valid fixture that "
                      "differs from valid/minimal in a member that is not a reference")


def _discovery(cat: Catalogue) -> dict[str, Any]:
    up = "../" * (cat.discovery_path.count("/") - 1)  # hrefs are resolved against the document's own URL
    capabilities = (["delete"] if any(c.deletable for c in cat.collections.values()) else []) \
        + [cat.page["updated_since_param"].replace("_", "-")] \
        + sorted({c.capability for c in cat.collections.values() if c.capability})
    return {
        "platform": {"name": "示例社区平台", "vendor": "示例厂商", "version": "1.0.0"},
        "standard_version": cat.version,
        "conformance": up + cat.conformance_path.lstrip("/"),
        "collections": [{"name": c.name, "href": up + c.path.lstrip("/"), "entity": c.entity}
                        for c in cat.collections.values()],
        "capabilities": list(dict.fromkeys(capabilities)),
        "max_page_size": cat.page["max_limit"],
        "auth": {"type": "oauth2-bearer"},
    }


def _conformance() -> dict[str, Any]:
    """The national profiles (installed local standards would make the example differ from machine to machine)."""
    return {"profiles": [{"id": path.stem, "version": load_profile(path.stem).version}
                         for path in sorted(profiles_dir().glob("*.yaml"))]}


def _feeds(cat: Catalogue, stored: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The entities of the read-only collections: what the example create of the first lifecycle collection left."""
    subject = next((c for c in cat.collections.values() if c.lifecycle and c.name in stored), None)
    if subject is None:
        return {}
    record, life = stored[subject.name], cat.lifecycle_of(subject.name)
    href = f"{subject.path}/{record['id']}"
    feeds: dict[str, dict[str, Any]] = {}
    for c in cat.collections.values():
        if c.writable:
            continue
        if c.capability == "event-feed":
            feeds[c.name] = {"id": example_id(c), "created_at": CREATED, "updated_at": CREATED,
                             **({"community_id": record["community_id"]} if "community_id" in record else {}),
                             "type": "created", "resource": {"collection": subject.name, "id": record["id"],
                                                             "href": href},
                             "status": record[life.status_field], "occurred_at": CREATED}
        elif c.scopes.get("read", "").startswith("audit"):  # the audit trail: read with the catalogue's audit scope
            feeds[c.name] = {"id": example_id(c), "created_at": CREATED, "updated_at": CREATED, "actor": _ACTOR,
                             "action": "create", "resource": href, "collection": subject.name, "time": CREATED,
                             "outcome": "success", "status": 201, "request_id": _REQUEST_ID}
    return feeds


def _collection_examples(cat: Catalogue, store: SchemaStore, c: Collection, entity: dict[str, Any] | None,
                         body: dict[str, Any] | None) -> Iterator[Example]:
    item = f"{c.path}/{{id}}"
    here = f"{c.path}/{example_id(c)}"
    limit = str(cat.page["default_limit"])
    if entity is not None:
        page = {"items": [entity], "next_cursor": None, "limit": cat.page["default_limit"]}
        yield Example("list", c.name, "GET", c.path, f"{c.path}?{cat.page['limit_param']}={limit}", 200,
                      response=page, query={cat.page["limit_param"]: limit})
    if c.writable and body is not None and entity is not None:
        yield Example("create", c.name, "POST", c.path, c.path, 201, request=body, response=entity)
    if entity is not None:
        yield Example("read", c.name, "GET", item, here, 200, response=entity)
    if c.writable and body is not None and entity is not None:
        patch = merge_patch(c, cat, store, body)
        yield Example("patch", c.name, "PATCH", item, here, 200, request=patch,
                      response={**apply_merge_patch(entity, patch), "updated_at": CHANGED})
    if c.deletable:
        yield Example("delete", c.name, "DELETE", item, here, 204)
    if c.lifecycle and entity is not None:
        life = cat.lifecycles[c.lifecycle]
        source, target, role = _first_transition(life)
        history = [*entity[life.history_field], {"from": source, "to": target, "at": CHANGED, "role": role}]
        yield Example("transition", c.name, "POST", f"{item}/transitions", f"{here}/transitions", 200,
                      request={"to": target, "role": role},
                      response={**entity, life.status_field: target, life.history_field: history,
                                "updated_at": CHANGED})


def operation_examples(cat: Catalogue | None = None, store: SchemaStore | None = None) -> list[Example]:
    """Every operation of the catalogue with its example, in the catalogue's order (public documents first)."""
    cat, store = cat or catalogue(), store or schema_store()
    bodies = {c.name: _create_body(c, cat) for c in cat.collections.values() if c.writable}
    stored = {name: _started(cat.collection(name), cat, body) for name, body in bodies.items()}
    stored.update(_feeds(cat, stored))
    examples = [Example("discovery", None, "GET", cat.discovery_path, cat.discovery_path, 200,
                        response=_discovery(cat)),
                Example("conformance", None, "GET", cat.conformance_path, cat.conformance_path, 200,
                        response=_conformance())]
    for c in cat.collections.values():
        examples.extend(_collection_examples(cat, store, c, stored.get(c.name), bodies.get(c.name)))
    return examples
