"""The bundled reference platform as the default target: started on 127.0.0.1, stopped after the run.

The suite provisions it the way a vendor would for certification: two tenant communities, and a
token per role of :data:`conformance.credentials.ROLES`, plus attestations of its documents.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

from .attestations import Attestation, register_attestations
from .credentials import Credentials, Role, register_issued
from .fixtures import load_fixture

__all__ = ["Embedded", "embedded_reference"]

_EVERYTHING = ("registry:read", "registry:write", "pii", "sensitive", "audit:read")
_ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "admin": _EVERYTHING,
    "reader": ("registry:read",),
    "pii-reader": ("registry:read", "pii"),
    "auditor": ("audit:read",),
    "tenant-a": ("registry:read", "registry:write"),
    "tenant-b": ("registry:read", "registry:write"),
}


class Embedded(tuple[str, str]):
    """``(base_url, token)`` as before, with the run's :class:`Credentials` alongside."""

    credentials: Credentials

    def __new__(cls, base_url: str, token: str, credentials: Credentials) -> Embedded:
        made = super().__new__(cls, (base_url, token))
        made.credentials = credentials
        return made


def _tenants(platform: Any) -> dict[str, str]:
    """Two communities the tenant roles are bound to, stored directly as the platform's provisioning."""
    base = load_fixture("communities/valid/minimal")
    tenants = {}
    for role, suffix in (("tenant-a", "A"), ("tenant-b", "B")):
        community_id = f"com-tenant-{suffix.lower()}-{secrets.token_hex(4)}"
        platform.store.insert("communities", community_id, {**base, "name": f"{base['name']}({suffix})"},
                              community_id)
        tenants[role] = community_id
    return tenants


def _credentials(platform: Any, tenants: dict[str, str], expires_in: int = 3600) -> Credentials:
    """A token per role, issued the platform's way (JWTs, or opaque strings under that variant)."""
    roles = {
        name: Role(name, platform.issue_token(scopes=scopes, community=tenants.get(name, "*"), subject=f"sc-{name}",
                                              expires_in=expires_in),
                   frozenset(scopes), tenants.get(name))
        for name, scopes in _ROLE_SCOPES.items()
    }
    roles["expired"] = Role("expired", platform.issue_token(expires_in=-3600, subject="sc-expired"),
                            frozenset(_EVERYTHING))
    return Credentials(roles)


def _attestations() -> dict[str, Attestation]:
    from .reference.guarantee import DOCUMENTS, DOCUMENTS_PATH, document_digest

    return {
        requirement: Attestation(requirement, "Reference platform maintainers (demonstration only)",
                                 f"the {name} arrangement described in the document is in force",
                                 f"{DOCUMENTS_PATH}/{name}", document_digest(name))
        for name, (requirement, _) in DOCUMENTS.items()
    }


@contextlib.contextmanager
def embedded_reference(faults: Sequence[str] = (), *, variants: Sequence[str] = (), declared_profiles: Sequence[tuple[str, str]] | None = None,
                       wrap: Callable[[Any], Any] | None = None, apart: bool = False) -> Iterator[Embedded]:
    """Yield ``(base_url, token)`` of a fresh reference platform on a free loopback port (``.credentials`` too).

    ``wrap`` receives the platform's ASGI app and returns the app to serve (a mutant of
    :mod:`conformance.reference.mutants`, outside the platform's code). ``apart`` serves it from a process of
    its own (a run's door does: two cores, no interpreter shared with the suite's threads); by default from a
    thread of this process, where tests can look at what the platform did."""
    from .reference import create_app, running
    from .reference.faults import validate_faults
    from .reference.server import running_apart
    from .reference.variants import validate_variants

    validate_faults(faults)
    validate_variants(variants)
    secret = secrets.token_urlsafe(32)
    kwargs = {} if declared_profiles is None else {"declared_profiles": list(declared_profiles)}
    app = create_app(faults=tuple(faults), variants=tuple(variants), secret=secret, **kwargs)
    credentials = _credentials(app.state.platform, _tenants(app.state.platform))
    serving = running_apart if apart else running
    with serving(app if wrap is None else cast(Any, wrap(app))) as origin:
        base_url = origin + app.state.platform.prefix
        register_issued(base_url, credentials)
        register_attestations(base_url, _attestations())
        try:
            yield Embedded(base_url, credentials.token or "", credentials)
        finally:
            register_issued(base_url, None)
            register_attestations(base_url, None)
