"""Lifecycles: initial state, allowed and forbidden transitions, roles, final states, state-gated fields.

The state machines are read from ``schemas/interface/lifecycles.json`` through the catalogue, so a
change of the table changes what these checks probe: every forbidden pair (self-transitions too)
from every reachable state, every role a listed transition leaves out, every final state. Records
walk the table's own transitions to reach each state, and a record is shared by every probe made
in that state (a fresh one replaces it only when a probe wrongly moved it).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from ..catalogue import Lifecycle, Transition
from ..results import Finding, fail
from ..session import CheckContext, inconclusive
from ..target import Exchange
from ..verdicts import Verdict
from . import check
from ._expect import equal_values, instant, off_the_clock, require_json, require_status

_WAIT = 1.05  # seconds between two changes of one record: any time-stamp precision up to 1 s must then move (S9)
_GLANCE = 0.02  # the first try: a platform with finer time stamps shows them moved already
_SHOWN = 5  # failing probes one check reports one by one; the rest are counted
_UNKNOWN_STATE = "no-such-state"


def _actor_roles(ctx: CheckContext) -> tuple[str, ...]:
    return tuple(ctx.schemas.documents[ctx.schemas.uri("common.json")]["$defs"]["actor-role"]["enum"])


def _leaving(lifecycle: Lifecycle, state: str) -> list[Transition]:
    return [t for t in lifecycle.transitions if t.source == state]


def _insider(lifecycle: Lifecycle, state: str) -> str:
    """A role the table lists for some transition from ``state``: refusing it anything else can only mean 409 (S6)."""
    return _leaving(lifecycle, state)[0].roles[0]


def _forbidden(lifecycle: Lifecycle, state: str) -> list[str]:
    """Every target the table gives no transition to from ``state``, the state itself included."""
    itself = [] if lifecycle.transition(state, state) else [state]
    return lifecycle.forbidden_from(state) + itself


def _routes(lifecycle: Lifecycle) -> list[list[Transition]]:
    """Runs from the initial state whose prefixes reach every reachable state: the shortest-path tree's leaves."""
    kept: list[list[Transition]] = []
    for run in sorted(lifecycle.paths().values(), key=len, reverse=True):
        if not any(k[: len(run)] == run for k in kept):
            kept.append(run)
    return kept


def _runs(lifecycle: Lifecycle) -> list[list[Transition]]:
    """Runs that make every listed transition between reachable states at least once, the main path first."""
    paths, routes = lifecycle.paths(), _routes(lifecycle)
    main = lifecycle.path_to_final()
    routes.sort(key=lambda r: r != main)
    covered = {t for r in routes for t in r}
    return routes + [paths[t.source] + [t] for t in lifecycle.transitions if t not in covered and t.source in paths]

def _created(ctx: CheckContext, collection: str, fixture: str, **overrides: Any) -> tuple[str, dict[str, Any]]:
    _, entity = ctx.create(collection, {**ctx.fixture(fixture), **overrides}, purpose=f"a {collection} record")
    return ctx.item_path(collection, str(entity["id"])), entity


def _move(ctx: CheckContext, path: str, to: str, role: str) -> Exchange:
    return ctx.post(path + "/transitions", {"to": to, "role": role, "note": f"suite: to {to}"})


def _status(ctx: CheckContext, path: str, lifecycle: Lifecycle) -> Any:
    read = ctx.get(path)
    require_status(read, 200, precondition=True)
    return require_json(read, precondition=True).get(lifecycle.status_field)


class _Record:
    """A record the suite moves along the table's transitions, and can replace by a fresh one in the same state."""

    def __init__(self, ctx: CheckContext, collection: str, fixture: str, lifecycle: Lifecycle) -> None:
        self.ctx, self.collection, self.fixture, self.lifecycle = ctx, collection, fixture, lifecycle
        self.steps: list[Transition] = []
        self.path, self.entity = _created(ctx, collection, fixture)

    @property
    def state(self) -> str:
        return self.steps[-1].target if self.steps else self.lifecycle.initial

    def _step(self, step: Transition) -> None:
        exchange = _move(self.ctx, self.path, step.target, step.roles[0])
        require_status(exchange, 200, precondition=True, why=f"the allowed transition {step.source} → {step.target}")
        self.entity = require_json(exchange, precondition=True)

    def advance(self, step: Transition) -> None:
        self._step(step)
        self.steps.append(step)

    def renew(self) -> None:
        """A probe moved this record: continue with a fresh record walked to the same state."""
        self.path, self.entity = _created(self.ctx, self.collection, self.fixture)
        for step in self.steps:
            self._step(step)


def _states(ctx: CheckContext, collection: str, fixture: str, lifecycle: Lifecycle, *,
            final: bool | None = None) -> Iterator[_Record]:
    """A record in each reachable state once (the initial state first; only the final or non-final ones when
    ``final`` says so): one record walks each route."""
    def wanted(state: str) -> bool:
        return final is None or final == (state in lifecycle.final)

    seen: set[str] = set()
    for route in _routes(lifecycle):
        if all(s in seen or not wanted(s) for s in [lifecycle.initial, *(t.target for t in route)]):
            continue
        record = _Record(ctx, collection, fixture, lifecycle)
        for step in [None, *route]:
            if step is not None and final is False and step.target in lifecycle.final:
                break  # nothing past here is wanted
            if step is not None:
                record.advance(step)
            if record.state not in seen:
                seen.add(record.state)
                if wanted(record.state):
                    yield record


def _capped(findings: Iterable[Finding], limit: int = _SHOWN) -> Iterator[Finding]:
    """The first ``limit`` failures one by one, then how many more there were."""
    failed = 0
    for finding in findings:
        failed += finding.verdict is Verdict.FAIL
        if finding.verdict is not Verdict.FAIL or failed <= limit:
            yield finding
    if failed > limit:
        yield fail(f"{failed - limit} more failing probes not shown (the evidence keeps the first and last exchanges)")


def _unchanged(ctx: CheckContext, path: str, lifecycle: Lifecycle, expected: str, what: str) -> Iterator[Finding]:
    now = _status(ctx, path, lifecycle)
    if now != expected:
        yield fail(f"after {what}, the status is {now!r}", expected=expected, found=now,
                   location=f"/{lifecycle.status_field}")


def _refused(exchange: Exchange, answers: dict[int, str], what: str) -> Iterator[Finding]:
    """The exchange answered one of ``answers`` (status → problem code) and its problem carries that code."""
    if exchange.status not in answers:
        wanted = " or ".join(map(str, answers))
        yield fail(f"{what} answered {exchange.status}, expected {wanted}", expected=list(answers),
                   found=exchange.status)
        return
    body = exchange.json() if exchange.headers.get("content-type", "").endswith("json") else None
    code = answers[exchange.status]
    if isinstance(body, dict) and body.get("code") != code:
        yield fail(f"{what}: the problem's code is {body.get('code')!r}", expected=code, found=body.get("code"),
                   location="/code")


def _probe(record: _Record, to: str, role: str, answers: dict[int, str], what: str) -> Iterator[Finding]:
    """One transition the table refuses; a record it wrongly moved is replaced so later probes ask one question."""
    exchange = _move(record.ctx, record.path, to, role)
    yield from _refused(exchange, answers, what)
    if 200 <= exchange.status < 300:
        record.renew()


def _off_clock(value: Any, exchange: Exchange, what: str, location: str) -> Iterator[Finding]:
    moment = instant(value)
    if moment is None:
        yield fail(f"{what} is not an RFC 3339 instant", found=value, location=location)
        return
    gap = off_the_clock(moment, exchange)
    if gap is not None:
        yield fail(f"{what} lies {gap:.0f} s from the response's Date: it is not the instant of the change (S9)",
                   expected=exchange.headers.get("date", "the suite's clock"), found=value, location=location)


@check("lifecycle.initial_state")
def initial_state(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """A new record is in the lifecycle's initial state with a history of exactly that one entry, made now."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    created, entity = ctx.create(collection, ctx.fixture(fixture), purpose=f"a {collection} record")
    path = ctx.item_path(collection, str(entity["id"]))
    for label, exchange in (("the created record", created), ("the record read back", ctx.get(path))):
        document = require_json(exchange)
        if document.get(lifecycle.status_field) != lifecycle.initial:
            yield fail(f"{label} is in state {document.get(lifecycle.status_field)!r}", expected=lifecycle.initial,
                       found=document.get(lifecycle.status_field), location=f"/{lifecycle.status_field}")
        history = document.get(lifecycle.history_field)
        if not (isinstance(history, list) and len(history) == 1 and isinstance(history[0], dict)
                and history[0].get("to") == lifecycle.initial):
            yield fail(f"{label}: the status history is not one entry into {lifecycle.initial!r}",
                       expected=[{"from": None, "to": lifecycle.initial, "at": "<date-time>"}], found=history,
                       location=f"/{lifecycle.history_field}")
            continue
        yield from _off_clock(history[0].get("at"), created, f"{label}: the history entry's `at`",
                              f"/{lifecycle.history_field}/0/at")


def _appended(lifecycle: Lifecycle, before: Any, after: dict[str, Any], step: Transition, role: str,
              exchange: Exchange) -> Iterator[Finding]:
    """The history grew by one entry (from, to, at, role) made now, the earlier entries unchanged."""
    entries = after.get(lifecycle.history_field)
    where = f"/{lifecycle.history_field}"
    earlier = before if isinstance(before, list) else []
    if not isinstance(entries, list) or len(entries) != len(earlier) + 1 or not equal_values(earlier, entries[:-1]) \
            or not isinstance(entries[-1], dict):
        yield fail(f"{step.source} → {step.target} did not append one entry to the status history",
                   expected={"from": step.source, "to": step.target, "at": "<date-time>", "role": role},
                   found=entries[-2:] if isinstance(entries, list) else entries, location=where)
        return
    last = entries[-1]
    if (last.get("from"), last.get("to")) != (step.source, step.target):
        yield fail(f"the entry appended by {step.source} → {step.target} says {last.get('from')} → {last.get('to')}",
                   expected=[step.source, step.target], found=[last.get("from"), last.get("to")],
                   location=f"{where}/{len(entries) - 1}")
    if "role" in last and last["role"] != role:
        yield fail(f"the entry appended by {step.source} → {step.target} names the role {last['role']!r}",
                   expected=role, found=last["role"], location=f"{where}/{len(entries) - 1}/role")
    yield from _off_clock(last.get("at"), exchange, f"the `at` of {step.source} → {step.target}",
                          f"{where}/{len(entries) - 1}/at")


def _later(what: str, old: Any, new: Any, location: str, *, strictly: bool) -> Iterator[Finding]:
    a, b = instant(old), instant(new)
    if a is None or b is None or b < a or (strictly and b == a):
        relation = "after" if strictly else "at or after"
        yield fail(f"{what} did not move forward with the transition", expected=f"{relation} {old}", found=new,
                   location=location)


def _step_findings(ctx: CheckContext, lifecycle: Lifecycle, record: dict[str, Any], path: str, step: Transition,
                   *, strictly: bool) -> Iterator[Finding]:
    """Make one allowed transition and judge it; ``record`` (the last body seen) is updated in place."""
    role = step.roles[0]
    exchange = _move(ctx, path, step.target, role)
    require_status(exchange, 200, why=f"{step.source} → {step.target} by {role} is allowed")
    after = require_json(exchange)
    if not isinstance(after, dict):
        yield fail(f"{step.source} → {step.target} did not answer the entity", found=type(after).__name__)
        return
    if after.get(lifecycle.status_field) != step.target:
        yield fail(f"after {step.source} → {step.target} the status is {after.get(lifecycle.status_field)!r}",
                   expected=step.target, found=after.get(lifecycle.status_field),
                   location=f"/{lifecycle.status_field}")
    yield from _appended(lifecycle, record.get(lifecycle.history_field), after, step, role, exchange)
    yield from _later("updated_at", record.get("updated_at"), after.get("updated_at"), "/updated_at",
                      strictly=strictly)
    yield from _off_clock(after.get("updated_at"), exchange, "updated_at", "/updated_at")
    if strictly:
        old, new = (r.get(lifecycle.history_field) for r in (record, after))
        if isinstance(old, list) and old and isinstance(new, list) and len(new) == len(old) + 1:
            yield from _later("the new history entry's `at`", old[-1].get("at"), new[-1].get("at"),
                              f"/{lifecycle.history_field}/{len(new) - 1}/at", strictly=True)
    record.clear()
    record.update(after)


@check("lifecycle.walk")
def walk(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """Every allowed transition answers 200, moves the status, appends (from, to, at, role) made now, moves updated_at.

    The last step of the main path must make updated_at and the new entry's ``at`` strictly later than the step
    before it. A platform's time-stamp precision may be as coarse as a second (S9), so only a last step made over a
    second after the one before it can be held to that; the main path first tries it a moment later, and where
    the times did not move (coarse precision, or a fault) walks a fresh record with the full pause and judges that.
    """
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    runs = _runs(lifecycle)
    if not runs or not runs[0]:
        raise inconclusive(f"the {lifecycle.name} lifecycle has no transition to walk")
    main, *others = runs
    main_path, main_record = _created(ctx, collection, fixture)
    for step in main[:-1]:
        yield from _step_findings(ctx, lifecycle, main_record, main_path, step, strictly=False)
    paused = time.monotonic()
    for run in others:
        path, record = _created(ctx, collection, fixture)
        for step in run:
            yield from _step_findings(ctx, lifecycle, record, path, step, strictly=False)
    time.sleep(max(0.0, _GLANCE - (time.monotonic() - paused)))
    before = dict(main_record)
    yield from _step_findings(ctx, lifecycle, main_record, main_path, main[-1], strictly=False)
    if main_record == before or _moved_on(lifecycle, before, main_record):
        return  # strictly later already (or the step changed nothing, and its findings said so)
    path, record = _created(ctx, collection, fixture)
    for step in main[:-1]:  # judged on the first record already
        for _ in _step_findings(ctx, lifecycle, record, path, step, strictly=False):
            pass
    time.sleep(_WAIT)
    yield from _step_findings(ctx, lifecycle, record, path, main[-1], strictly=True)


def _moved_on(lifecycle: Lifecycle, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether updated_at and the newest history entry's ``at`` are strictly later than before the step."""
    if not _strictly_later(before.get("updated_at"), after.get("updated_at")):
        return False
    old, new = before.get(lifecycle.history_field), after.get(lifecycle.history_field)
    if isinstance(old, list) and old and isinstance(new, list) and len(new) == len(old) + 1:
        return isinstance(old[-1], dict) and isinstance(new[-1], dict) and \
            _strictly_later(old[-1].get("at"), new[-1].get("at"))
    return True


def _strictly_later(old: Any, new: Any) -> bool:
    a, b = instant(old), instant(new)
    return a is not None and b is not None and b > a


@check("lifecycle.forbidden")
def forbidden(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """From every reachable non-final state, every transition the table does not list (itself included) is a 409.

    Each probe is made with a role the table lists for some transition from that state, so the only
    reason to refuse is the state (S6), and the record's status is unchanged afterwards.
    """
    lifecycle = ctx.catalogue.lifecycle_of(collection)

    def probes() -> Iterator[Finding]:
        for record in _states(ctx, collection, fixture, lifecycle, final=False):
            state = record.state
            role = _insider(lifecycle, state)
            for target in _forbidden(lifecycle, state):
                what = f"the transition {state} → {target} by {role!r}, which the lifecycle does not list,"
                yield from _probe(record, target, role, {409: "transition-not-allowed"}, what)
            yield from _unchanged(ctx, record.path, lifecycle, state, f"the refused transitions from {state!r}")

    yield from _capped(probes())


@check("lifecycle.roles")
def roles(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """Every listed transition made by each role the table leaves out of it answers 403 role-not-allowed."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    every = _actor_roles(ctx)

    def probes() -> Iterator[Finding]:
        for record in _states(ctx, collection, fixture, lifecycle, final=False):
            state = record.state
            outsiders = [(t, r) for t in _leaving(lifecycle, state) for r in every if r not in t.roles]
            for step, outsider in outsiders:
                what = f"{step.source} → {step.target} by {outsider!r} (allowed: {', '.join(step.roles)})"
                yield from _probe(record, step.target, outsider, {403: "role-not-allowed"}, what)
            if outsiders:
                yield from _unchanged(ctx, record.path, lifecycle, state, f"the refused roles in {state!r}")

    if all(set(t.roles) >= set(every) for t in lifecycle.transitions):
        raise inconclusive(f"every role may make every {lifecycle.name} transition; nothing to test")
    yield from _capped(probes())


@check("lifecycle.final")
def final(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """A record in any final state accepts no transition, not even to itself: 409, or 403 (S6: both apply)."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)

    def probes() -> Iterator[Finding]:
        reached = False
        for record in _states(ctx, collection, fixture, lifecycle, final=True):
            state, reached = record.state, True
            role = record.steps[-1].roles[0]
            for target in lifecycle.states:
                yield from _probe(record, target, role, {409: "transition-not-allowed", 403: "role-not-allowed"},
                                  f"leaving the final state {state!r} for {target!r}")
            yield from _unchanged(ctx, record.path, lifecycle, state, f"the refused transitions from {state!r}")
        if not reached:
            raise inconclusive(f"no final state of the {lifecycle.name} lifecycle is reachable")

    yield from _capped(probes())


@check("lifecycle.state_read_only")
def state_read_only(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """status and status_history change only through transitions: sent on create, or in a merge patch in any
    state, they are ignored or refused."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    end = lifecycle.final[0]
    exchange = ctx.post(ctx.collection(collection).path, {**ctx.fixture(fixture), lifecycle.status_field: end})
    if exchange.status == 201:
        created = require_json(exchange)
        if created.get(lifecycle.status_field) != lifecycle.initial:
            yield fail(f"a record created with status {end!r} starts in {created.get(lifecycle.status_field)!r}",
                       expected=lifecycle.initial, found=created.get(lifecycle.status_field))
        ctx.session.created.append(ctx.item_path(collection, str(created.get("id"))))
    elif not 400 <= exchange.status < 500:
        yield fail(f"a create carrying a status answered {exchange.status}", expected="201 or 4xx",
                   found=exchange.status)

    def probes() -> Iterator[Finding]:
        for record in _states(ctx, collection, fixture, lifecycle):
            state, history = record.state, record.entity.get(lifecycle.history_field)
            nxt = _leaving(lifecycle, state)
            wanted = nxt[0].target if nxt else lifecycle.initial  # a legal next state is the likeliest to slip through
            what = f"PATCH {{status: {wanted!r}, status_history: []}} in state {state!r}"
            patched = ctx.patch(record.path, {lifecycle.status_field: wanted, lifecycle.history_field: []})
            if patched.status >= 500:
                yield fail(f"{what} answered {patched.status}", expected="200 or 4xx", found=patched.status)
            read = ctx.get(record.path)
            require_status(read, 200, precondition=True)
            now = require_json(read, precondition=True)
            if now.get(lifecycle.status_field) != state:
                yield fail(f"after {what}, the status is {now.get(lifecycle.status_field)!r}", expected=state,
                           found=now.get(lifecycle.status_field), location=f"/{lifecycle.status_field}")
                record.renew()
            elif not equal_values(history, now.get(lifecycle.history_field)):
                yield fail(f"after {what}, the status history changed", expected=history,
                           found=now.get(lifecycle.history_field), location=f"/{lifecycle.history_field}")
                record.renew()

    yield from _capped(probes())


@check("lifecycle.unknown_state")
def unknown_state(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """From every reachable non-final state, a transition to a state the lifecycle lacks answers 422 validation-failed."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)

    def probes() -> Iterator[Finding]:
        for record in _states(ctx, collection, fixture, lifecycle, final=False):
            state = record.state
            role = _insider(lifecycle, state)
            what = f"a transition from {state!r} to the unknown state {_UNKNOWN_STATE!r} by {role!r}"
            yield from _probe(record, _UNKNOWN_STATE, role, {422: "validation-failed"}, what)
            yield from _unchanged(ctx, record.path, lifecycle, state, what)

    yield from _capped(probes())


@check("lifecycle.field_gate")
def field_gate(ctx: CheckContext, *, collection: str, fixture: str, field: str, value: Any) -> Iterator[Finding]:
    """A field the lifecycle gates is refused (409) in every reachable state outside its states, kept in each of them."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    states = lifecycle.field_gates.get(field)
    if not states:
        raise inconclusive(f"the {lifecycle.name} lifecycle gates no field {field!r}")

    def probes() -> Iterator[Finding]:
        for record in _states(ctx, collection, fixture, lifecycle):
            state = record.state
            patched = ctx.patch(record.path, {field: value})
            if state not in states:
                if patched.status != 409:
                    yield fail(f"setting {field!r} in state {state!r} answered {patched.status}", expected=409,
                               found=patched.status)
                continue
            require_status(patched, 200, why=f"{field!r} may be set in state {state!r}")
            if not equal_values(value, require_json(patched).get(field)):
                yield fail(f"{field!r} set in state {state!r} was not stored", expected=value,
                           found=require_json(patched).get(field), location=f"/{field}")

    yield from _capped(probes())
