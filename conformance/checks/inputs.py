"""The input space of every field on every method: each class of value through POST and merge PATCH, and
malformed bodies on every method that takes one.

The classes come from :mod:`conformance.generation._classes` (derived from the schemas, so a new member or
collection is covered without code). Valid classes must be accepted (2xx) and read back equal (instants as
instants, numbers numerically, text code point for code point); several travel in one request where the
schema still admits the whole. Invalid classes travel one per request and must be refused with 400 or 422,
nothing stored, and the record unchanged after a refused PATCH. Classes the standard leaves open (``5.0`` for
an integer, a leap second) may be accepted or refused, never answered 5xx, and read back equal when kept.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..catalogue import TRANSITIONS_SUFFIX
from ..fixtures import fixture_names, load_fixture
from ..generation import resolved_tree
from ..generation._classes import (
    MALFORMED,
    BodyClass,
    InputClass,
    derive,
    get,
    place,
    raw_json,
    rule_table,
    verified,
)
from ..generation._classes import fields as member_pointers
from ..results import Finding, fail
from ..schemas import SchemaStore
from ..session import CheckContext, inconclusive
from ..target import Exchange
from ..verdicts import Verdict
from . import check
from ._expect import instant, offered_collections, same_instant
from ._probing import MARKER, cleanup, marked
from .entities import _masked_ok, _may_lack_sensitive, _sensitive_tags

_REFUSED = (400, 422)
_GATED_REFUSED = (400, 409, 422)  # a member the lifecycle gates may be refused for the state first (409)
_SHOWN = 8  # failing findings per collection and method; the rest are counted in one more
_METHODS = ("POST", "PATCH")
_EXPECT = ("valid", "invalid", "both")


@dataclass
class _Plan:
    """What one collection gets: its classes (checked against the schema) and the valid ones packed in rounds."""

    valid: list[list[InputClass]]  # rounds: classes that travel together
    open: list[InputClass]  # classes the standard leaves open: each alone
    invalid: list[InputClass]
    gated: frozenset[str]
    dropped: int

    def cost(self, methods: tuple[str, ...]) -> int:
        """Requests the plan needs, before failures: a create and a read per valid round, one per other class."""
        per = 2 * len(self.valid) + 2 * len(self.open)
        total = 0
        for method in methods:
            invalid = [c for c in self.invalid if method == "POST" or not c.kind.post_only]
            total += per + len(invalid) + (2 if method == "PATCH" else 1)
        return total


def _placeholder(value: Any) -> Any:
    """A fixture with its `{{ref:…}}` placeholders as ids (only their validity matters when planning)."""
    return json.loads(json.dumps(value).replace('"{{ref:', '"ref-').replace('}}"', '"'))


@functools.cache
def _planned(store: SchemaStore, name: str, create_schema: str, skip: frozenset[str], gated: frozenset[str],
             fields: tuple[str, ...] | None, expect: str, only: tuple[str, ...] | None = None) -> _Plan:
    tree = resolved_tree(store, create_schema)
    base = _placeholder(load_fixture(f"{name}/valid/minimal"))
    full = f"{name}/valid/full"
    sample = _placeholder(load_fixture(full)) if full in fixture_names() else base
    validator = store.validator(create_schema)
    derived = [c for c in derive(tree, sample, skip=skip) if fields is None or any(
        c.pointer == f or c.pointer.startswith(f + "/") for f in fields)]
    if only is not None:  # class ids, or rules, or rule/id
        derived = [c for c in derived if {c.kind.id, c.kind.rule, f"{c.kind.rule}/{c.kind.id}"} & set(only)]
    kept, dropped = verified(derived, tree, base, validator.is_valid)
    wanted = {"valid": (True,), "invalid": (False,), "both": (True, False, None)}[expect]
    kept = [c for c in kept if c.valid in wanted or (expect == "valid" and c.valid is None)]
    valid = [c for c in kept if c.valid is True and not any(_within(c.pointer, g) for g in gated)]
    return _Plan(valid=_rounds(tree, base, valid, validator.is_valid),
                 open=[c for c in kept if c.valid is None and not any(_within(c.pointer, g) for g in gated)],
                 invalid=[c for c in kept if c.valid is False],
                 gated=gated, dropped=len(dropped))


def _patch_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The merge patch turning ``before`` into ``after``, telling ``true`` from ``1`` and ``1.0`` from ``1``."""
    patch: dict[str, Any] = {member: None for member in before if member not in after}
    for member, value in after.items():
        old = before.get(member, _ABSENT)
        if isinstance(value, dict) and isinstance(old, dict):
            inner = _patch_between(old, value)
            if inner:
                patch[member] = inner
        elif old is _ABSENT or _spelled(old) != _spelled(value):
            patch[member] = value
    return patch


_ABSENT = object()


def _spelled(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _within(pointer: str, parent: str) -> bool:
    return pointer == parent or pointer.startswith(parent + "/")


def _related(a: str, b: str) -> bool:
    return _within(a, b) or _within(b, a)


def _rounds(tree: dict[str, Any], base: dict[str, Any], classes: list[InputClass],
            is_valid: Callable[[Any], bool]) -> list[list[InputClass]]:
    """Valid classes packed greedily: in each round at most one class per member (and none under another's
    member), as long as the schema admits the whole payload; a class that fits nowhere goes alone."""
    pending, rounds = list(classes), []
    while pending:
        chosen: list[InputClass] = []
        payload, rest = base, []
        for cls in pending:
            placed = None if any(_related(cls.pointer, c.pointer) for c in chosen) else place(
                tree, payload, cls.pointer, cls.value)
            if placed is None:
                rest.append(cls)
            else:
                payload = placed
                chosen.append(cls)
        if not is_valid(payload):  # members that constrain each other: add one at a time
            payload, chosen, rest = base, [], []
            for cls in pending:
                placed = None if any(_related(cls.pointer, c.pointer) for c in chosen) else place(
                    tree, payload, cls.pointer, cls.value)
                if placed is not None and is_valid(placed):
                    payload = placed
                    chosen.append(cls)
                else:
                    rest.append(cls)
        if not chosen:
            rounds += [[cls] for cls in rest]
            break
        rounds.append(chosen)
        pending = rest
    return rounds


# ---------------------------------------------------------------------------- comparing what reads back


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(sent: Any, got: Any, *, instants: bool = True) -> bool:
    """Equal as the standard means it: numbers numerically, text exactly (date-times as the same instant)."""
    if _number(sent) and _number(got):
        return bool(sent == got)
    if isinstance(sent, dict) and isinstance(got, dict):
        return all(k in got and _same(v, got[k], instants=instants) for k, v in sent.items())
    if isinstance(sent, list) and isinstance(got, list):
        return len(sent) == len(got) and all(_same(a, b, instants=instants) for a, b in zip(sent, got, strict=True))
    if instants and isinstance(sent, str) and isinstance(got, str) and sent != got:
        a, b = instant(sent), instant(got)
        return a is not None and b is not None and same_instant(a, b)
    return type(sent) is type(got) and sent == got


def _kept(ctx: CheckContext, name: str, cls: InputClass, sent: dict[str, Any], read: dict[str, Any]) -> str | None:
    """Why the member of ``cls`` did not read back as sent (None when it did)."""
    got = get(read, cls.pointer)
    value = cls.value
    if cls.pointer.startswith("/tags") and _may_lack_sensitive(ctx):  # S12: sensitive tags hidden without the scope
        sensitive = _sensitive_tags(ctx)
        tags: list[Any] = sent["tags"] if isinstance(sent.get("tags"), list) else []
        if not set(read.get("tags") or ()) & sensitive:
            expected = [t for t in tags if t not in sensitive]
            return None if _same(expected, read.get("tags")) else f"tags read back as {read.get('tags')!r}"
    if got is None:
        return "the member is missing from the read-back"
    if cls.kind.compare == "instant":
        sent_at, got_at = instant(value), instant(got)
        if sent_at is None:  # a spelling Python cannot read (a leap second): kept as sent, or any instant
            return None if got == value or got_at is not None else f"read back as {got!r}"
        return None if got_at is not None and same_instant(sent_at, got_at) else f"read back as {got!r}, another instant"
    if cls.kind.compare == "number":
        return None if _number(got) and got == value else f"read back as {got!r}"
    pii = ctx.collection(name).pii_fields
    if cls.pointer in pii and isinstance(value, str) and _masked_ok(value, got, cls.pointer):
        return None
    if _same(value, got, instants=False):
        return None
    if isinstance(value, str) and isinstance(got, str):
        for index, (a, b) in enumerate(zip(value, got, strict=False)):
            if a != b:
                return f"read back as {got!r}: code point {index} changed from U+{ord(a):04X} to U+{ord(b):04X}"
        return f"read back as {got!r}: {len(value)} code points sent, {len(got)} read back"
    return f"read back as {json.dumps(got, ensure_ascii=False)[:120]}"


def _changed(ctx: CheckContext, name: str, expected: dict[str, Any], read: dict[str, Any],
             prefix: str = "") -> tuple[str, Any, Any] | None:
    """The first member of ``expected`` the record does not hold as expected: (pointer, expected, found)."""
    pii = ctx.collection(name).pii_fields
    for key, value in expected.items():
        pointer = f"{prefix}/{key}"
        got = read.get(key) if isinstance(read, dict) else None
        if isinstance(value, dict) and isinstance(got, dict):
            inner = _changed(ctx, name, value, got, pointer)
            if inner:
                return inner
        elif pointer in pii and isinstance(value, str) and _masked_ok(value, got, pointer):
            continue
        elif pointer == "/tags" and _may_lack_sensitive(ctx) and isinstance(value, list):
            if not _same([t for t in value if t not in _sensitive_tags(ctx)], got) and not _same(value, got):
                return pointer, value, got
        elif not _same(value, got):
            return pointer, value, got
    return None


# ---------------------------------------------------------------------------- one collection


@dataclass
class _Run:
    ctx: CheckContext
    name: str
    tree: dict[str, Any]
    base: dict[str, Any]
    plan: _Plan
    fields: tuple[str, ...] | None = None
    expect: str = "both"
    findings: dict[str, list[Finding]] = field(default_factory=lambda: {"POST": [], "PATCH": []})
    created: list[str] = field(default_factory=list)
    since: Any = None  # updated_at of the first record created: refusals stored anyway are listed after it

    @property
    def path(self) -> str:
        return self.ctx.collection(self.name).path

    def note(self, method: str, finding: Finding, exchange: Exchange | None) -> Iterator[Finding]:
        """Yield a finding (its exchange as the proof) unless this method already showed enough of them."""
        shown = self.findings[method]
        shown.append(finding)
        if len(shown) <= _SHOWN:
            if exchange is not None:
                self.ctx.last_exchange = exchange
            yield finding

    def payload(self, classes: list[InputClass], start: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = start if start is not None else self.base
        for cls in classes:
            placed = place(self.tree, payload, cls.pointer, cls.value)
            if placed is not None:
                payload = placed
        return payload

    def send(self, method: str, path: str, body: Any, classes: list[InputClass]) -> Exchange:
        spellings = {c.pointer: c.raw for c in classes if c.raw is not None}
        media = "application/merge-patch+json" if method == "PATCH" else "application/json"
        if spellings:
            return self.ctx.request(method, path, content=raw_json(body, spellings), headers={"Content-Type": media})
        return self.ctx.patch(path, body) if method == "PATCH" else self.ctx.post(path, body)

    def read(self, path: str) -> tuple[Exchange, dict[str, Any] | None]:
        exchange = self.ctx.get(path)
        try:
            body = exchange.json() if exchange.status == 200 else None
        except ValueError:
            body = None
        return exchange, body if isinstance(body, dict) else None

    def created_id(self, exchange: Exchange) -> str | None:
        try:
            entity = exchange.json()
        except ValueError:
            return None
        if isinstance(entity, dict) and isinstance(entity.get("id"), str | int):
            self.created.append(str(entity["id"]))
            return str(entity["id"])
        return None


def _what(cls: InputClass) -> str:
    return f"{cls.label} ({cls.kind.en}) = {cls.shown()}"


def _post(run: _Run) -> Iterator[Finding]:
    """Every class through POST: valid rounds created and read back, open classes alone, invalid ones refused."""
    for group in run.plan.valid + [[c] for c in run.plan.open]:
        body = run.payload(group)
        exchange = run.send("POST", run.path, body, group)
        tolerated = len(group) == 1 and group[0].valid is None
        if tolerated and exchange.status in _REFUSED:
            continue
        if not 200 <= exchange.status < 300:
            yield from _blame_post(run, group, exchange)
            continue
        record_id = run.created_id(exchange)
        if record_id is None:
            yield from run.note("POST", fail(f"POST {run.path} answered {exchange.status} without the stored entity",
                                             found=exchange.text[:200]), exchange)
            continue
        yield from _read_back(run, "POST", run.ctx.item_path(run.name, record_id), body, group)
    for cls in run.plan.invalid:
        body = run.payload([cls])
        exchange = run.send("POST", run.path, _tagged(run, body, "inputs-refused"), [cls])
        yield from _refusal(run, "POST", cls, exchange)


def _read_back(run: _Run, method: str, path: str, sent: dict[str, Any], group: list[InputClass],
               record: _Record | None = None) -> Iterator[Finding]:
    """GET the record a valid round was accepted into: each class of the round reads back as sent."""
    read, entity = run.read(path)
    if record is not None:
        record.seen = entity
    if entity is None:
        yield from run.note(method, fail(f"GET of the record after {method} answered {read.status}", expected=200,
                                         found=read.status), read)
        return
    for cls in group:
        why = _kept(run.ctx, run.name, cls, sent, entity)
        if why:
            yield from run.note(method, fail(f"{method} {_what(cls)}: accepted, but {why}", expected=cls.value,
                                             found=get(entity, cls.pointer), location=cls.pointer), read)


def _tagged(run: _Run, body: dict[str, Any], probe: str) -> dict[str, Any]:
    if "extensions" not in run.tree.get("properties", {}):
        return body
    extensions: dict[str, Any] = body["extensions"] if isinstance(body.get("extensions"), dict) else {}
    return {**body, "extensions": {**extensions, MARKER: {"run": run.ctx.target.run_id, "probe": probe}}}


def _blame_post(run: _Run, group: list[InputClass], exchange: Exchange) -> Iterator[Finding]:
    """A valid round was refused: send its classes one by one to name the ones refused."""
    if len(group) == 1:
        yield from _refused_valid(run, "POST", group[0], exchange)
        return
    for cls in group:
        alone = run.send("POST", run.path, run.payload([cls]), [cls])
        if 200 <= alone.status < 300:
            run.created_id(alone)
        else:
            yield from _refused_valid(run, "POST", cls, alone)


def _refused_valid(run: _Run, method: str, cls: InputClass, exchange: Exchange) -> Iterator[Finding]:
    if cls.valid is None:
        message = f"{method} {_what(cls)}: answered {exchange.status}; the standard leaves this class open, so " \
                  "either 2xx (kept as sent) or 400/422 conforms"
        yield from run.note(method, fail(message, expected=["2xx", *_REFUSED], found=exchange.status,
                                         location=cls.pointer), exchange)
        return
    yield from run.note(method, fail(f"{method} {_what(cls)}: a valid value was refused ({exchange.status})",
                                     expected="2xx", found=exchange.status, location=cls.pointer), exchange)


def _refusal(run: _Run, method: str, cls: InputClass, exchange: Exchange) -> Iterator[Finding]:
    gated = any(_within(cls.pointer, g) for g in run.plan.gated)
    allowed = _GATED_REFUSED if gated else _REFUSED
    if exchange.status in allowed:
        return
    if 200 <= exchange.status < 300:
        note = run.ctx.discard(run.name, exchange) if method == "POST" else "the record took it"
        message = f"{method} {_what(cls)}: an invalid value was accepted ({exchange.status}); {note}"
    else:
        message = f"{method} {_what(cls)}: an invalid value answered {exchange.status}"
    yield from run.note(method, fail(message, expected=list(allowed), found=exchange.status, location=cls.pointer),
                        exchange)


@dataclass
class _Record:
    """A record the PATCH classes are sent to, and what it should hold (the payloads sent, merged)."""

    path: str
    current: dict[str, Any]
    refused: list[tuple[InputClass, Exchange]] = field(default_factory=list)
    seen: dict[str, Any] | None = None  # the record as last read: a refused patch must leave it so


def _record(run: _Run, walk_to: tuple[str, ...] = ()) -> _Record:
    """A fresh record from the base payload; for gated members, moved into the first state that allows them."""
    _, entity = run.ctx.create(run.name, run.base, purpose="a record to patch")
    run.created.append(str(entity["id"]))
    if run.since is None:
        run.since = entity.get("updated_at")
    record = _Record(run.ctx.item_path(run.name, str(entity["id"])), run.base)
    if walk_to:
        lifecycle = run.ctx.catalogue.lifecycles[run.ctx.collection(run.name).lifecycle or ""]
        paths = lifecycle.paths()
        state = next((s for s in walk_to if s in paths), None)
        if state is None:
            raise inconclusive(f"no state of the {lifecycle.name} lifecycle in {walk_to} is reachable")
        for step in paths[state]:
            moved = run.ctx.post(record.path + TRANSITIONS_SUFFIX, {"to": step.target, "role": step.roles[0]})
            if moved.status != 200:
                raise inconclusive(f"precondition failed: moving a {lifecycle.name} to {step.target!r} (to set a "
                                   f"member gated to {', '.join(walk_to)}) answered {moved.status}")
    return record


def _patch(run: _Run) -> Iterator[Finding]:
    """Every class through a merge patch of a record the check created; gated members on a record in their state."""
    lifecycle = run.ctx.catalogue.lifecycles.get(run.ctx.collection(run.name).lifecycle or "")
    gates = lifecycle.field_gates if lifecycle else {}
    ordinary = [c for c in run.plan.invalid if not c.kind.post_only and not _gate(c, gates)]
    gated_invalid = [c for c in run.plan.invalid if not c.kind.post_only and _gate(c, gates)]
    if run.plan.valid or run.plan.open or ordinary:
        yield from _patch_record(run, _record(run), run.plan.valid + [[c] for c in run.plan.open], ordinary)
    # valid members under a gate are patched in a state that allows them (elsewhere they are refused, 409)
    by_gate: dict[tuple[str, ...], tuple[list[list[InputClass]], list[InputClass]]] = {}
    for group in _gated_valid(run, gates):
        by_gate.setdefault(_gate(group[0], gates) or (), ([], []))[0].append(group)
    for cls in gated_invalid:
        by_gate.setdefault(_gate(cls, gates) or (), ([], []))[1].append(cls)
    for states, (valid, invalid) in by_gate.items():
        yield from _patch_record(run, _record(run, states), valid, invalid)


def _gate(cls: InputClass, gates: Any) -> tuple[str, ...] | None:
    return next((tuple(states) for member, states in gates.items() if _within(cls.pointer, f"/{member}")), None)


def _gated_valid(run: _Run, gates: Any) -> list[list[InputClass]]:
    """The valid classes of gated members in rounds, one gate per round (they are not in the POST rounds)."""
    if not gates or run.expect == "invalid":
        return []
    coll = run.ctx.collection(run.name)
    skip = frozenset(f"/{m}" for m in coll.references) | {"/extensions"}
    rounds = []
    for member in gates:
        wanted = tuple(f for f in run.fields if _related(f, f"/{member}")) if run.fields else (f"/{member}",)
        if wanted:
            plan = _planned(run.ctx.schemas, run.name, coll.create_schema, skip, frozenset(), wanted, "valid")
            rounds += plan.valid + [[c] for c in plan.open]
    return rounds


def _patch_record(run: _Run, record: _Record, rounds: list[list[InputClass]],
                  invalid: list[InputClass]) -> Iterator[Finding]:
    for group in rounds:
        candidate = run.payload(group)
        patch = _patch_between(record.current, candidate)
        exchange = run.send("PATCH", record.path, patch, group)
        tolerated = len(group) == 1 and group[0].valid is None
        if tolerated and exchange.status in _REFUSED:
            continue
        if not 200 <= exchange.status < 300:
            yield from _blame_patch(run, record, group, exchange)
            continue
        record.current = candidate
        yield from _read_back(run, "PATCH", record.path, candidate, group, record)
    if invalid and record.seen is None:  # what a refused patch must leave as it is, as the platform shows it
        record.seen = run.read(record.path)[1]
    for cls in invalid:
        sent = _patch_one(run, record, cls)
        if sent is None:
            continue
        _, exchange = sent
        if 200 <= exchange.status < 300:
            yield from _refusal(run, "PATCH", cls, exchange)
            yield from _unchanged(run, record)  # what the refused ones before it did
            record = _replace(run, record, cls)
            record.seen = run.read(record.path)[1]
            continue
        record.refused.append((cls, exchange))
        yield from _refusal(run, "PATCH", cls, exchange)
    yield from _unchanged(run, record)


def _replace(run: _Run, record: _Record, cls: InputClass) -> _Record:
    """The record took an invalid value: delete it where the platform offers DELETE, patch a fresh one on."""
    cleanup(run.ctx, run.name, [record.path.rsplit("/", 1)[-1]])
    run.created.remove(record.path.rsplit("/", 1)[-1])
    lifecycle = run.ctx.catalogue.lifecycles.get(run.ctx.collection(run.name).lifecycle or "")
    return _record(run, _gate(cls, lifecycle.field_gates if lifecycle else {}) or ())


def _unchanged(run: _Run, record: _Record) -> Iterator[Finding]:
    """After refused merge patches the record holds what it held: any change is named with the patch that made it."""
    if not record.refused:
        return
    read, entity = run.read(record.path)
    refused, record.refused = record.refused, []
    if entity is None:
        yield from run.note("PATCH", fail(f"GET of the record after refused patches answered {read.status}",
                                          expected=200, found=read.status), read)
        return
    seen = record.seen
    expected = {k: seen[k] for k in record.current if k in seen} if seen is not None else record.current
    changed = _changed(run.ctx, run.name, expected, entity)
    if changed is None:
        return
    pointer, expected, found = changed
    culprits = [(c, e) for c, e in refused if _related(c.pointer, pointer) and _same(get(entity, c.pointer), c.value)]
    cls, exchange = culprits[0] if culprits else refused[-1]
    message = (f"PATCH {_what(cls)}: refused ({exchange.status}), yet the record changed at {pointer}" if culprits
               else f"after {len(refused)} refused merge patches the record changed at {pointer}")
    yield from run.note("PATCH", fail(message, expected=expected, found=found, location=pointer), exchange)


def _blame_patch(run: _Run, record: _Record, group: list[InputClass], exchange: Exchange) -> Iterator[Finding]:
    if len(group) == 1:
        yield from _refused_valid(run, "PATCH", group[0], exchange)
        return
    for cls in group:
        sent = _patch_one(run, record, cls)
        if sent is None:
            continue
        candidate, alone = sent
        if 200 <= alone.status < 300:
            record.current = candidate
        else:
            yield from _refused_valid(run, "PATCH", cls, alone)


def _patch_one(run: _Run, record: _Record, cls: InputClass) -> tuple[dict[str, Any], Exchange] | None:
    """The merge patch that puts one class into the record: what the record would then hold, and the answer."""
    candidate = place(run.tree, record.current, cls.pointer, cls.value)
    if candidate is None:
        return None
    return candidate, run.send("PATCH", record.path, _patch_between(record.current, candidate), [cls])


def _nothing_stored(run: _Run, since: Any) -> Iterator[Finding]:
    """No refused POST shows up in the listing afterwards (refused and stored anyway)."""
    if not isinstance(since, str) or "extensions" not in run.tree.get("properties", {}):
        return
    ctx = run.ctx
    kept = []
    for _, page in ctx.walk(run.name, limit=100, params={ctx.catalogue.page["updated_since_param"]: since}):
        kept += [i for i in page["items"] if marked(i, ctx.target.run_id, "inputs-refused")]
    if kept:
        cleanup(ctx, run.name, [str(item.get("id")) for item in kept])
        yield from run.note("POST", fail(f"{len(kept)} refused POSTs of invalid classes were stored anyway (they "
                                         "appear in the listing; the suite deleted what it could)", expected=[],
                                         found=kept[0]), ctx.last_exchange)


@check("inputs.classes")
def input_classes(ctx: CheckContext, *, collections: list[str] | None = None, fields: list[str] | None = None,
                  expect: str = "both", classes: list[str] | None = None,
                  methods: list[str] = list(_METHODS),  # noqa: B006 - never mutated
                  budget: int = 700) -> Iterator[Finding]:
    """Every class of every member (boundary values, enum members and near misses, lax coercions, each valid and
    invalid form of its format, other spellings of one value) through POST and merge PATCH of each collection
    (default: every writable one discovery lists): valid classes accepted and read back equal, invalid ones
    refused with 400/422, nothing stored, the record unchanged. ``fields`` narrows to members (JSON pointers),
    ``expect`` to valid or invalid classes, ``classes`` to some classes (``rule/id``, a rule such as
    ``format:date-time``, or an id); ``budget`` caps the requests per collection (the plan must fit it)."""
    if expect not in _EXPECT:
        raise ValueError(f"expect must be one of {', '.join(_EXPECT)}, not {expect!r}")
    chosen = tuple(m for m in _METHODS if m in methods)
    names = offered_collections(ctx, collections, writable=True)
    _known(ctx, names, fields, classes)
    yield from ctx.each(names, lambda probe, name: _collection(  # each collection on records of its own
        probe, name, tuple(fields) if fields else None, expect, chosen, budget, tuple(classes) if classes else None))


def _known(ctx: CheckContext, names: list[str], fields: list[str] | None, classes: list[str] | None) -> None:
    """A member or class a profile names that does not exist is the profile's mistake, never a pass."""
    if fields:
        members = {p for n in names for p, _ in member_pointers(resolved_tree(ctx.schemas, ctx.collection(n).create_schema))}
        unknown = [f for f in fields if not any(_related(f, m) for m in members)]
        if unknown:
            raise ValueError(f"fields {unknown} name no member of {', '.join(names)}")
    if classes:
        ids = {k.id for _, kinds in rule_table() for k in kinds} | {r for r, _ in rule_table()} | {
            f"{r}/{k.id}" for r, kinds in rule_table() for k in kinds}
        unknown = [c for c in classes if c not in ids and not c.startswith("member:")]
        if unknown:
            raise ValueError(f"unknown input classes {unknown}; the classes are listed by `standard build` (inputs)")


def _collection(ctx: CheckContext, name: str, fields: tuple[str, ...] | None, expect: str,
                methods: tuple[str, ...], budget: int, only: tuple[str, ...] | None) -> Iterator[Finding]:
    coll = ctx.collection(name)
    lifecycle = ctx.catalogue.lifecycles.get(coll.lifecycle or "")
    gated = frozenset(f"/{m}" for m in (lifecycle.field_gates if lifecycle else {}))
    skip = frozenset(f"/{m}" for m in coll.references) | {"/extensions"}
    plan = _planned(ctx.schemas, name, coll.create_schema, skip, gated, fields, expect, only)
    if not (plan.valid or plan.open or plan.invalid):
        return
    need = plan.cost(methods)
    if need > budget:
        raise inconclusive(f"{name}: reaching every class once per method needs {need} requests, the budget is "
                           f"{budget}; raise the check's budget")
    tree = resolved_tree(ctx.schemas, coll.create_schema)
    base = ctx.fixture(f"{name}/valid/minimal")
    run = _Run(ctx, name, tree, base, plan, fields, expect)
    run.base = _tagged(run, base, "inputs")
    try:
        if "PATCH" in methods:  # first, so its record's time bounds the listing that looks for stored refusals
            yield from _patch(run)
        if "POST" in methods:
            yield from _post(run)
            if plan.invalid:
                yield from _nothing_stored(run, run.since)
    finally:
        cleanup(ctx, name, run.created)
    for method, found in run.findings.items():
        if len(found) > _SHOWN:
            yield Finding(Verdict.FAIL, f"{name}: {len(found) - _SHOWN} more {method} classes failed as above "
                          "(the report shows the first ones)", location=coll.path)


# ---------------------------------------------------------------------------- malformed bodies


def _bodies(names: list[str] | None) -> list[BodyClass]:
    known = {b.id: b for b in MALFORMED}
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise ValueError(f"unknown malformed bodies {unknown}; known: {', '.join(known)}")
    return [known[n] for n in names] if names else list(MALFORMED)


@check("inputs.malformed")
def malformed(ctx: CheckContext, *, collections: list[str] | None = None, bodies: list[str] | None = None,
              methods: list[str] = ["POST", "PATCH", "transition"],  # noqa: B006 - never mutated
              per_endpoint: int = 3) -> Iterator[Finding]:
    """Malformed bodies (cut off, trailing text, empty, not UTF-8, not an object, another media type…) on every
    method that takes one — POST, merge PATCH, lifecycle transitions — of each collection (default: every writable
    one discovery lists) are refused: 400 (415 for another media type; 422 where parsable JSON is the wrong
    shape), never 5xx, never 2xx. Each endpoint gets ``per_endpoint`` bodies in turn, more where needed so that
    every body reaches every kind of endpoint at least once."""
    chosen = _bodies(bodies)
    endpoints: dict[str, list[tuple[str, str, str]]] = {"POST": [], "PATCH": [], "transition": []}
    created: list[tuple[str, str]] = []
    try:
        yield from _send_malformed(ctx, collections, chosen, methods, per_endpoint, endpoints, created)
    finally:
        for name, record_id in created:
            cleanup(ctx, name, [record_id])


def _send_malformed(ctx: CheckContext, collections: list[str] | None, chosen: list[BodyClass], methods: list[str],
                    per_endpoint: int, endpoints: dict[str, list[tuple[str, str, str]]],
                    created: list[tuple[str, str]]) -> Iterator[Finding]:
    for name in offered_collections(ctx, collections, writable=True):
        coll = ctx.collection(name)
        if "POST" in methods:
            endpoints["POST"].append((name, "POST", coll.path))
        if "PATCH" in methods or (coll.lifecycle and "transition" in methods):
            _, entity = ctx.create(name, ctx.fixture(f"{name}/valid/minimal"), purpose="a record to send bodies to")
            created.append((name, str(entity["id"])))
            item = ctx.item_path(name, str(entity["id"]))
            if "PATCH" in methods:
                endpoints["PATCH"].append((name, "PATCH", item))
            if coll.lifecycle and "transition" in methods:
                endpoints["transition"].append((name, "POST", item + TRANSITIONS_SUFFIX))
    sends: list[tuple[str, str, str, BodyClass]] = []
    for targets in endpoints.values():
        if not targets:
            continue
        each = max(per_endpoint, -(-len(chosen) // len(targets)))
        for index, (name, method, path) in enumerate(targets):
            sends += [(name, method, path, chosen[(index * each + k) % len(chosen)])
                      for k in range(min(each, len(chosen)))]
    yield from ctx.each(sends, _send_one)  # independent sends: side by side under --concurrency


def _send_one(ctx: CheckContext, send: tuple[str, str, str, BodyClass]) -> Iterator[Finding]:
    name, method, path, body = send
    media = body.content_type
    if method == "PATCH" and media == "application/json":
        media = "application/merge-patch+json"
    headers = {"Content-Type": media} if media else {}
    exchange = ctx.request(method, path, content=body.body, headers=headers)
    if exchange.status in body.statuses:
        return
    if 200 <= exchange.status < 300 and method == "POST" and path == ctx.collection(name).path:
        ctx.discard(name, exchange)
    ctx.last_exchange = exchange
    yield fail(f"{method} {path} with {body.en} ({body.id}) answered {exchange.status}",
               expected=list(body.statuses), found=exchange.status, location="body")
