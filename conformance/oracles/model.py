"""A model of what the run wrote, and the oracles that compare every read with it.

The model keeps each record the run created: the members the client wrote (merge patches applied per
RFC 7396), the community it belongs to, when it was written, changed and deleted, its last ``updated_at``,
and the personal data the run ever sent. Every read of a record the model knows — by id, on any page of
any listing, in the answer to a change or a transition — is compared with it, whichever check made the
request; every walk of a listing that reaches its end is compared with the records that must be on it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..catalogue import Catalogue
from ..checks._expect import apply_merge_patch  # RFC 7396, one home for checks and oracles
from ..schemas import schema_store
from . import Traffic, View, Violation, oracle
from .rules import SERVER_TIME_TOLERANCE, _at, _date, _sensitive_tags, instant

__all__ = ["Record", "RecordModel", "same_value"]

_SAME_INSTANT_SECONDS = 0.001  # S9: a client's date-time reads back as the same instant to the millisecond
_MAX_WALKS = 200


def same_value(sent: Any, got: Any) -> bool:
    """Equal as the standard means it: objects by the members sent (a platform may add its own), arrays item by
    item, date-times as instants to the millisecond, numbers by value (5 and 5.0 are one JSON number)."""
    if isinstance(sent, dict):
        return isinstance(got, dict) and all(k in got and same_value(v, got[k]) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(got, list) and len(sent) == len(got) and all(map(same_value, sent, got))
    if isinstance(sent, bool) or isinstance(got, bool):
        return type(sent) is type(got) and sent == got
    if isinstance(sent, int | float) and isinstance(got, int | float):
        return sent == got
    if isinstance(sent, str) and isinstance(got, str) and sent != got:
        a, b = instant(sent), instant(got)
        return a is not None and b is not None and abs((a - b).total_seconds()) < _SAME_INSTANT_SECONDS
    return type(sent) is type(got) and sent == got


@functools.cache
def _writable_members(schema_ref: str) -> frozenset[str]:
    """The top-level members a client writes: the schema's properties that are not readOnly."""
    schema = schema_store().validator(schema_ref).schema
    members: dict[str, bool] = {}

    def visit(node: Any) -> None:
        if not isinstance(node, dict):
            return
        for name, sub in (node.get("properties") or {}).items():
            read_only = isinstance(sub, dict) and sub.get("readOnly") is True
            members[name] = members.get(name, False) or read_only
        for sub in node.get("allOf", []):
            visit(sub)

    visit(schema)
    return frozenset(name for name, read_only in members.items() if not read_only)


@dataclass
class Record:
    collection: str
    id: str
    expected: dict[str, Any]
    community: str | None
    born: int
    changed: int
    written_by: dict[str, str] = field(default_factory=dict)  # member -> "create" or "merge patch"
    deleted: int | None = None
    updated_at: datetime | None = None
    created_at: datetime | None = None
    removed: set[str] = field(default_factory=set)  # members a merge patch removed (null)
    before: dict[str, Any] = field(default_factory=dict)  # each patched member's value before its last patch
    status: Any = None  # where the last successful transition (or the create) left it
    history: int = 0  # length of the status history then


@dataclass
class Walk:
    collection: str
    reader: str
    role: Any
    since: datetime | None
    start: int
    pages: int = 0
    ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Write:
    """A write the platform must audit: what it was, on which record, how it was answered, and when."""

    at: float  # monotonic time the answer arrived
    kind: str  # create, update, delete, transition
    collection: str
    record_id: str | None
    status: int
    described: str
    subject: str | None = None  # the writing token's `sub` when it is a JWT: the actor its audit record names
    answered: datetime | None = None  # the answer's Date: the time its audit record gives lies within S9's bound


_AUDITED_STATUSES = (400, 403, 409, 422)  # refused writes of an authenticated caller (and every 2xx)


class RecordModel:
    """What the run wrote, kept from the exchanges as they complete (see :meth:`observe`)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.records: dict[tuple[str, str], Record] = {}
        self.writes: dict[str, Write] = {}  # by the X-Request-Id the platform answered with
        self.personal: set[str] = set()  # identity and phone numbers the run sent
        self.walks: dict[str, Walk] = {}  # next_cursor -> the walk it continues
        # creations and successful transitions of lifecycle records, as the event feed must publish them (S7):
        # (monotonic time of the answer, its place in the run, kind, collection, record id)
        self.published: list[tuple[float, int, str, str, str]] = []
        # While an exchange is judged: when its request was sent, and the records a write still in flight may be
        # changing. A record written while the request was under way (under --concurrency) may show either value,
        # so no oracle judges it in that exchange.
        self.judging: int | None = None
        self.unsettled: frozenset[tuple[str, str]] = frozenset()

    def raw(self, collection: str, record_id: Any) -> Record | None:
        """The record as the model holds it, settled or not."""
        return self.records.get((collection, str(record_id))) if record_id is not None else None

    def settled(self, record: Record) -> bool:
        """Whether the exchange being judged saw ``record`` after every write to it and while none was under way."""
        begun = self.judging
        if begun is None:
            return True
        if (record.collection, record.id) in self.unsettled:
            return False
        return record.changed <= begun and (record.deleted is None or record.deleted <= begun)

    def get(self, collection: str, record_id: Any) -> Record | None:
        """The record the exchange being judged must agree with (None: unknown, or not settled for it)."""
        record = self.raw(collection, record_id)
        return record if record is not None and self.settled(record) else None

    def community_of(self, collection: str, record_id: Any) -> str | None:
        record = self.get(collection, record_id)
        return record.community if record is not None else None

    def _community(self, collection: str, entity: dict[str, Any], sent: dict[str, Any]) -> str | None:
        coll = self.catalogue.collections[collection]
        if collection == "communities":
            return str(entity.get("id"))
        for member, target in coll.references.items():
            if target == "communities":
                value = entity.get(member, sent.get(member))
                return str(value) if value is not None else None
        return None

    def observe(self, view: View) -> None:
        """Take in what a completed exchange wrote (after the oracles judged it against the model before it)."""
        coll = view.collection
        if coll is None:
            return
        sent = view.sent()
        rid = view.exchange.headers.get("x-request-id")
        if view.is_write and view.token == "role" and rid and coll.writable and (
                view.succeeded or view.status in _AUDITED_STATUSES):
            body = view.body()
            record_id = view.item_id if view.kind != "create" else (
                str(body["id"]) if view.succeeded and isinstance(body, dict) and "id" in body else None)
            self.writes[rid] = Write(time.monotonic(), view.kind, coll.name, record_id, view.status, view.describe(),
                                     view.role.subject if view.role is not None else None, _date(view))
        if isinstance(sent, dict) and view.is_write:
            for pointer in coll.pii_fields:
                value = _at(sent, pointer)
                if isinstance(value, str) and len(value) >= 7:
                    self.personal.add(value)
        if not view.succeeded:
            return
        body = view.body()
        members = _writable_members(coll.schema)
        if coll.lifecycle and view.token == "role" and view.kind in ("create", "transition"):
            record_id = view.item_id if view.kind == "transition" else (
                str(body["id"]) if isinstance(body, dict) and body.get("id") is not None else None)
            if record_id is not None:
                self.published.append((time.monotonic(), view.serial, view.kind, coll.name, record_id))
        if view.kind == "create" and isinstance(body, dict) and body.get("id") is not None and isinstance(sent, dict):
            expected = {k: v for k, v in sent.items() if k in members and v is not None}
            created = Record(coll.name, str(body["id"]), expected, self._community(coll.name, body, sent),
                             view.serial, view.serial, dict.fromkeys(expected, "create"))
            created.updated_at = instant(body.get("updated_at"))
            created.created_at = instant(body.get("created_at"))
            self._moved(coll, created, body)
            self.records[(coll.name, created.id)] = created
            return
        record = self.raw(coll.name, view.item_id)
        if record is None:
            return
        if view.kind == "update" and isinstance(sent, dict):
            patch = {k: v for k, v in sent.items() if k in members}
            record.before.update({k: record.expected.get(k) for k in patch})
            record.expected = apply_merge_patch(record.expected, patch)
            record.written_by.update(dict.fromkeys(patch, "merge patch"))
            record.removed = (record.removed - set(patch)) | {m for m, v in patch.items() if v is None}
            record.changed = view.serial
        elif view.kind == "transition":
            record.changed = view.serial
            if isinstance(body, dict):
                self._moved(coll, record, body)
        elif view.kind == "delete":
            record.deleted = view.serial
            return
        if view.kind in ("update", "transition") and isinstance(body, dict):
            record.updated_at = instant(body.get("updated_at")) or record.updated_at

    def _moved(self, coll: Any, record: Record, body: dict[str, Any]) -> None:
        if coll.lifecycle is None:
            return
        lifecycle = self.catalogue.lifecycles[coll.lifecycle]
        record.status = body.get(lifecycle.status_field)
        history = body.get(lifecycle.history_field)
        record.history = len(history) if isinstance(history, list) else 0

    def predicted(self, view: View, record: Record) -> dict[str, Any]:
        """What ``record`` must show in ``view``'s answer: a change's answer already holds its merge patch."""
        expected = record.expected
        sent = view.sent()
        if view.kind == "update" and isinstance(sent, dict) and view.collection is not None:
            members = _writable_members(view.collection.schema)
            expected = apply_merge_patch(expected, {k: v for k, v in sent.items() if k in members})
        return expected


def _shown_to(view: View, expected: dict[str, Any]) -> dict[str, Any]:
    """What the reading token may see of ``expected``: masked members are the masking oracle's, and sensitive
    tags are left out for a token without the `sensitive` scope."""
    assert view.collection is not None
    shown = dict(expected)
    if not view.holds("pii"):
        for pointer in view.collection.pii_fields:
            head, _, rest = pointer.strip("/").partition("/")
            if not rest:
                shown.pop(head, None)
            elif isinstance(shown.get(head), dict):
                shown[head] = {k: v for k, v in shown[head].items() if k != rest}
    if not view.holds("sensitive") and isinstance(shown.get("tags"), list):
        sensitive = _sensitive_tags()
        shown["tags"] = [t for t in shown["tags"] if t not in sensitive]
    return shown


def _known(view: View, traffic: Traffic) -> Iterator[tuple[str, dict[str, Any], Record, dict[str, Any]]]:
    """(pointer, entity, record, what the reader should see of it) of each live record the run wrote in ``view``."""
    assert view.collection is not None
    for pointer, entity in view.entities():
        record = traffic.model.get(view.collection.name, entity.get("id"))
        if record is not None and record.deleted is None:
            yield pointer, entity, record, _shown_to(view, traffic.model.predicted(view, record))


def _patch_sent(view: View) -> tuple[dict[str, Any] | None, set[str]]:
    """The merge patch ``view`` sent (None for anything but a change) and the members it nulls."""
    sent = view.sent() if view.kind == "update" else None
    return (sent, {m for m, v in sent.items() if v is None}) if isinstance(sent, dict) else (None, set())


def _read_differences(view: View, traffic: Traffic) -> Iterator[Violation]:
    """How each record the run wrote differs in ``view`` from the model."""
    sent, removing = _patch_sent(view)
    for pointer, entity, record, expected in _known(view, traffic):
        patched = {m for m, how in record.written_by.items() if how == "merge patch"}
        if sent is not None:
            patched |= set(sent)
        for member, value in expected.items():
            how = "merge patch" if member in patched else "create"
            if member not in entity:
                yield Violation(f"{view.describe()}: `{member}` (written by the run's {how}) is missing",
                                f"{pointer}/{member}", _short(value), None)
            elif not same_value(value, entity[member]):
                yield Violation(f"{view.describe()}: `{member}` reads back other than the run's {how} wrote it",
                                f"{pointer}/{member}", _short(value), _short(entity[member]))
        yield from _still_there(view, pointer, entity, (record.removed | removing) - set(expected))


def _still_there(view: View, pointer: str, entity: dict[str, Any], removed: set[str]) -> Iterator[Violation]:
    for member in sorted(removed):
        if entity.get(member) is not None:
            yield Violation(f"{view.describe()}: `{member}` was removed by a merge patch (null) but is still there",
                            f"{pointer}/{member}", None, _short(entity[member]))


def _patch_semantics(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Where a merge patch was not applied as RFC 7396 says — a member it set still shows its value from before,
    a member it nulled is still there, a member it left out is gone from the PATCH's answer — as opposed to a
    value stored unfaithfully (truncated, re-encoded), which is the round trip's business."""
    sent, removing = _patch_sent(view)
    for pointer, entity, record, expected in _known(view, traffic):
        before = dict(record.before)
        if sent is not None:
            before.update({k: record.expected.get(k) for k in sent if k in expected})
        for member, old in before.items():
            new = expected.get(member)
            if member not in expected or old is None or same_value(old, new):
                continue
            if member in entity and same_value(old, entity[member]):
                yield Violation(f"{view.describe()}: `{member}` still shows its value from before the merge patch",
                                f"{pointer}/{member}", _short(new), _short(entity[member]))
        if view.kind == "update":  # the PATCH's own answer is the stored record: what the patch left out stays
            for member in sorted(set(expected) - set(sent if isinstance(sent, dict) else ()) - set(entity)):
                yield Violation(f"{view.describe()}: `{member}`, which the merge patch left out, is gone from the "
                                "record", f"{pointer}/{member}", _short(expected[member]), None)
        yield from _still_there(view, pointer, entity, (record.removed | removing) - set(expected))


@oracle("model_read", scope="every record the run wrote, wherever a successful response shows it",
        applies=lambda v: bool(v.entities()))
def model_read(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A record reads back as the run wrote it — every member of its create, merge patches applied (RFC 7396:
    members change, null removes, the rest stays) — by id, on every page of every listing, and in the answer
    to a change or transition, date-times as instants (CORE-GEN-003; narrowed to a collection, the round trip
    requirements of that collection)."""
    yield from _read_differences(view, traffic)


@oracle("merge_patch_applied", scope="every record the run changed with a merge patch, wherever it is shown",
        applies=lambda v: bool(v.entities()))
def merge_patch_applied(view: View, traffic: Traffic) -> Iterator[Violation]:
    """PATCH follows RFC 7396 wherever the record is read afterwards, and in the PATCH's own answer: a member a
    merge patch set no longer shows its old value, one it nulled stays removed, the members it left out stay
    (CORE-CRUD-005). How faithfully a value is stored is the round trip's (CORE-GEN-003)."""
    yield from _patch_semantics(view, traffic)


def _short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= 120 else text[:117] + "…"


@oracle("deleted_gone", scope="every request on a record the run deleted, and every listing after it",
        applies=lambda v: v.collection is not None and v.kind in ("read", "update", "transition", "list"))
def deleted_gone(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A record deleted with success answers 404 (or 410) from then on and is listed nowhere (CORE-CRUD-007)."""
    model = traffic.model
    assert view.collection is not None
    if view.kind != "list":
        record = model.get(view.collection.name, view.item_id)
        if record is not None and record.deleted is not None and view.succeeded:
            yield Violation(f"{view.describe()}: the record was deleted, yet the platform answered {view.status}",
                            expected="404 or 410", found=view.status)
        return
    for pointer, entity in view.entities():
        record = model.get(view.collection.name, entity.get("id"))
        if record is not None and record.deleted is not None and record.deleted < view.begun:
            yield Violation(f"{view.describe()}: a record the run deleted is still listed", f"{pointer}/id",
                            None, entity.get("id"))


def _reader(view: View) -> str:
    return view.role.name if view.role is not None else view.token


def _walkable(view: View, *, synced: bool) -> bool:
    """A plain walk of a listing (only limit and cursor), or an `updated_since` one (``synced``)."""
    if view.kind != "list" or not view.succeeded or view.collection is None or view.token != "role":
        return False
    page = view.page
    others = set(view.query) - {page["limit_param"], page["cursor_param"]}
    return others == ({page["updated_since_param"]} if synced else set())


def _walk_step(view: View, traffic: Traffic, *, synced: bool) -> Walk | None:
    """Follow the walk ``view`` belongs to; the walk when this page ends it (``next_cursor`` null)."""
    body = view.body()
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return None
    walks: dict[str, Walk] = traffic.state.setdefault("walks-synced" if synced else "walks", {})
    cursor = view.query.get(view.page["cursor_param"])
    assert view.collection is not None
    if cursor is None:
        since = instant(view.query.get(view.page["updated_since_param"])) if synced else None
        walk = Walk(view.collection.name, _reader(view), view.role, since, view.begun)
    else:
        found = walks.pop(cursor, None)
        if found is None:
            return None
        walk = found
    walk.pages += 1
    walk.ids.extend(str(item.get("id")) for item in items if isinstance(item, dict))
    following = body.get("next_cursor")
    if isinstance(following, str) and following:
        if len(walks) >= _MAX_WALKS:
            walks.pop(next(iter(walks)))
        walks[following] = walk
        return None
    return walk


def _must_list(traffic: Traffic, walk: Walk) -> Iterator[Record]:
    """The records a finished walk must have shown: written before it began, not deleted, visible to the reader."""
    role = walk.role
    coll = traffic.catalogue.collections[walk.collection]
    if role is None or coll.scopes.get("read", "") not in role.scopes:
        return
    for record in traffic.model.records.values():
        if record.collection != walk.collection or record.changed >= walk.start or record.deleted is not None:
            continue
        if (record.collection, record.id) in traffic.model.unsettled:
            continue
        if role.community and record.community != role.community:
            continue
        if walk.since is not None and (record.updated_at is None or record.updated_at < walk.since):
            continue
        yield record


def _judge_walk(view: View, walk: Walk, traffic: Traffic, what: str) -> Iterator[Violation]:
    seen: set[str] = set()
    for record_id in walk.ids:
        record = traffic.model.raw(walk.collection, record_id)
        moved = record is not None and (record.changed >= walk.start
                                        or (record.collection, record.id) in traffic.model.unsettled)
        if record_id in seen and not (walk.since is not None and moved):  # a sync lists a record changed during
            # the walk again at its new updated_at; a plain walk lists every record at most once (S8)
            yield Violation(f"{view.describe()}: {what} of {walk.pages} page(s) lists record {record_id!r} twice",
                            "/items", "each record once", record_id)
        seen.add(record_id)
    missing = [r.id for r in _must_list(traffic, walk) if r.id not in seen]
    if missing:
        yield Violation(f"{view.describe()}: {what} of {walk.pages} page(s) as {walk.reader!r} left out "
                        f"{len(missing)} record(s) the run wrote before it began", "/items",
                        "every record written before the walk", missing[:5])
    if walk.since is None and not traffic.catalogue.collections[walk.collection].writable:
        yield from _walks_agree(view, walk, traffic, seen)


def _walks_agree(view: View, walk: Walk, traffic: Traffic, seen: set[str]) -> Iterator[Violation]:
    """What only the platform writes (the audit trail, the event feed) is not in the model, and no client deletes
    it: a walk must list every record an earlier complete walk by the same reader listed (whatever the page size)."""
    earlier: dict[tuple[str, str], tuple[int, frozenset[str]]] = traffic.state.setdefault("walks-seen", {})
    key = (walk.collection, walk.reader)
    before = earlier.get(key)
    if before is not None and before[0] < walk.start:
        lost = sorted(before[1] - seen)
        if lost:
            yield Violation(f"{view.describe()}: a walk of {walk.pages} page(s) as {walk.reader!r} left out "
                            f"{len(lost)} record(s) an earlier walk listed", "/items",
                            "every record an earlier walk listed", lost[:5])
    if before is None or before[0] < view.serial:
        earlier[key] = (view.serial, frozenset(seen) | (before[1] if before is not None else frozenset()))


@oracle("walk_complete", scope="every walk of a listing followed to its last page",
        applies=lambda v: _walkable(v, synced=False))
def walk_complete(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Following `next_cursor` from the first page to the last visits every record exactly once: each record the
    run wrote before the walk began (and did not delete), that the reader may see, is listed, and none twice
    (CORE-PAGE-003)."""
    walk = _walk_step(view, traffic, synced=False)
    if walk is not None:
        yield from _judge_walk(view, walk, traffic, "a walk")


@oracle("sync_complete", scope="every `updated_since` walk followed to its last page",
        applies=lambda v: _walkable(v, synced=True))
def sync_complete(view: View, traffic: Traffic) -> Iterator[Violation]:
    """`updated_since=T` returns exactly the records updated at or after T: every record the run last wrote
    before the walk began, whose `updated_at` is at or after T, is listed once (CORE-SYNC-001)."""
    walk = _walk_step(view, traffic, synced=True)
    if walk is not None:
        yield from _judge_walk(view, walk, traffic, "an updated_since walk")


@oracle("server_times_kept", scope="every record the run wrote, wherever a successful response shows it",
        applies=lambda v: bool(v.entities()))
def server_times_kept(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A record's `updated_at` never moves backwards — no read shows it earlier than the answer to the record's
    last write — and its `created_at` never changes (CORE-CRUD-005)."""
    assert view.collection is not None
    for pointer, entity in view.entities():
        record = traffic.model.get(view.collection.name, entity.get("id"))
        if record is None or record.deleted is not None:
            continue
        updated, created = instant(entity.get("updated_at")), instant(entity.get("created_at"))
        if updated is not None and record.updated_at is not None and updated < record.updated_at:
            yield Violation(f"{view.describe()}: updated_at moved backwards", f"{pointer}/updated_at",
                            f">= {record.updated_at.isoformat()}", entity.get("updated_at"))
        if created is not None and record.created_at is not None and abs(
                (created - record.created_at).total_seconds()) >= _SAME_INSTANT_SECONDS:
            yield Violation(f"{view.describe()}: created_at changed after the create", f"{pointer}/created_at",
                            record.created_at.isoformat(), entity.get("created_at"))


def _lifecycle_known(view: View) -> bool:
    return view.collection is not None and view.collection.lifecycle is not None and bool(view.entities())


@oracle("status_by_transition", scope="every record of a lifecycle collection the run wrote, wherever shown",
        applies=_lifecycle_known)
def status_by_transition(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A record's status and history change only through a transition answered with success: a create, a merge
    patch or a refused transition leaves them where they were, wherever the record is read afterwards
    (GOV-WO-005, GOV-WO-003, GOV-GE-002, INF-ALARM-002)."""
    assert view.collection is not None
    lifecycle = traffic.catalogue.lifecycle_of(view.collection.name)
    if view.kind == "transition" and view.succeeded:
        return  # a successful transition moves it: transition_applied judges that answer
    for pointer, entity in view.entities():
        record = traffic.model.get(view.collection.name, entity.get("id"))
        if record is None or record.deleted is not None or record.status is None:
            continue
        status, history = entity.get(lifecycle.status_field), entity.get(lifecycle.history_field)
        if status != record.status:
            yield Violation(f"{view.describe()}: the status changed without a transition",
                            f"{pointer}/{lifecycle.status_field}", record.status, status)
        elif isinstance(history, list) and record.history and len(history) != record.history:
            yield Violation(f"{view.describe()}: the status history changed without a transition",
                            f"{pointer}/{lifecycle.history_field}", f"{record.history} entries", len(history))


@oracle("transition_applied", scope="every transition answered with success",
        applies=lambda v: v.kind == "transition" and v.succeeded and v.collection is not None
        and v.collection.lifecycle is not None)
def transition_applied(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A transition answered with success moves the status to the state asked for and appends one entry (from
    the state before, to it, with the role) to the status history, keeping the earlier ones (GOV-WO-002,
    GOV-GE-001, INF-ALARM-001)."""
    assert view.collection is not None
    lifecycle = traffic.catalogue.lifecycle_of(view.collection.name)
    sent, body = view.sent(), view.body()
    if not isinstance(sent, dict) or not isinstance(body, dict):
        return
    wanted = sent.get("to")
    if body.get(lifecycle.status_field) != wanted:
        yield Violation(f"{view.describe()}: the transition answered with success but the status is not the one "
                        "asked for", f"/{lifecycle.status_field}", wanted, body.get(lifecycle.status_field))
    record = traffic.model.get(view.collection.name, view.item_id)
    history = body.get(lifecycle.history_field)
    if record is None or record.status is None or not isinstance(history, list) or not history:
        return
    if len(history) != record.history + 1:
        yield Violation(f"{view.describe()}: the transition did not append exactly one history entry",
                        f"/{lifecycle.history_field}", f"{record.history + 1} entries", len(history))
    last = history[-1] if isinstance(history[-1], dict) else {}
    entry = {"from": last.get("from"), "to": last.get("to"), "role": last.get("role")}
    expected = {"from": record.status, "to": wanted, "role": sent.get("role")}
    if entry != expected:
        yield Violation(f"{view.describe()}: the appended history entry does not record the transition made",
                        f"/{lifecycle.history_field}/{len(history) - 1}", expected, entry)


READABLE_WITHIN = 5.0  # S15: an audit record is readable within 5 s of the write's answer
_ACTIONS = {"create": ("create",), "update": ("update",), "delete": ("delete",), "transition": ("create", "update")}


def _audit_walk(view: View) -> bool:
    return (view.kind == "list" and view.succeeded and view.collection is not None
            and view.collection.entity == "audit-record" and view.holds("audit:read")
            and set(view.query) <= {view.page["limit_param"], view.page["cursor_param"]})


def _audited_as(write: Write, records: list[dict[str, Any]]) -> bool:
    outcomes = ("success",) if 200 <= write.status < 300 else ("denied", "failed")
    for record in records:
        resource = str(record.get("resource", ""))
        names = write.record_id is None or resource.rstrip("/").split("/")[-1] == write.record_id or (
            write.kind == "transition" and f"/{write.record_id}/" in resource + "/")
        actor = write.subject is None or record.get("actor") == write.subject
        when = instant(record.get("time"))
        timely = write.answered is None or when is None or \
            abs((when - write.answered).total_seconds()) <= SERVER_TIME_TOLERANCE
        if record.get("action") in _ACTIONS[write.kind] and record.get("outcome") in outcomes and names and actor \
                and timely:
            return True
    return False


def _walked(view: View, traffic: Traffic, key: str, items: list[Any]) -> tuple[float, list[dict[str, Any]]] | None:
    """Follow the walk ``view``'s page belongs to (kept in ``traffic.state[key]`` by next cursor); when this page
    ends it, when it began (monotonic) and every item of every page in order, else None."""
    walks: dict[str, tuple[float, list[dict[str, Any]]]] = traffic.state.setdefault(key, {})
    cursor = view.query.get(view.page["cursor_param"])
    seen: list[dict[str, Any]]
    if cursor is None:
        started, seen = time.monotonic(), []
    elif cursor in walks:
        started, seen = walks.pop(cursor)
    else:
        return None
    seen = seen + [item for item in items if isinstance(item, dict)]
    body = view.body()
    following = body.get("next_cursor") if isinstance(body, dict) else None
    if isinstance(following, str) and following:
        if len(walks) >= _MAX_WALKS:
            walks.pop(next(iter(walks)))
        walks[following] = (started, seen)
        return None
    return started, seen


@oracle("audit_complete", scope="every walk of the audit trail followed to its last page",
        applies=_audit_walk)
def audit_complete(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Every write the run made — create, change, transition, delete, in every collection, and the refused ones
    (400, 403, 409, 422) — has an audit record under the request id the platform answered with, saying what was
    done (action), how it ended (outcome), to which record (resource), when (time: within 300 s of the answer's
    `Date`, S9) and, when the token is a JWT, by whom (actor: its `sub`), readable within 5 s (S15); a trail
    read to its end is compared with every write made at least 5 s before (GUA-AUDIT-001)."""
    body = view.body()
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return
    walked = _walked(view, traffic, "audit-walks", items)
    if walked is None:
        return
    started, trail = walked
    seen: dict[str, list[dict[str, Any]]] = {}
    for item in trail:
        if isinstance(item.get("request_id"), str):
            seen.setdefault(item["request_id"], []).append(item)
    missing, wrong = [], []
    for rid, write in traffic.model.writes.items():
        if write.at > started - READABLE_WITHIN:
            continue
        if rid not in seen:
            missing.append(f"{write.described} ({rid})")
        elif not _audited_as(write, seen[rid]):
            wrong.append(f"{write.described} ({rid}, by {write.subject or 'an opaque token'}): "
                         f"{[(r.get('action'), r.get('outcome'), r.get('resource'), r.get('actor'), r.get('time')) for r in seen[rid]][:2]}")
    if missing:
        yield Violation(f"{view.describe()}: {len(missing)} write(s) of the run left no audit record in the trail",
                        "/items", "an audit record per write", missing[:5])
    if wrong:
        yield Violation(f"{view.describe()}: {len(wrong)} audit record(s) do not say what the write did (action, "
                        "outcome, resource, actor, time)", "/items", "action, outcome, resource, actor and time of the write",
                        wrong[:5])


def _transition_request(view: View, traffic: Traffic) -> tuple[Any, Record, dict[str, Any]] | None:
    """(lifecycle, the record as the model knows it, the request body) of a transition on a known record."""
    if view.kind != "transition" or view.collection is None or view.collection.lifecycle is None:
        return None
    record = traffic.model.get(view.collection.name, view.item_id)
    sent = view.sent()
    if record is None or record.status is None or not isinstance(sent, dict):
        return None
    return traffic.catalogue.lifecycle_of(view.collection.name), record, sent


def _unlisted(view: View, traffic: Traffic, *, from_final: bool) -> Iterator[Violation]:
    known = _transition_request(view, traffic)
    if known is None:
        return
    lifecycle, record, sent = known
    wanted = sent.get("to")
    if (wanted in lifecycle.states and lifecycle.transition(str(record.status), str(wanted)) is None
            and (record.status in lifecycle.final) == from_final):
        yield Violation(f"{view.describe()}: the transition {record.status} -> {wanted}, which the lifecycle does not "
                        f"list{' (out of a final state)' if from_final else ''}, was carried out",
                        expected="409 transition-not-allowed" + (" or 403" if from_final else ""), found=view.status)


@oracle("transition_listed", scope="every transition of a record the run knows, answered with success",
        applies=lambda v: v.kind == "transition" and v.succeeded)
def transition_listed(view: View, traffic: Traffic) -> Iterator[Violation]:
    """From a non-final state, a transition the lifecycle does not list — to the state itself, or back — is never
    carried out, whichever request asks for it (GOV-WO-003, GOV-GE-002, INF-ALARM-002)."""
    yield from _unlisted(view, traffic, from_final=False)


@oracle("transition_from_final", scope="every transition of a record the run knows, answered with success",
        applies=lambda v: v.kind == "transition" and v.succeeded)
def transition_from_final(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A record in a final state accepts no transition, not even to itself, whichever request asks for it
    (GOV-WO-006, GOV-GE-004, INF-ALARM-004)."""
    yield from _unlisted(view, traffic, from_final=True)


@oracle("transition_role", scope="every transition of a record the run knows, answered with success",
        applies=lambda v: v.kind == "transition" and v.succeeded)
def transition_role(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A listed transition made by a role the lifecycle does not list for it is never carried out
    (GOV-WO-004, GOV-GE-003, INF-ALARM-003)."""
    known = _transition_request(view, traffic)
    if known is None:
        return
    lifecycle, record, sent = known
    step = lifecycle.transition(str(record.status), str(sent.get("to")))
    if step is not None and sent.get("role") not in step.roles:
        yield Violation(f"{view.describe()}: the transition {step.source} -> {step.target} by the role "
                        f"{sent.get('role')!r}, which the lifecycle does not list for it, was carried out",
                        expected="403 role-not-allowed", found=view.status)


@oracle("transition_unknown_state", scope="every transition to a state the lifecycle does not have",
        applies=lambda v: v.kind == "transition" and v.collection is not None and v.collection.lifecycle is not None
        and isinstance(v.sent(), dict) and v.token == "role")
def transition_unknown_state(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A transition to a state the lifecycle does not have is answered 422 validation-failed, never carried out
    (GOV-WO-008)."""
    assert view.collection is not None
    lifecycle = traffic.catalogue.lifecycle_of(view.collection.name)
    wanted = view.sent().get("to")
    if isinstance(wanted, str) and wanted not in lifecycle.states and view.status != 422:
        yield Violation(f"{view.describe()}: a transition to {wanted!r}, a state the lifecycle does not have, was "
                        f"answered {view.status}", expected=422, found=view.status)


@oracle("field_gate", scope="every merge patch of a state-gated member on a record the run knows",
        applies=lambda v: v.kind == "update" and v.succeeded and v.collection is not None
        and v.collection.lifecycle is not None)
def field_gate(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A member the lifecycle gates by state (a satisfaction rating) is accepted only while the record is in one
    of its states (GOV-WO-007)."""
    assert view.collection is not None
    lifecycle = traffic.catalogue.lifecycle_of(view.collection.name)
    record = traffic.model.get(view.collection.name, view.item_id)
    sent = view.sent()
    if record is None or record.status is None or not isinstance(sent, dict):
        return
    for member, states in lifecycle.field_gates.items():
        if sent.get(member) is not None and record.status not in states:
            yield Violation(f"{view.describe()}: `{member}` was accepted in the state {record.status!r}",
                            f"/{member}", f"409 outside {list(states)}", view.status)


def _feed_walk(view: View) -> bool:
    return (view.kind == "list" and view.succeeded and view.collection is not None
            and view.collection.entity == "event" and view.token == "role"
            and view.holds(view.collection.scopes.get("read", ""))
            and set(view.query) <= {view.page["limit_param"], view.page["cursor_param"]})


@oracle("feed_complete", scope="every walk of the event feed followed to its last page, per collection it reports on",
        applies=_feed_walk)
def feed_complete(view: View, traffic: Traffic) -> Iterator[Violation]:
    """The event feed publishes each creation and each successful transition of a lifecycle record once, in the
    order they happened (S7): a feed read to its end lists, for every record the run created or moved at least 5 s
    before the walk began (S15), its creation and every transition; no more transitions of a run's record than
    the run made; and a record's creation before its transitions (GOV-EVT-001, INF-EVT-001)."""
    body = view.body()
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return
    walked = _walked(view, traffic, "feed-walks", items)
    if walked is None:
        return
    started, seen = walked
    model, role = traffic.model, view.role
    events: dict[tuple[str, str], list[str]] = {}  # (collection, record) -> event types in feed order
    for item in seen:
        resource = item.get("resource")
        if isinstance(resource, dict) and isinstance(resource.get("collection"), str):
            events.setdefault((resource["collection"], str(resource.get("id"))), []).append(str(item.get("type")))
    made: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for at, _, kind, collection, record_id in model.published:
        made.setdefault((collection, record_id), []).append((at, kind))
    for (collection, record_id), writes in made.items():
        record = model.raw(collection, record_id)
        if role is not None and role.community and (record is None or record.community != role.community):
            continue  # a tenant's feed shows its own community's events
        yield Violation("", about=collection)  # judged
        if (collection, record_id) in model.unsettled:
            continue  # a transition of it is still under way
        found = events.get((collection, record_id), [])
        due = [kind for at, kind in writes if at <= started - READABLE_WITHIN]
        due_transitions = due.count("transition")
        if "create" in due and "created" not in found:
            yield Violation(f"{view.describe()}: the feed read to its end has no creation event for {collection} "
                            f"{record_id!r}, created by the run more than {READABLE_WITHIN:g} s before",
                            "/items", "an event of type created", found or None, about=collection)
        if found.count("transitioned") < due_transitions:
            yield Violation(f"{view.describe()}: the feed lists {found.count('transitioned')} transition event(s) "
                            f"for {collection} {record_id!r}; the run made {due_transitions} transition(s) of it "
                            f"more than {READABLE_WITHIN:g} s before", "/items", due_transitions,
                            found.count("transitioned"), about=collection)
        made_transitions = sum(1 for _, kind in writes if kind == "transition")
        if found.count("transitioned") > made_transitions or found.count("created") > 1:
            yield Violation(f"{view.describe()}: the feed lists {found.count('created')} creation and "
                            f"{found.count('transitioned')} transition event(s) for {collection} {record_id!r}; the "
                            f"run created it once and made {made_transitions} successful transition(s): each is "
                            "published once, and a refused one not at all", "/items",
                            {"created": 1, "transitioned": made_transitions},
                            {"created": found.count("created"), "transitioned": found.count("transitioned")},
                            about=collection)
        if "created" in found and "transitioned" in found and found.index("transitioned") < found.index("created"):
            yield Violation(f"{view.describe()}: the feed lists a transition of {collection} {record_id!r} before "
                            "its creation (S7: in the order of publication)", "/items", "created first",
                            found[:5], about=collection)

