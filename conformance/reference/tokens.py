"""Bearer tokens of the reference platform: HS256 JWTs carrying scopes and a community."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import jwt

__all__ = ["ALL_SCOPES", "InvalidToken", "mint_token", "scopes_of", "verify_token"]

ALL_SCOPES = ("registry:read", "registry:write", "pii", "sensitive", "audit:read")


class InvalidToken(ValueError):
    """The token is malformed, expired or not signed with the platform's secret."""


def mint_token(
    secret: str,
    *,
    scopes: Iterable[str] = ALL_SCOPES,
    community: str = "*",
    expires_in: int = 3600,
    subject: str = "conformance-suite",
) -> str:
    """Return a signed token; a negative ``expires_in`` gives an expired one."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "scope": " ".join(scopes),
        "community": community,
        "iat": now,
        "exp": now + expires_in,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(secret: str, token: str, *, check_expiry: bool = True) -> dict[str, Any]:
    """Return the token's claims, raising :class:`InvalidToken` when it cannot be trusted."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"],
            options={"require": ["exp", "iat", "sub"], "verify_exp": check_expiry},
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(str(exc)) from exc
    if not isinstance(claims.get("scope", ""), str) or not isinstance(claims.get("community", "*"), str):
        raise InvalidToken("scope and community must be strings")
    return claims


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    return frozenset(claims.get("scope", "").split())
