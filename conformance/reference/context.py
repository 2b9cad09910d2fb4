"""What every handler of the reference platform needs: its store, faults, secret and validators."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from ..catalogue import Catalogue, Collection
from .store import Store
from .tokens import mint_token
from .validation import EntityValidator

__all__ = ["Platform", "community_field", "platform_of"]

TENANT_ENTITY = "community"
PATH_PREFIX = "/api"  # where the path-prefix variant serves everything
_PAGE_50 = {"max_limit": 50, "default_limit": 10}  # the max-page-50 variant


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
    opaque_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)  # the opaque-tokens variant's book
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(10001))  # numeric-string-ids

    @property
    def prefix(self) -> str:
        """The path every route is served under ("" unless the path-prefix variant)."""
        return PATH_PREFIX if "path-prefix" in self.variants else ""

    @property
    def page(self) -> dict[str, Any]:
        """The paging rules this platform declares: the catalogue's, or the max-page-50 variant's."""
        page = dict(self.catalogue.page)
        return {**page, **_PAGE_50} if "max-page-50" in self.variants else page

    @property
    def token_book(self) -> dict[str, dict[str, Any]] | None:
        """Where opaque tokens are looked up (None: tokens are JWTs signed with the secret)."""
        return self.opaque_tokens if "opaque-tokens" in self.variants else None

    def issue_token(self, **claims: Any) -> str:
        """A bearer token of this platform (see :func:`.tokens.mint_token` for the claims)."""
        return mint_token(self.secret, book=self.token_book, **claims)

    def next_number(self) -> str:
        return str(next(self._numbers))

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
