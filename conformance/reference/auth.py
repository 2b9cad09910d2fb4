"""Bearer authentication, scopes and community isolation (RFC 6750)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request

from ..catalogue import TRANSITIONS_SUFFIX, Collection
from .context import platform_of
from .problems import ProblemError
from .tokens import ALL_SCOPES, InvalidToken, scopes_of, verify_token

__all__ = ["Access", "authenticate", "authorise"]

REALM = 'Bearer realm="smart-community"'
_FULL_ACCESS: dict[str, Any] = {"sub": "anonymous", "scope": " ".join(ALL_SCOPES), "community": "*"}


@dataclass(frozen=True)
class Access:
    """What one request may do: its scopes and the community it is bound to (None: every one)."""

    scopes: frozenset[str]
    community: str | None

    def can_see(self, community: str | None) -> bool:
        return self.community is None or community == self.community

    @property
    def sees_pii(self) -> bool:
        return "pii" in self.scopes

    @property
    def sees_sensitive(self) -> bool:
        return "sensitive" in self.scopes


def _challenge(platform: Any, bearer: str) -> str:
    """The 401 challenge; the basic-and-bearer variant offers Basic beside it (RFC 9110 §11.6.1 allows several)."""
    return f'Basic realm="legacy", {bearer}' if "basic-and-bearer" in platform.variants else bearer


def authenticate(request: Request) -> Access:
    """The request's access, or a 401 problem when it has no valid bearer token."""
    platform = platform_of(request)
    header = request.headers.get("authorization")
    if header is None and "auth-optional" in platform.faults:
        claims = _FULL_ACCESS
    else:
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer":
            on_item = "item_id" in request.path_params and "challenge-missing-on-items" in platform.faults
            raise ProblemError(401, "unauthenticated", "send a bearer token in the Authorization header",
                               headers={} if on_item else {"WWW-Authenticate": _challenge(platform, REALM)})
        lax = "accepts-expired-token" in platform.faults or (
            "expired-token-accepted-on-writes" in platform.faults and request.method not in ("GET", "HEAD"))
        try:
            claims = verify_token(platform.secret, token.strip(), book=platform.token_book, check_expiry=not lax)
        except InvalidToken as exc:
            raise ProblemError(401, "unauthenticated", f"the bearer token is not valid: {exc}",
                               headers={"WWW-Authenticate": _challenge(platform, f'{REALM}, error="invalid_token"')}) from None
    community = claims.get("community", "*")
    return Access(scopes_of(claims), None if community == "*" else community)


def authorise(request: Request, collection: Collection, action: Literal["read", "write"]) -> Access:
    """Authenticate, then require the collection's scope for ``action`` (403 without it)."""
    access = authenticate(request)
    faults = platform_of(request).faults
    transition = request.url.path.endswith(TRANSITIONS_SUFFIX)
    if transition and "tenant-transition-leak" in faults:
        access = Access(access.scopes, None)
    scope = collection.scopes[action]
    waived = _fault_waives(faults, collection, action) or (transition and "scope-not-enforced-on-transitions" in faults)
    if scope not in access.scopes and not waived:
        raise ProblemError(403, "forbidden", f"the token lacks the scope {scope!r} needed to {action} {collection.name}",
                           headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'})
    return access


def _fault_waives(faults: frozenset[str], collection: Collection, action: str) -> bool:
    """The scope faults: writes without the write scope, or the audit trail without the audit scope."""
    if action == "write" and "scope-not-enforced" in faults:
        return True
    return collection.scopes["read"] == "audit:read" and "audit-readable-by-all" in faults
