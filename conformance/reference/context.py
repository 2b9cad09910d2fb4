"""What every handler of the reference platform needs: its store, faults, secret and validators."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from ..catalogue import Catalogue, Collection
from .store import Store
from .validation import EntityValidator

__all__ = ["Platform", "community_field", "platform_of"]

TENANT_ENTITY = "community"


@dataclass(frozen=True)
class Platform:
    store: Store
    faults: frozenset[str]
    variants: frozenset[str]
    secret: str
    name: str
    declared_profiles: tuple[tuple[str, str], ...]
    catalogue: Catalogue
    validator: EntityValidator

    def is_tenant(self, collection: Collection) -> bool:
        return collection.entity == TENANT_ENTITY

    def community_of(self, collection: Collection, id: str, body: dict[str, object]) -> str | None:
        """The community a record belongs to: itself for a community, else its reference to one."""
        if self.is_tenant(collection):
            return id
        field = community_field(self.catalogue, collection)
        value = body.get(field) if field else None
        return value if isinstance(value, str) else None


def community_field(catalogue: Catalogue, collection: Collection) -> str | None:
    """The member of ``collection`` that references the tenant collection, if any."""
    for member, target in collection.references.items():
        if catalogue.collections[target].entity == TENANT_ENTITY:
            return member
    return None


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform
