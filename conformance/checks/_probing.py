"""What the generated checks share: per-collection seeds, prepared payloads, tags, evidence and clean-up."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from ..generation import payloads
from ..results import Finding, fail
from ..session import CheckContext
from ..target import Exchange

if TYPE_CHECKING:
    from hypothesis import strategies as st

    from ..generation import Counterexample

__all__ = ["MARKER", "Evidence", "cleanup", "counterexample_finding", "marked", "prepared_payloads", "seed_for"]

MARKER = "sc_conformance"  # the member of `extensions` every generated record carries
_SHOWN = 600  # characters of the minimal payload quoted in the message (the evidence holds all of it)


def seed_for(ctx: CheckContext, *parts: object) -> int:
    """A seed fixed by the run's seed, the requirement, the check and ``parts``: same seed, same payloads."""
    text = ":".join(str(p) for p in (ctx.session.seed, ctx.requirement.id, ctx.call.check, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def parents(ctx: CheckContext, collection: str) -> dict[str, str]:
    """Ids of parent records for every reference member, created once per run."""
    references = ctx.collection(collection).references
    return {member: ctx.session.parent_id(target, ctx) for member, target in references.items()}


def prepared_payloads(ctx: CheckContext, collection: str, probe: str, *, full: bool = False
                      ) -> st.SearchStrategy[dict[str, Any]]:
    """Valid generated payloads whose references point at real records, tagged as the suite's."""
    refs = parents(ctx, collection)
    tag = {"run": ctx.target.run_id, "probe": probe}

    def prepare(payload: dict[str, Any]) -> dict[str, Any]:
        for member, record_id in refs.items():
            if member in payload:
                payload[member] = record_id
        extensions = payload.get("extensions")
        payload["extensions"] = {**(extensions if isinstance(extensions, dict) else {}), MARKER: tag}
        return payload

    return payloads(ctx.schemas, ctx.collection(collection).create_schema, full=full).map(prepare)


def marked(item: Any, run_id: str, probe: str) -> bool:
    extensions = item.get("extensions") if isinstance(item, dict) else None
    tag = extensions.get(MARKER) if isinstance(extensions, dict) else None
    return isinstance(tag, dict) and tag.get("run") == run_id and tag.get("probe") == probe


class Evidence:
    """Puts the minimal failing example's exchanges first in the check's evidence (with their curl lines)."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx, self.start = ctx, 0
        self.focus: list[Exchange] = []

    def begin(self) -> None:
        self.start = self.ctx.exchange_count

    def failed(self) -> None:
        # the exchanges since begin() are the newest ones the context kept
        sent = self.ctx.exchange_count - self.start
        kept, _ = self.ctx.evidence()
        self.focus = kept[-sent:] if sent else []

    def settle(self) -> None:
        chosen = {id(e) for e in self.focus}
        self.ctx.exchanges[:] = self.focus + [e for e in self.ctx.exchanges if id(e) not in chosen]


def counterexample_finding(ctx: CheckContext, what: str, found: Counterexample) -> Finding:
    """The shrunk failure: what broke, the minimal payload, and how to replay it."""
    inner: Finding = found.failure
    shown = json.dumps(found.value, ensure_ascii=False)
    shown = shown if len(shown) <= _SHOWN else shown[:_SHOWN] + "…"
    flaky = " (the target answered this example differently on replay)" if found.flaky else ""
    return fail(f"{what}: {inner.message}{flaky}. Minimal generated payload after {found.examples} examples: "
                f"{shown} (replay: --seed {ctx.session.seed}, or --sc-seed {ctx.session.seed} in pytest; "
                "the evidence holds the request and its curl line)",
                expected=inner.expected, found=inner.found, location=inner.location)


def cleanup(ctx: CheckContext, collection: str, ids: list[str]) -> None:
    """Delete what the probe created where the interface allows it; the rest is reported as created."""
    deletable = ctx.collection(collection).deletable and ctx.offers_delete()
    for record_id in ids:
        path = ctx.item_path(collection, record_id)
        with ctx.tidying():
            deleted = deletable and ctx.delete(path).status in (200, 204)
        if deleted:
            if path in ctx.session.created:
                ctx.session.created.remove(path)
        elif path not in ctx.session.created:
            ctx.session.created.append(path)
