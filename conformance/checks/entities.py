"""Records: create, read back, merge-patch, delete, unknown ids, schema conformance, instants."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ..fixtures import load_fixture
from ..formats import make_identity_number
from ..results import Finding, Halt, fail
from ..session import CheckContext, inconclusive
from ..target import Exchange
from . import check
from ._expect import (
    apply_merge_patch,
    create_properties,
    create_required,
    describe_difference,
    equal_values,
    instant,
    offered_collections,
    require_json,
    require_status,
    same_instant,
    schema_findings,
)

_MASKS = {"/identity/number": (6, 4), "/phone": (3, 4)}


def _pointer_get(document: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document


def _masked_ok(sent: str, got: Any, pointer: str) -> bool:
    """A masked PII value is consistent with what was sent (the standard's mask: keep head and tail)."""
    head, tail = _MASKS.get(pointer, (0, 0))
    return (isinstance(got, str) and len(got) == len(sent) and got[:head] == sent[:head]
            and got[-tail:] == sent[-tail:] and set(got[head:-tail]) == {"*"})


def _sensitive_tags(ctx: CheckContext) -> frozenset[str]:
    return frozenset(ctx.schemas.documents[ctx.schemas.uri("common.json")]["$defs"]["sensitive-tag"]["enum"])


def _may_lack_sensitive(ctx: CheckContext) -> bool:
    """Whether the run's token may lack the `sensitive` scope: it does not say it holds it (S12)."""
    default = ctx.session.credentials.get(ctx.session.credentials.default)
    return default is None or "sensitive" not in default.scopes


def _visible(ctx: CheckContext, sent: dict[str, Any], got: dict[str, Any]) -> dict[str, Any]:
    """What the token may see of what was sent (S12): without `sensitive`, tags lose the sensitive ones — when
    the read-back shows none of them (a platform that shows them to a token with the scope is right too)."""
    tags, shown = sent.get("tags"), got.get("tags")
    if isinstance(tags, list) and isinstance(shown, list) and _may_lack_sensitive(ctx):
        sensitive = _sensitive_tags(ctx)
        if not set(shown) & sensitive:
            return {**sent, "tags": [tag for tag in tags if tag not in sensitive]}
    return sent


def _differences(ctx: CheckContext, collection: str, sent: dict[str, Any], got: dict[str, Any]) -> Iterator[Finding]:
    """Each member sent that does not read back (instants as instants, PII masks and S12 scopes allowed for)."""
    pii = set(ctx.collection(collection).pii_fields)
    sent = _visible(ctx, sent, got)
    for key, value in sent.items():
        if key not in got:
            yield fail(f"field {key!r} was submitted but is missing from the stored record", expected=value,
                       location=f"/{key}")
        elif not equal_values(value, got[key]):
            pointer = f"/{key}"
            nested = [p for p in pii if p.startswith(pointer + "/") or p == pointer]
            if nested and all(_masked_ok(_pointer_get(sent, p), _pointer_get(got, p), p) for p in nested):
                rest_sent = {k: v for k, v in (value.items() if isinstance(value, dict) else [])}
                rest_got = {k: v for k, v in (got[key].items() if isinstance(got[key], dict) else [])}
                for p in nested:
                    rest_sent.pop(p.rsplit("/", 1)[-1], None)
                    rest_got.pop(p.rsplit("/", 1)[-1], None)
                if equal_values(rest_sent, rest_got):
                    continue
            yield fail(f"field {key!r} changed between submission and read-back ({describe_difference(value, got[key])})",
                       expected=value, found=got[key], location=pointer)


@check("entities.create")
def entity_create(ctx: CheckContext, *, collection: str | None = None, fixture: str | None = None
                  ) -> Iterator[Finding]:
    """POST creates: 201, a Location that resolves to the record, the stored entity in the body — on
    ``collection`` (with ``fixture``, else its minimal one), or on every writable collection the platform offers."""
    if collection is not None:
        yield from _created(ctx, collection, fixture or f"{collection}/valid/minimal", schema=True)
        return
    # on every collection: the 201, its Location and body; whether the body is valid is each collection's own
    # entity requirement's (CORE-ENT-*, their oracle judges every response), not this one's
    yield from ctx.each(offered_collections(ctx, writable=True),
                        lambda probe, name: _created(probe, name, f"{name}/valid/minimal", schema=False))


def _created(ctx: CheckContext, collection: str, fixture: str, *, schema: bool) -> Iterator[Finding]:
    coll = ctx.collection(collection)
    exchange = ctx.post(coll.path, ctx.fixture(fixture))
    require_status(exchange, 201, why=f"a valid {coll.entity} must be created")
    entity = require_json(exchange)
    if schema:
        yield from schema_findings(ctx, coll.schema, entity, what=f"the created {coll.entity}")
    location = exchange.headers.get("location")
    if not location:
        yield fail("201 Created without a Location header", location="Location")
        return
    read = ctx.get(ctx.resolve(location, exchange))
    if read.status != 200:
        yield fail(f"the Location {location!r} answered {read.status}", expected=200, found=read.status)
    elif isinstance(entity, dict) and require_json(read).get("id") != entity.get("id"):
        yield fail("the Location points to a different record", expected=entity.get("id"),
                   found=require_json(read).get("id"), location="Location")


@check("entities.round_trip")
def entity_round_trip(ctx: CheckContext, *, collection: str, fixture: str,
                      patch: dict[str, Any] | None = None) -> Iterator[Finding]:
    """A valid payload is accepted, and GET returns every submitted field unchanged (instants as instants); with
    ``patch``, the record after that merge patch reads back as the patched payload too."""
    coll = ctx.collection(collection)
    payload = ctx.fixture(fixture)
    exchange = ctx.post(coll.path, payload)
    require_status(exchange, 201, why=f"the fixture {fixture!r} is valid and must be accepted")
    created = require_json(exchange)
    item = ctx.item_path(collection, str(created.get("id")))
    read = ctx.get(item)
    require_status(read, 200)
    yield from _differences(ctx, collection, payload, require_json(read))
    if patch is not None:
        require_status(ctx.patch(item, patch), 200, why="a valid merge patch must be applied")
        read = ctx.get(item)
        require_status(read, 200)
        for finding in _differences(ctx, collection, apply_merge_patch(payload, patch), require_json(read)):
            yield fail(f"after PATCH {item}: {finding.message}", expected=finding.expected, found=finding.found,
                       location=finding.location)


@check("entities.schema")
def entity_schema(ctx: CheckContext, *, collection: str, fixtures: list[str]) -> Iterator[Finding]:
    """Created, read and listed records of the collection all conform to the entity schema."""
    coll = ctx.collection(collection)
    ids = []
    for fixture in fixtures:
        exchange = ctx.post(coll.path, ctx.fixture(fixture))
        require_status(exchange, 201, why=f"the fixture {fixture!r} is valid and must be accepted")
        entity = require_json(exchange)
        yield from schema_findings(ctx, coll.schema, entity, what=f"the created {coll.entity} ({fixture})")
        ids.append(str(entity.get("id")))
    for record_id in ids:
        read = ctx.get(ctx.item_path(collection, record_id))
        require_status(read, 200)
        yield from schema_findings(ctx, coll.schema, require_json(read), what=f"{coll.entity} {record_id}")
    listing = ctx.get(coll.path, params={"limit": ctx.page_size(100)})
    require_status(listing, 200)
    page = require_json(listing)
    for index, item in enumerate(page.get("items", []) if isinstance(page, dict) else []):
        yield from schema_findings(ctx, coll.schema, item, what=f"listed {coll.entity} #{index}", limit=2)


_CLOCK_SLACK = timedelta(seconds=300)  # S9: server-set times are the real instant, within 300 s of `Date`


def _response_time(exchange: Exchange) -> datetime:
    """The response's `Date` header, else the suite's clock at receipt (S9)."""
    try:
        return email.utils.parsedate_to_datetime(exchange.headers.get("date", ""))
    except (TypeError, ValueError):
        return datetime.now(UTC)


@check("entities.server_instants")
def server_instants(ctx: CheckContext, *, collection: str | None = None) -> Iterator[Finding]:
    """created_at and updated_at are RFC 3339 date-times with an offset in every representation, and the real
    instant of the change: within 300 s of the response's `Date` (S9; their precision is the platform's) — on
    ``collection``, or on every writable collection the platform offers."""
    if collection is not None:
        yield from _stamped(ctx, collection)
        return
    yield from ctx.each(offered_collections(ctx, writable=True), _stamped)


def _stamped(ctx: CheckContext, collection: str) -> Iterator[Finding]:
    created, entity = ctx.create(collection, ctx.fixture(f"{collection}/valid/minimal"))
    read = ctx.get(ctx.item_path(collection, str(entity["id"])))
    require_status(read, 200, precondition=True)
    for label, _exchange, document in (("the created record", created, entity),
                                      ("the record read back", read, require_json(read))):
        for name in ("created_at", "updated_at"):
            value = document.get(name)
            moment = instant(value)
            if moment is None or ctx.schemas.errors("common.json#/$defs/date-time", value):
                yield fail(f"{label}: {name} is not an RFC 3339 date-time with an offset",
                           expected="e.g. 2026-11-25T10:00:00.250+08:00", found=value, location=f"/{name}")
                continue
            clock = _response_time(created)
            if abs(moment - clock) > _CLOCK_SLACK:
                yield fail(f"{label}: {name} {value} is {abs(moment - clock).total_seconds():.0f} s away from the "
                           f"creating response's Date ({created.headers.get('date') or 'the suite clock'}); it must be "
                           "the real instant of the change", expected=f"within 300 s of {clock.isoformat()}",
                           found=value, location=f"/{name}")


@check("entities.instant_preserved")
def instant_preserved(ctx: CheckContext, *, collection: str, fixture: str, field: str,
                      values: list[str]) -> Iterator[Finding]:
    """A submitted date-time reads back as the same instant, whatever its offset."""
    for value in values:
        payload = ctx.fixture(fixture)
        payload[field] = value
        _, created = ctx.create(collection, payload, purpose=f"a record with {field}={value}")
        read = ctx.get(ctx.item_path(collection, str(created["id"])))
        require_status(read, 200, precondition=True)
        got = require_json(read).get(field)
        sent_at, got_at = instant(value), instant(got)
        if sent_at is None or got_at is None or not same_instant(sent_at, got_at):
            yield fail(f"{field} was sent as {value} and read back as a different instant",
                       expected=value, found=got, location=f"/{field}")


def _removed(patch: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Pointers a merge patch removes (its nulls, at any depth)."""
    for key, value in patch.items():
        if value is None:
            yield f"{prefix}/{key}"
        elif isinstance(value, dict):
            yield from _removed(value, f"{prefix}/{key}")


@check("entities.merge_patch")
def merge_patch(ctx: CheckContext, *, collection: str, fixture: str, patch: dict[str, Any]) -> Iterator[Finding]:
    """PATCH is JSON Merge Patch: members change, nested objects merge member by member, null removes at any
    depth, the rest stays, updated_at does not move backwards."""
    payload = ctx.fixture(fixture)
    _, created = ctx.create(collection, payload)
    path = ctx.item_path(collection, str(created["id"]))
    exchange = ctx.patch(path, patch)
    require_status(exchange, 200, why="a valid merge patch must be applied")
    read = ctx.get(path)
    require_status(read, 200)
    after = require_json(read)
    for pointer in _removed(patch):
        parent, _, leaf = pointer.rpartition("/")
        holder = _pointer_get(after, parent) if parent else after
        if isinstance(holder, dict) and leaf in holder:
            yield fail(f"merge patch null at {pointer} must remove the member; it is still there",
                       expected="absent", found=holder[leaf], location=pointer)
    yield from _differences(ctx, collection, apply_merge_patch(payload, patch), after)
    before, now = instant(created.get("updated_at")), instant(after.get("updated_at"))
    if before is None or now is None or now < before:
        yield fail("updated_at must not move backwards after a change", expected=f">= {created.get('updated_at')}",
                   found=after.get("updated_at"), location="/updated_at")


@check("entities.string_ids")
def string_ids(ctx: CheckContext, *, collection: str, fixture: str, identity_field: str) -> Iterator[Finding]:
    """Ids are JSON strings, and an identity number is never used as an id."""
    payload = ctx.fixture(fixture)
    number = make_identity_number(ctx.rng)  # fresh, so a platform keyed by it cannot collide
    parent, _, leaf = identity_field.rpartition("/")
    holder = _pointer_get(payload, parent) if parent else payload
    if isinstance(holder, dict):
        holder[leaf] = number
    exchange = ctx.post(ctx.collection(collection).path, payload)
    require_status(exchange, 201, precondition=True)
    entity = require_json(exchange)
    record_id = entity.get("id")
    if not isinstance(record_id, str):
        yield fail("the id is not a JSON string", expected="string", found=record_id, location="/id")
    secret = _pointer_get(payload, identity_field)
    if isinstance(secret, str) and isinstance(record_id, str) and secret in record_id:
        yield fail("the record's id contains the identity number: personal data must never be a key",
                   location="/id")


@check("entities.delete")
def entity_delete(ctx: CheckContext, *, collection: str) -> Iterator[Finding]:
    """DELETE answers 204, and the record is gone (404) and stays gone."""
    _, created = ctx.create(collection, ctx.fixture(f"{collection}/valid/minimal"))
    path = ctx.item_path(collection, str(created["id"]))
    exchange = ctx.delete(path)
    require_status(exchange, 204, 200, why="a declared delete capability must delete")
    for attempt in ("right after the delete", "on a second read"):
        read = ctx.get(path)
        if read.status != 404:
            yield fail(f"the deleted record answered {read.status} {attempt}", expected=404, found=read.status)


@check("entities.unknown_id")
def unknown_id(ctx: CheckContext, *, collections: list[str] | None = None) -> Iterator[Finding]:
    """GET of an id that does not exist answers 404: on the collections a profile names, else on every collection
    the platform offers (the ones only the platform writes too)."""
    for name in offered_collections(ctx, collections):
        path = ctx.item_path(name, ctx.unique("no-such-id-"))
        exchange = ctx.get(path)
        if exchange.status != 404:
            yield fail(f"GET {path} answered {exchange.status}", expected=404, found=exchange.status)


def plain_patch(ctx: CheckContext, collection: str) -> dict[str, Any]:
    """A merge patch of one plain member of a collection's minimal fixture (no reference, no placeholder): a body
    any platform accepts for a record that exists, so an answer to it is about the record, not the body."""
    references = ctx.collection(collection).references
    minimal = load_fixture(f"{collection}/valid/minimal")
    for member, value in minimal.items() if isinstance(minimal, dict) else ():
        if member not in references and isinstance(value, str | int | float | bool) \
                and not (isinstance(value, str) and value.startswith("{{")):
            return {member: value}
    return {}


@check("entities.unknown_id_write")
def unknown_id_write(ctx: CheckContext, *, collection: str | None = None,
                     patch: dict[str, Any] | None = None) -> Iterator[Finding]:
    """PATCH of an id that does not exist answers 404 and creates nothing: on ``collection`` with ``patch``, else on
    every writable collection the platform offers, each patched with a plain member of its minimal fixture."""
    if collection is not None:
        yield from _unknown_write(ctx, collection, patch if patch is not None else plain_patch(ctx, collection))
        return
    yield from ctx.each(offered_collections(ctx, writable=True),
                        lambda probe, name: _unknown_write(probe, name, plain_patch(probe, name)))


def _unknown_write(ctx: CheckContext, collection: str, patch: dict[str, Any]) -> Iterator[Finding]:
    path = ctx.item_path(collection, ctx.unique("no-such-id-"))
    exchange = ctx.patch(path, patch)
    if exchange.status != 404:
        yield fail(f"PATCH {path} answered {exchange.status}", expected=404, found=exchange.status)
    read = ctx.get(path)
    if read.status != 404:
        yield fail(f"after the PATCH, GET {path} answered {read.status}: a PATCH must not create",
                   expected=404, found=read.status)
        ctx.discard(collection, read)
    if exchange.status >= 500 and read.status >= 500:
        raise inconclusive("the target answered 5xx to both requests")


@check("entities.patch_references")
def patch_references(ctx: CheckContext, *, collections: list[str] | None = None) -> Iterator[Finding]:
    """A merge patch that points a reference member (`community_id`, `building_id`, …) at another existing
    record changes it, as any member changes (RFC 7396): on every writable collection discovery lists (or
    `collections`), each reference the catalogue names is moved to a fresh record of its collection and read back,
    a member set inside `extensions` merges into it and a null there removes it again, every member holding free
    text (a bilingual title's texts included) changed by one merge patch reads back changed, and a null at the top
    removes an optional member, on every writable collection. A platform may refuse a move it finds inconsistent
    (4xx); one it accepts must read back moved."""

    offered = set(offered_collections(ctx))
    # each collection on records of its own: side by side under --concurrency
    yield from ctx.each(offered_collections(ctx, collections, writable=True),
                        lambda probe, name: _patch_references(probe, name, offered))


def _nested_merge(ctx: CheckContext, path: str) -> Iterator[Finding]:
    """Set a member inside `extensions`, then null it: each merge patch reads back as RFC 7396 says."""
    def extensions() -> Any:
        read = ctx.get(path)
        shown = read.json() if read.status == 200 else None
        return shown.get("extensions") if isinstance(shown, dict) else None

    mark = {"sc_conformance": {"patched": ctx.unique("p-")}}
    added = ctx.patch(path, {"extensions": mark})
    if not 200 <= added.status < 300:
        return
    got = extensions()
    if not isinstance(got, dict) or got.get("sc_conformance") != mark["sc_conformance"]:
        yield fail(f"PATCH {path} set extensions.sc_conformance and answered {added.status}, but the "
                   "record reads back without it", expected=mark, found=got, location="/extensions")
        return
    removed = ctx.patch(path, {"extensions": {"sc_conformance": None}})  # a null inside a member
    if 200 <= removed.status < 300:
        got = extensions()
        if isinstance(got, dict) and "sc_conformance" in got:
            yield fail(f"PATCH {path} sent extensions.sc_conformance: null and answered {removed.status}, but the "
                       "member reads back (RFC 7396: null removes it)", expected="no sc_conformance member",
                       found=got.get("sc_conformance"), location="/extensions/sc_conformance")


def _top_level_null(ctx: CheckContext, name: str, path: str, entity: dict[str, Any]) -> Iterator[Finding]:
    """A null at the top removes an optional member the record holds (the first by name that is no reference, no
    server or lifecycle member); a platform may refuse the removal (4xx), or show the schema's default again."""
    coll = ctx.collection(name)
    required = create_required(ctx, name)
    properties = create_properties(ctx, name)
    lifecycle = ctx.catalogue.lifecycles.get(coll.lifecycle or "")
    fixed = set(coll.references) | {"id", "created_at", "updated_at", "extensions"} | (
        {lifecycle.status_field, lifecycle.history_field, *lifecycle.field_gates} if lifecycle else set())
    member = next((m for m in sorted(entity) if m in properties and m not in required and m not in fixed), None)
    if member is None:
        return
    removed = ctx.patch(path, {member: None})
    if not 200 <= removed.status < 300:
        return
    read = ctx.get(path)
    shown = read.json() if read.status == 200 else None
    default = properties[member].get("default", ...) if isinstance(properties[member], dict) else ...
    if isinstance(shown, dict) and member in shown and shown[member] != default:
        yield fail(f"PATCH {path} sent {member}: null and answered {removed.status}, but the member reads back "
                   "(RFC 7396: null removes it)", expected=f"no {member} member", found=shown[member],
                   location=f"/{member}")


def _plain_text(node: Any) -> bool:
    """A member that holds any text: a string with no enum, const, format or pattern to satisfy."""
    return isinstance(node, dict) and node.get("type") == "string" and not (
        {"enum", "const", "format", "pattern", "$ref"} & set(node))


def _text_patch(ctx: CheckContext, name: str, entity: dict[str, Any]) -> dict[str, Any]:
    """A merge patch giving every top-level member that holds free text (and every object of such texts, like a
    bilingual title) a new text: valid whatever else the record holds, so no cross-member rule can refuse it."""
    coll = ctx.collection(name)
    properties = create_properties(ctx, name)
    lifecycle = ctx.catalogue.lifecycles.get(coll.lifecycle or "")
    fixed = set(coll.references) | {"id", "created_at", "updated_at", "extensions"} | (
        {lifecycle.status_field, lifecycle.history_field, *lifecycle.field_gates} if lifecycle else set())
    mark = ctx.unique("改")

    def text(node: dict[str, Any]) -> str:
        return (mark * max(1, -(-int(node.get("minLength", 1)) // len(mark))))[:int(node.get("maxLength", 200))]

    patch: dict[str, Any] = {}
    for member, node in sorted(properties.items()):
        if member in fixed or not isinstance(node, dict) or node.get("readOnly"):
            continue
        if _plain_text(node):
            patch[member] = text(node)
        elif node.get("type") == "object" and node.get("properties") and all(
                _plain_text(sub) for sub in node["properties"].values()):
            current = entity.get(member)
            shown: dict[str, Any] = current if isinstance(current, dict) else {}
            keys = set(shown) | set(node.get("required") or []) or set(node["properties"])
            patch[member] = {key: text(node["properties"][key]) for key in sorted(keys) if key in node["properties"]}
    return patch


def _texts_kept(ctx: CheckContext, name: str, path: str, entity: dict[str, Any]) -> Iterator[Finding]:
    """Every free-text member changed by one merge patch reads back changed: a member the patch carries is
    never lost (RFC 7396). A platform may refuse the patch (4xx); one it accepts must read back as patched."""
    patch = _text_patch(ctx, name, entity)
    if not patch:
        return
    changed = ctx.patch(path, patch)
    if not 200 <= changed.status < 300:
        return
    read = ctx.get(path)
    shown = read.json() if read.status == 200 else None
    if not isinstance(shown, dict):
        return
    expected = apply_merge_patch(entity, patch)
    lost = sorted(m for m in patch if not equal_values(expected.get(m), shown.get(m)))
    if lost:
        yield fail(f"PATCH {path} changed {len(patch)} text member(s) and answered {changed.status}, but "
                   f"{', '.join(lost[:5])} read(s) back otherwise (RFC 7396: what a merge patch carries changes)",
                   expected={m: expected.get(m) for m in lost[:3]}, found={m: shown.get(m) for m in lost[:3]},
                   location=f"/{lost[0]}")


def _patch_references(ctx: CheckContext, name: str, offered: set[str]) -> Iterator[Finding]:
    coll = ctx.collection(name)
    movable = {m: t for m, t in coll.references.items() if t in offered and ctx.collection(t).writable}
    nested = "extensions" in create_properties(ctx, name)
    try:
        _, entity = ctx.create(name, ctx.fixture(f"{name}/valid/minimal"), purpose=f"a {coll.entity} to move")
    except Halt:
        return  # another requirement says why a minimal record cannot be created
    path = ctx.item_path(name, str(entity["id"]))
    if nested:  # a nested member set by a patch merges into `extensions`, and a null inside it removes it
        yield from _nested_merge(ctx, path)
    yield from _texts_kept(ctx, name, path, entity)
    yield from _top_level_null(ctx, name, path, entity)
    for member, target in sorted(movable.items()):  # set or moved: a reference the fixture leaves out too
        try:
            _, parent = ctx.create(target, ctx.fixture(f"{target}/valid/minimal"),
                                   purpose=f"another {ctx.collection(target).entity} to point {member} at")
        except Halt:
            continue
        new = str(parent["id"])
        moved = ctx.patch(path, {member: new})
        if not 200 <= moved.status < 300:
            continue  # refused as inconsistent: allowed
        read = ctx.get(path)
        shown = read.json() if read.status == 200 else None
        if not isinstance(shown, dict) or shown.get(member) != new:
            yield fail(f"PATCH {path} moved {member} to {new!r} and answered {moved.status}, but the record "
                       f"reads back with {member} = {shown.get(member) if isinstance(shown, dict) else None!r}",
                       expected=new, found=shown.get(member) if isinstance(shown, dict) else read.status,
                       location=f"/{member}")
