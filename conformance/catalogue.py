"""The endpoint catalogue of the interface standard (``schemas/interface/catalogue.json``) as typed data."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError, did_you_mean
from .resources import schemas_dir

__all__ = ["Catalogue", "Collection", "catalogue"]


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


@dataclass(frozen=True)
class Catalogue:
    version: str
    discovery_path: str
    conformance_path: str
    public_paths: tuple[str, ...]
    page: dict[str, Any]
    scopes: dict[str, str]
    collections: dict[str, Collection]

    def collection(self, name: str) -> Collection:
        try:
            return self.collections[name]
        except KeyError:
            raise UsageError(
                f"unknown collection {name!r}{did_you_mean(name, self.collections)}"
            ) from None

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        raw = json.loads(path.read_text(encoding="utf-8"))
        collections = {
            c["name"]: Collection(**{**c, "pii_fields": tuple(c.get("pii_fields", ()))})
            for c in raw["collections"]
        }
        return cls(
            version=raw["version"],
            discovery_path=raw["discovery_path"],
            conformance_path=raw["conformance_path"],
            public_paths=tuple(raw["public_paths"]),
            page=raw["page"],
            scopes=raw["scopes"],
            collections=collections,
        )


@functools.cache
def catalogue() -> Catalogue:
    """The installed standard's catalogue, loaded once."""
    return Catalogue.load(schemas_dir() / "interface" / "catalogue.json")
