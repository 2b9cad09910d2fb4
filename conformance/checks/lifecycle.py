"""Lifecycles: initial state, allowed and forbidden transitions, roles, final states, state-gated fields.

The state machines are read from ``schemas/interface/lifecycles.json`` through the catalogue, so
a change of the table changes what these checks expect.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..catalogue import Lifecycle, Transition
from ..results import Finding, fail
from ..session import CheckContext, inconclusive
from ..target import Exchange
from . import check
from ._expect import instant, require_json, require_status


def _created(ctx: CheckContext, collection: str, fixture: str, **overrides: Any) -> tuple[str, dict[str, Any]]:
    _, entity = ctx.create(collection, {**ctx.fixture(fixture), **overrides}, purpose=f"a {collection} record")
    return ctx.item_path(collection, str(entity["id"])), entity


def _move(ctx: CheckContext, path: str, to: str, role: str) -> Exchange:
    return ctx.post(path + "/transitions", {"to": to, "role": role, "note": f"suite: to {to}"})


def _status(ctx: CheckContext, path: str, lifecycle: Lifecycle) -> Any:
    read = ctx.get(path)
    require_status(read, 200, precondition=True)
    return require_json(read, precondition=True).get(lifecycle.status_field)


def _walk(ctx: CheckContext, path: str, steps: list[Transition]) -> None:
    """Make the transitions as a precondition: anything but 200 is inconclusive."""
    for step in steps:
        require_status(_move(ctx, path, step.target, step.roles[0]), 200, precondition=True,
                       why=f"the allowed transition {step.source} → {step.target}")


def _unchanged(ctx: CheckContext, path: str, lifecycle: Lifecycle, expected: str, what: str) -> Iterator[Finding]:
    now = _status(ctx, path, lifecycle)
    if now != expected:
        yield fail(f"after {what}, the status is {now!r}", expected=expected, found=now,
                   location=f"/{lifecycle.status_field}")


def _refused(exchange: Exchange, status: int, code: str, what: str) -> Iterator[Finding]:
    if exchange.status != status:
        yield fail(f"{what} answered {exchange.status}", expected=status, found=exchange.status)
        return
    body = exchange.json() if exchange.headers.get("content-type", "").endswith("json") else None
    if isinstance(body, dict) and body.get("code") != code:
        yield fail(f"{what}: the problem's code is {body.get('code')!r}", expected=code, found=body.get("code"),
                   location="/code")


@check("lifecycle.initial_state")
def initial_state(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """A new record is in the lifecycle's initial state with a history of exactly that one entry."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    path, entity = _created(ctx, collection, fixture)
    for label, document in (("the created record", entity), ("the record read back", require_json(ctx.get(path)))):
        if document.get(lifecycle.status_field) != lifecycle.initial:
            yield fail(f"{label} is in state {document.get(lifecycle.status_field)!r}", expected=lifecycle.initial,
                       found=document.get(lifecycle.status_field), location=f"/{lifecycle.status_field}")
        history = document.get(lifecycle.history_field)
        if not (isinstance(history, list) and len(history) == 1 and isinstance(history[0], dict)
                and history[0].get("to") == lifecycle.initial and instant(history[0].get("at")) is not None):
            yield fail(f"{label}: the status history is not one entry into {lifecycle.initial!r} with an instant",
                       expected=[{"from": None, "to": lifecycle.initial, "at": "<date-time>"}], found=history,
                       location=f"/{lifecycle.history_field}")


@check("lifecycle.walk")
def walk(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """Each allowed transition on the main path answers 200, moves the status and appends to the history."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    path, entity = _created(ctx, collection, fixture)
    history = entity.get(lifecycle.history_field)
    length = len(history) if isinstance(history, list) else 0
    updated = instant(entity.get("updated_at"))
    for step in lifecycle.path_to_final():
        exchange = _move(ctx, path, step.target, step.roles[0])
        require_status(exchange, 200, why=f"{step.source} → {step.target} by {step.roles[0]} is allowed")
        after = require_json(exchange)
        if after.get(lifecycle.status_field) != step.target:
            yield fail(f"after {step.source} → {step.target} the status is {after.get(lifecycle.status_field)!r}",
                       expected=step.target, found=after.get(lifecycle.status_field))
        entries = after.get(lifecycle.history_field)
        last = entries[-1] if isinstance(entries, list) and entries else None
        if not isinstance(entries, list) or len(entries) != length + 1 or not isinstance(last, dict) \
                or (last.get("from"), last.get("to")) != (step.source, step.target) or instant(last.get("at")) is None:
            yield fail(f"{step.source} → {step.target} did not append one entry to the status history",
                       expected={"from": step.source, "to": step.target, "at": "<date-time>"},
                       found=entries[-2:] if isinstance(entries, list) else entries,
                       location=f"/{lifecycle.history_field}")
            return
        length = len(entries)
        moment = instant(after.get("updated_at"))
        if updated is None or moment is None or moment < updated:
            yield fail("updated_at did not move forward with the transition", expected=f">= {updated}",
                       found=after.get("updated_at"), location="/updated_at")
        updated = moment


@check("lifecycle.forbidden")
def forbidden(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """A transition the lifecycle does not list answers 409 transition-not-allowed and changes nothing."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    path, _ = _created(ctx, collection, fixture)
    for target in lifecycle.forbidden_from(lifecycle.initial)[-2:]:
        what = f"the transition {lifecycle.initial} → {target}, which the lifecycle does not list,"
        yield from _refused(_move(ctx, path, target, "system"), 409, "transition-not-allowed", what)
        yield from _unchanged(ctx, path, lifecycle, lifecycle.initial, what.rstrip(","))


@check("lifecycle.roles")
def roles(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """A listed transition made by a role the lifecycle does not allow answers 403 role-not-allowed."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    every = ctx.schemas.documents[ctx.schemas.uri("common.json")]["$defs"]["actor-role"]["enum"]
    step = next(t for t in lifecycle.transitions if t.source == lifecycle.initial)
    outsider = next((r for r in every if r not in step.roles), None)
    if outsider is None:
        raise inconclusive(f"every role may make {step.source} → {step.target}; nothing to test")
    path, _ = _created(ctx, collection, fixture)
    what = f"{step.source} → {step.target} by {outsider!r} (allowed: {', '.join(step.roles)})"
    yield from _refused(_move(ctx, path, step.target, outsider), 403, "role-not-allowed", what)
    yield from _unchanged(ctx, path, lifecycle, lifecycle.initial, what)


@check("lifecycle.final")
def final(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """A record in a final state accepts no further transition (409)."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    steps = lifecycle.path_to_final()
    path, _ = _created(ctx, collection, fixture)
    _walk(ctx, path, steps)
    end = steps[-1].target
    for target in dict.fromkeys([steps[-1].source, lifecycle.initial]):
        what = f"leaving the final state {end!r} for {target!r}"
        yield from _refused(_move(ctx, path, target, steps[-1].roles[0]), 409, "transition-not-allowed", what)
        yield from _unchanged(ctx, path, lifecycle, end, what)


@check("lifecycle.state_read_only")
def state_read_only(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """status changes only through transitions: sent on create or in a merge patch, it is ignored or refused."""
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
    path, _ = _created(ctx, collection, fixture)
    patched = ctx.patch(path, {lifecycle.status_field: end})
    if patched.status >= 500:
        yield fail(f"a merge patch of the status answered {patched.status}", expected="200 or 4xx",
                   found=patched.status)
    yield from _unchanged(ctx, path, lifecycle, lifecycle.initial, f"PATCH {{status: {end!r}}}")


@check("lifecycle.unknown_state")
def unknown_state(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """A transition to a state the lifecycle does not have answers 422 validation-failed."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    path, _ = _created(ctx, collection, fixture)
    yield from _refused(_move(ctx, path, "no-such-state", "system"), 422, "validation-failed",
                        "a transition to the unknown state 'no-such-state'")
    yield from _unchanged(ctx, path, lifecycle, lifecycle.initial, "a transition to an unknown state")


@check("lifecycle.field_gate")
def field_gate(ctx: CheckContext, *, collection: str, fixture: str, field: str, value: Any) -> Iterator[Finding]:
    """A field the lifecycle gates is refused before its states (409) and accepted once the record is in them."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    states = lifecycle.field_gates.get(field)
    if not states:
        raise inconclusive(f"the {lifecycle.name} lifecycle gates no field {field!r}")
    path, _ = _created(ctx, collection, fixture)
    early = ctx.patch(path, {field: value})
    if early.status != 409:
        yield fail(f"setting {field!r} in state {lifecycle.initial!r} answered {early.status}",
                   expected=409, found=early.status)
    steps = lifecycle.path_to_final()
    upto = next(i for i, t in enumerate(steps) if t.target in states)
    _walk(ctx, path, steps[: upto + 1])
    late = ctx.patch(path, {field: value})
    require_status(late, 200, why=f"{field!r} may be set in state {steps[upto].target!r}")
    if require_json(late).get(field) != value:
        yield fail(f"{field!r} set in state {steps[upto].target!r} was not stored", expected=value,
                   found=require_json(late).get(field), location=f"/{field}")
