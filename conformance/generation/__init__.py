"""Generated payloads from the standard's own schemas: valid ones, one-violation mutants, and the probe runner.

We generate from our schemas rather than through hypothesis-jsonschema (drafts 4–7, broken on
hypothesis ≥ 6.170.10): we own the schemas and use a known subset of 2020-12 (see ``_strategies``).
"""

from __future__ import annotations

import functools
from typing import Any

from hypothesis import strategies as st

from ..schemas import SchemaStore
from ._formats import FORMATS, REFS
from ._mutations import KIND_KEYWORDS, KINDS, Site, kinds_of_error, mutate, sites
from ._probe import Counterexample, PropertyFailed, probe
from ._strategies import from_tree
from ._tree import resolved_tree

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
    return from_tree(_tree(store, ref), full=full)


def mutation_sites(store: SchemaStore, ref: str) -> list[Site]:
    """Every one-violation mutation the schema at ``ref`` allows, in a stable order."""
    return list(sites(_tree(store, ref)))
