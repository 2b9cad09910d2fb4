"""Running one property with hypothesis inside a check: seeded, budgeted, shrunk, never stored on disk.

The property returns a failure description or ``None``; a failure is raised as
:class:`PropertyFailed` so hypothesis shrinks it, and :func:`probe` hands back the minimal one.
Shrinking against a live target costs requests (hypothesis's own cap is 500 shrinks or 300 s), so
after ``shrink_budget`` real calls past the first failure every further example fails with the
smallest real failure found so far: hypothesis then winds down in a few cheap steps, and the value
reported is always one the target really failed on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky

__all__ = ["Counterexample", "PropertyFailed", "probe"]


class PropertyFailed(Exception):
    """Raised inside the property so hypothesis keeps shrinking; carries what failed and on what."""

    def __init__(self, value: Any, failure: Any) -> None:
        super().__init__(str(failure))
        self.value, self.failure = value, failure


@dataclass
class Counterexample:
    value: Any  # the minimal failing example
    failure: Any  # what the property returned for it
    examples: int  # how many examples were tried, shrinking included
    flaky: bool = False


def probe(strategy: st.SearchStrategy[Any], prop: Callable[[Any], Any], *, seed: int,
          max_examples: int, shrink_budget: int = 30) -> tuple[Counterexample | None, int]:
    """Run ``prop`` over ``max_examples`` draws; return the minimal counterexample (or None) and the count."""
    tried = 0
    first: list[PropertyFailed] = []
    seen: dict[str, Any] = {}  # failures by example, so the final replay of the minimal one costs nothing

    def verdict(value: Any) -> Any:
        nonlocal tried
        key = json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
        if key in seen:
            return seen[key]
        if latest and tried >= latest[0].examples + shrink_budget:
            raise latest[-1]  # budget spent: the last real failure is the smallest hypothesis found
        tried += 1
        failure = prop(value)
        if failure is not None:
            seen[key] = failure
        return failure

    latest: list[Any] = []  # [Counterexample of the first failure, PropertyFailed of the latest real one]

    @settings(max_examples=max_examples, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
              report_multiple_bugs=False, phases=(Phase.explicit, Phase.generate, Phase.shrink))
    @fixed_seed(seed)
    @given(strategy)
    def run(value: Any) -> None:
        failure = verdict(value)
        if failure is not None:
            error = PropertyFailed(value, failure)
            if not first:
                first.append(error)
                latest[:] = [Counterexample(value, failure, tried), error]
            latest[1] = error
            raise error

    try:
        run()  # under --concurrency from several threads at once: hypothesis is thread-safe since 6.136
    except PropertyFailed as minimal:
        return Counterexample(minimal.value, minimal.failure, tried), tried
    except Flaky:  # the target answered the same example differently: report the first failure seen
        if not first:
            raise
        return Counterexample(first[0].value, first[0].failure, tried, flaky=True), tried
    return None, tried
