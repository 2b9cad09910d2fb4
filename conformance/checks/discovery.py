"""Discovery document and conformance declaration (OGC API style)."""

from __future__ import annotations

from collections.abc import Iterator

from ..results import Finding, fail
from ..session import CheckContext
from . import check
from ._expect import require_json, require_status, schema_findings

DISCOVERY_SCHEMA = "interface/discovery.json"
CONFORMANCE_SCHEMA = "interface/conformance.json"


def _served_and_valid(ctx: CheckContext, path: str, schema: str, what: str) -> Iterator[Finding]:
    exchange = ctx.get(path)
    require_status(exchange, 200, why=f"{what} must be served")
    yield from schema_findings(ctx, schema, require_json(exchange), what=what)


@check("discovery.document")
def discovery_document(ctx: CheckContext) -> Iterator[Finding]:
    """GET the discovery document: 200, JSON, valid against the discovery schema."""
    yield from _served_and_valid(ctx, ctx.catalogue.discovery_path, DISCOVERY_SCHEMA, "the discovery document")


@check("discovery.collections")
def discovery_collections(ctx: CheckContext, *, collections: list[str]) -> Iterator[Finding]:
    """Every named collection is listed with its entity, and its href answers a listing."""
    listed = ctx.discovery().get("collections")
    if not isinstance(listed, list):
        yield fail("the discovery document has no `collections` list")
        return
    by_name = {c.get("name"): c for c in listed if isinstance(c, dict)}
    for name in collections:
        expected = ctx.collection(name)
        entry = by_name.get(name)
        if entry is None:
            yield fail(f"collection {name!r} is not listed in the discovery document",
                       expected=name, found=sorted(str(n) for n in by_name))
            continue
        if entry.get("entity") != expected.entity:
            yield fail(f"collection {name!r} declares entity {entry.get('entity')!r}",
                       expected=expected.entity, found=entry.get("entity"))
        href = entry.get("href")
        if not isinstance(href, str):
            yield fail(f"collection {name!r} has no href")
            continue
        exchange = ctx.get(ctx.session.resolve_href(href), params={"limit": 1})
        if exchange.status != 200:
            yield fail(f"the href {href!r} of collection {name!r} answered {exchange.status}",
                       expected=200, found=exchange.status)


@check("discovery.public")
def discovery_public(ctx: CheckContext) -> Iterator[Finding]:
    """The discovery document and the conformance declaration answer without a token."""
    for path in (ctx.catalogue.discovery_path, ctx.catalogue.conformance_path):
        exchange = ctx.get(path, token=False)
        if exchange.status != 200:
            yield fail(f"GET {path} without a token answered {exchange.status}; it must be public",
                       expected=200, found=exchange.status)


@check("conformance.declaration")
def conformance_declaration(ctx: CheckContext) -> Iterator[Finding]:
    """GET the conformance declaration: 200, JSON, valid against its schema."""
    yield from _served_and_valid(ctx, ctx.catalogue.conformance_path, CONFORMANCE_SCHEMA, "the conformance declaration")


@check("conformance.declares_profile")
def conformance_declares_profile(ctx: CheckContext, *, profile: str) -> Iterator[Finding]:
    """The declaration lists the profile being certified, with a version."""
    exchange = ctx.get(ctx.catalogue.conformance_path)
    require_status(exchange, 200, precondition=True)
    document = require_json(exchange, precondition=True)
    declared = document.get("profiles") if isinstance(document, dict) else None
    ids = [p.get("id") for p in declared if isinstance(p, dict)] if isinstance(declared, list) else []
    if profile not in ids:
        yield fail(f"the conformance declaration does not claim profile {profile!r}",
                   expected=profile, found=ids)
