"""Scale: sweep 100,000 residents through pagination, validating every item, with memory that stays flat."""

from __future__ import annotations

import gc
import random
import secrets
import tracemalloc
from typing import Any

from conformance.fixtures import load_fixture, resolve
from conformance.formats import make_identity_number
from conformance.profiles import CheckCall, Requirement
from conformance.reference import create_app, mint_token, running
from conformance.schemas import schema_store
from conformance.session import RunSession
from conformance.target import Target

from ._harness import record, stopwatch

_SWEEP = Requirement(id="BENCH-PAGE-001", level="SHALL", subsystem="infrastructure",
                     title={"zh": "分页", "en": "Sweep"}, statement={"zh": "分页", "en": "Sweep"}, source=("bench",),
                     checks=(CheckCall("paging.walk", {}),), capability=None, profile="bench", file="-", line=1)


def _fill(app: Any, count: int) -> None:
    store = app.state.platform.store
    community = "community-bench"
    store.insert("communities", community, resolve(load_fixture("communities/valid/minimal"), str), None)
    base = resolve(load_fixture("residents/valid/full"), lambda _: community)
    base.pop("building_id", None)
    rng = random.Random(3)
    for index in range(count):
        body = dict(base, identity={"type": "resident-identity-card", "number": make_identity_number(rng)})
        store.insert("residents", f"r-{index:06d}", body, community)


def main(count: int = 100_000, limit: int = 100) -> dict[str, Any]:
    secret = secrets.token_urlsafe(32)
    app = create_app(secret=secret)
    with stopwatch() as fill_time:
        _fill(app, count)
    figures: dict[str, Any] = {"records": count, "limit": limit, "fill_s": fill_time()}
    validator = schema_store().validator("entities/resident.json")
    with running(app) as base_url:
        target = Target(base_url, token=mint_token(secret), timeout=30)
        ctx = RunSession(target, seed=1).context(_SWEEP, _SWEEP.checks[0])
        gc.collect()
        tracemalloc.start()
        samples: dict[int, float] = {}
        seen = invalid = pages = 0
        with stopwatch() as sweep_time:
            for _, page in ctx.walk("residents", limit=limit, max_pages=count // limit + 10):
                pages += 1
                for item in page["items"]:
                    seen += 1
                    invalid += not validator.is_valid(item)
                if pages in (10, 100, 250, 500, 750, 1000):
                    samples[pages] = tracemalloc.get_traced_memory()[0] / 2**20
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        target.close()
    figures.update({
        "pages": pages, "items_seen": seen, "items_invalid": invalid, "sweep_s": sweep_time(),
        "items_per_s": seen / sweep_time(), "traced_peak_mib": peak / 2**20,
        **{f"traced_mib_at_page_{p}": m for p, m in samples.items()},
    })
    first, last = samples.get(10), samples.get(max(samples)) if samples else None
    if first is not None and last is not None:
        figures["growth_mib_page_10_to_last"] = last - first
    record("pagination", figures)
    return figures


if __name__ == "__main__":
    main()
