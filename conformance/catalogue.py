"""The endpoint catalogue of the interface standard (``schemas/interface/catalogue.json``) as typed data,
with the lifecycles (``schemas/interface/lifecycles.json``) its collections name."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import SchemaError, UsageError, did_you_mean
from .resources import schemas_dir

__all__ = ["Catalogue", "Collection", "Lifecycle", "Transition", "catalogue"]

TRANSITIONS_SUFFIX = "/transitions"


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Lifecycle:
    """A state machine: states, the initial and final ones, who may move a record from where to where."""

    name: str
    states: tuple[str, ...]
    initial: str
    final: tuple[str, ...]
    transitions: tuple[Transition, ...]
    field_gates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    status_field: str = "status"
    history_field: str = "status_history"

    def transition(self, source: str, target: str) -> Transition | None:
        return next((t for t in self.transitions if t.source == source and t.target == target), None)

    def paths(self) -> dict[str, list[Transition]]:
        """The shortest run of transitions from the initial state to each reachable state (breadth first)."""
        best: dict[str, list[Transition]] = {self.initial: []}
        frontier = [self.initial]
        while frontier:
            nxt = []
            for state in frontier:
                for t in self.transitions:
                    if t.source == state and t.target not in best:
                        best[t.target] = best[state] + [t]
                        nxt.append(t.target)
            frontier = nxt
        return best

    def path_to_final(self) -> list[Transition]:
        """The longest of the shortest runs of transitions from the initial state to each final state: the main path."""
        best = self.paths()
        reachable = [s for s in self.final if s in best]
        return max((best[s] for s in reachable), key=len, default=[])

    def forbidden_from(self, source: str) -> list[str]:
        """States the table gives no transition to from ``source`` (the state itself excluded)."""
        return [s for s in self.states if s != source and self.transition(source, s) is None]

    @classmethod
    def load(cls, name: str, raw: Mapping[str, Any], states: list[str]) -> Lifecycle:
        transitions = tuple(Transition(t["from"], t["to"], tuple(t["roles"])) for t in raw["transitions"])
        known = set(states)
        named = {s for t in transitions for s in (t.source, t.target)} | {raw["initial"], *raw["final"]}
        unknown = sorted(named - known)
        if unknown:
            raise SchemaError(f"lifecycle {name!r} names states its $defs/{name}-status enum lacks: {unknown}; "
                              "add them to the enum or fix the transition table")
        return cls(name=name, states=tuple(states), initial=raw["initial"], final=tuple(raw["final"]),
                   transitions=transitions,
                   field_gates={k: tuple(v) for k, v in raw.get("field_gates", {}).items()})


@dataclass(frozen=True)
class Collection:
    name: str
    path: str
    entity: str
    schema: str
    create_schema: str
    scopes: dict[str, str]
    writable: bool
    deletable: bool
    references: dict[str, str] = field(default_factory=dict)
    pii_fields: tuple[str, ...] = ()
    lifecycle: str | None = None  # name of the lifecycle in lifecycles.json; transitions at {path}/{id}/transitions
    capability: str | None = None  # optional capability a platform declares in discovery to offer the collection
    extra: Mapping[str, Any] = field(default_factory=dict)  # catalogue members this module does not type yet

    @property
    def transitions_path(self) -> str | None:
        return f"{self.path}/{{item_id}}{TRANSITIONS_SUFFIX}" if self.lifecycle else None

    @classmethod
    def load(cls, raw: Mapping[str, Any]) -> Collection:
        typed = {f.name for f in fields(cls)} - {"extra"}
        known = {k: v for k, v in raw.items() if k in typed}
        return cls(**{**known, "pii_fields": tuple(raw.get("pii_fields", ()))},
                   extra={k: v for k, v in raw.items() if k not in typed})


@dataclass(frozen=True)
class Catalogue:
    version: str
    discovery_path: str
    conformance_path: str
    public_paths: tuple[str, ...]
    page: dict[str, Any]
    scopes: dict[str, str]
    collections: dict[str, Collection]
    lifecycles: dict[str, Lifecycle] = field(default_factory=dict)

    def collection(self, name: str) -> Collection:
        try:
            return self.collections[name]
        except KeyError:
            raise UsageError(
                f"unknown collection {name!r}{did_you_mean(name, self.collections)}"
            ) from None

    def lifecycle_of(self, name: str) -> Lifecycle:
        """The lifecycle of a collection; a usage error when it has none."""
        collection = self.collection(name)
        if collection.lifecycle is None:
            with_one = [c.name for c in self.collections.values() if c.lifecycle]
            raise UsageError(f"collection {name!r} has no lifecycle; these do: {', '.join(with_one)}")
        return self.lifecycles[collection.lifecycle]

    @classmethod
    def load(cls, path: Path, lifecycles_path: Path | None = None) -> Catalogue:
        raw = json.loads(path.read_text(encoding="utf-8"))
        collections = {c["name"]: Collection.load(c) for c in raw["collections"]}
        lifecycles = _load_lifecycles(lifecycles_path or path.with_name("lifecycles.json"))
        for c in collections.values():
            if c.lifecycle is not None and c.lifecycle not in lifecycles:
                raise SchemaError(f"collection {c.name!r} names lifecycle {c.lifecycle!r}"
                                  f"{did_you_mean(c.lifecycle, lifecycles)}; known: {', '.join(lifecycles)}")
        return cls(
            version=raw["version"],
            discovery_path=raw["discovery_path"],
            conformance_path=raw["conformance_path"],
            public_paths=tuple(raw["public_paths"]),
            page=raw["page"],
            scopes=raw["scopes"],
            collections=collections,
            lifecycles=lifecycles,
        )


def _load_lifecycles(path: Path) -> dict[str, Lifecycle]:
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    defs = raw.get("$defs", {})
    result = {}
    for name, body in raw.get("x-lifecycles", {}).items():
        states = defs.get(f"{name}-status", {}).get("enum")
        if not isinstance(states, list):
            raise SchemaError(f"lifecycle {name!r} needs its states as $defs/{name}-status enum in {path.name}")
        result[name] = Lifecycle.load(name, body, states)
    return result


@functools.cache
def catalogue() -> Catalogue:
    """The installed standard's catalogue, loaded once."""
    return Catalogue.load(schemas_dir() / "interface" / "catalogue.json")
