"""Generated payloads from the standard's own schemas: valid ones, one-violation mutants, and the probe runner.

We generate from our schemas rather than through hypothesis-jsonschema (drafts 4–7, broken on
hypothesis ≥ 6.170.10): we own the schemas and use a known subset of 2020-12 (see ``_strategies``).
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any

from ..schemas import SchemaStore
from ._mutations import KIND_KEYWORDS, KINDS, Site, kinds_of_error, mutate, sites
from ._tree import resolved_tree

if TYPE_CHECKING:
    from hypothesis import strategies as st

    from ._formats import FORMATS, REFS
    from ._probe import Counterexample, PropertyFailed, probe

# What needs hypothesis is imported on first use: the checks are all registered at start-up, and a run
# that selects no generated requirement (``-k CORE-DISC-001``) need not pay for importing hypothesis.
_LAZY = {"FORMATS": "._formats", "REFS": "._formats", "Counterexample": "._probe", "PropertyFailed": "._probe",
         "probe": "._probe"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Counterexample",
    "FORMATS",
    "KINDS",
    "KIND_KEYWORDS",
    "PropertyFailed",
    "REFS",
    "Site",
    "kinds_of_error",
    "mutate",
    "mutation_sites",
    "payloads",
    "probe",
    "resolved_tree",
]


@functools.cache
def _tree(store: SchemaStore, ref: str) -> dict[str, Any]:
    return resolved_tree(store, ref)


@functools.cache
def payloads(store: SchemaStore, ref: str, *, full: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """Valid instances of the schema at ``ref``; ``full`` includes every optional member."""
    from ._strategies import from_tree

    return from_tree(_tree(store, ref), full=full)


def mutation_sites(store: SchemaStore, ref: str) -> list[Site]:
    """Every one-violation mutation the schema at ``ref`` allows, in a stable order."""
    return list(sites(_tree(store, ref)))
