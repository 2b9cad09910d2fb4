"""Generated payloads against the target: valid ones are kept faithfully, one-violation mutants are refused.

Each property runs under hypothesis with a seed derived from ``--sc-seed`` and a budget of
``--sc-max-examples`` examples per entity; a failure is shrunk to a minimal payload.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import generation
from ..generation import KINDS, Site, mutate, mutation_sites
from ..results import Finding, fail
from ..session import CheckContext
from ..target import Exchange
from . import check
from ._expect import instant
from ._probing import Evidence, cleanup, counterexample_finding, marked, prepared_payloads, seed_for
from .entities import _differences  # the read-back comparison with PII masks, shared with entities.round_trip

_REJECTED = (400, 422)
_PROBLEM = "application/problem+json"


@check("generated.accepted")
def generated_accepted(ctx: CheckContext, *, collections: list[str]) -> Iterator[Finding]:
    """Generated valid payloads are accepted (2xx), read back field for field, listed and synced."""
    for name in collections:
        if ctx.collection(name).writable:
            yield from _accepted(ctx, name)


def _accepted(ctx: CheckContext, name: str) -> Iterator[Finding]:
    coll, evidence = ctx.collection(name), Evidence(ctx)
    stored: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # id -> (sent, created entity)

    def accepted(payload: dict[str, Any]) -> Finding | None:
        evidence.begin()
        problem = _round_trip(ctx, name, payload, stored)
        if problem is not None:
            evidence.failed()
        return problem

    found, _ = generation.probe(prepared_payloads(ctx, name, "positive"), accepted, seed=seed_for(ctx, name),
                     max_examples=ctx.session.max_examples)
    if found is not None:
        accepted(found.value)  # once more, so the evidence holds exactly the minimal example's exchanges
        yield counterexample_finding(ctx, f"a generated valid {coll.entity}", found)
    else:
        yield from _listed_and_synced(ctx, name, stored)
    cleanup(ctx, name, list(stored))
    evidence.settle()


def _round_trip(ctx: CheckContext, name: str, payload: dict[str, Any],
                stored: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> Finding | None:
    coll = ctx.collection(name)
    created = ctx.post(coll.path, payload)
    if not 200 <= created.status < 300:
        return fail(f"POST {coll.path} answered {created.status} to a valid payload", expected="2xx",
                    found=created.status)
    try:
        entity = created.json()
    except ValueError:
        entity = None
    if not isinstance(entity, dict) or entity.get("id") is None:
        return fail("the answer to a create is not the stored entity with its id", found=created.text[:200])
    stored[str(entity["id"])] = (payload, entity)
    read = ctx.get(ctx.item_path(name, str(entity["id"])))
    if read.status != 200:
        return fail(f"GET of the created record answered {read.status}", expected=200, found=read.status)
    try:
        body = read.json()
    except ValueError:
        return fail("the read-back is not JSON", found=read.text[:200])
    return next(iter(_differences(ctx, name, payload, body if isinstance(body, dict) else {})), None)


def _listed_and_synced(ctx: CheckContext, name: str,
                       stored: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> Iterator[Finding]:
    """Every accepted record is in the listing of `updated_since` its first create, with the fields sent."""
    stamps = [(instant(e.get("updated_at")), e.get("updated_at")) for _, e in stored.values()]
    usable = [(moment, text) for moment, text in stamps if moment is not None]
    if not usable:
        return
    since = min(usable)[1]
    listed: dict[str, dict[str, Any]] = {}
    for _, page in ctx.walk(name, limit=100, params={ctx.catalogue.page["updated_since_param"]: since}):
        listed.update({str(i.get("id")): i for i in page["items"] if isinstance(i, dict)})
    for record_id, (sent, _) in stored.items():
        if record_id not in listed:
            yield fail(f"the accepted {ctx.collection(name).entity} {record_id} is missing from the listing "
                       f"updated_since={since}", expected=record_id, location=f"{ctx.collection(name).path}")
            return
        difference = next(iter(_differences(ctx, name, sent, listed[record_id])), None)
        if difference is not None:
            yield fail(f"listed {record_id}: {difference.message}", expected=difference.expected,
                       found=difference.found, location=difference.location)
            return


@check("generated.rejected")
def generated_rejected(ctx: CheckContext, *, collections: list[str], skip_kinds: list[str] | None = None
                       ) -> Iterator[Finding]:
    """Mutants with one violation each are refused with 400/422 problem+json, never 5xx, never stored.

    ``skip_kinds`` leaves out mutation kinds whose rule another requirement states at a weaker level
    (an unknown member: CORE-VAL-009 is a SHOULD, S3), so this SHALL enforces no more than it says.
    """
    unknown = sorted(set(skip_kinds or ()) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown mutation kinds {unknown}; known: {', '.join(KINDS)}")
    for name in collections:
        if ctx.collection(name).writable:
            yield from _rejected(ctx, name, frozenset(skip_kinds or ()))


def _rejected(ctx: CheckContext, name: str, skip: frozenset[str]) -> Iterator[Finding]:
    coll, evidence = ctx.collection(name), Evidence(ctx)
    _, canary = ctx.create(name, ctx.fixture(f"{name}/valid/minimal"), purpose="a marker of the probe's start")
    sites = [site for site in mutation_sites(ctx.schemas, coll.create_schema) if site.kind not in skip]

    def refused(payload: dict[str, Any]) -> Finding | None:
        for site in sites:  # every violation once per generated base payload: full coverage at any budget
            evidence.begin()
            problem = _refusal_problem(ctx, name, site, ctx.post(coll.path, mutate(payload, site)))
            if problem is not None:
                evidence.failed()
                return problem
        return None

    bases = max(1, ctx.session.max_examples // max(1, len(sites)))
    found, _ = generation.probe(prepared_payloads(ctx, name, "negative", full=True), refused,
                     seed=seed_for(ctx, name), max_examples=bases)
    if found is not None:
        refused(found.value)  # once more, so the evidence holds exactly the minimal example's exchanges
    evidence.settle()
    if found is not None:
        yield counterexample_finding(ctx, f"a generated invalid {coll.entity}", found)
    else:
        yield from _nothing_stored(ctx, name, canary.get("updated_at"))
    cleanup(ctx, name, [str(canary["id"])])


def _refusal_problem(ctx: CheckContext, name: str, site: Site, exchange: Exchange) -> Finding | None:
    entity = ctx.collection(name).entity
    if 200 <= exchange.status < 300:
        note = ctx.discard(name, exchange)
        return fail(f"{site.label}: an invalid {entity} was accepted ({exchange.status}); {note}",
                    expected=list(_REJECTED), found=exchange.status, location=site.pointer)
    if exchange.status not in _REJECTED:
        return fail(f"{site.label}: an invalid {entity} answered {exchange.status}", expected=list(_REJECTED),
                    found=exchange.status, location=site.pointer)
    if exchange.content_type != _PROBLEM:
        return fail(f"{site.label}: the refusal is not a problem document", expected=_PROBLEM,
                    found=exchange.content_type, location="Content-Type")
    return None


def _nothing_stored(ctx: CheckContext, name: str, since: Any) -> Iterator[Finding]:
    """No refused mutant shows up in the listing afterwards (a platform may refuse and still keep it)."""
    if not isinstance(since, str):
        return
    kept = []
    for _, page in ctx.walk(name, limit=100, params={ctx.catalogue.page["updated_since_param"]: since}):
        kept += [i for i in page["items"] if marked(i, ctx.target.run_id, "negative")]
    if kept:
        ids = [str(item.get("id")) for item in kept]
        cleanup(ctx, name, ids)
        yield fail(f"{len(kept)} refused invalid {ctx.collection(name).entity} payloads were stored anyway "
                   "(they appear in the listing; the suite deleted them)", expected=[], found=kept[0])
