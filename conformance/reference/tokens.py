"""Bearer tokens of the reference platform: HS256 JWTs carrying scopes and a community, or (the
opaque-tokens variant) random strings whose claims the platform keeps in a book."""

from __future__ import annotations

import secrets
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
    book: dict[str, dict[str, Any]] | None = None,
) -> str:
    """Return a signed token; a negative ``expires_in`` gives an expired one. With a ``book`` the
    token is a random opaque string and its claims are written into the book instead."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "scope": " ".join(scopes),
        "community": community,
        "iat": now,
        "exp": now + expires_in,
    }
    if book is not None:
        token = "op_" + secrets.token_urlsafe(24)
        book[token] = claims
        return token
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(secret: str, token: str, *, check_expiry: bool = True,
                 book: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the token's claims, raising :class:`InvalidToken` when it cannot be trusted."""
    if book is not None:
        claims = book.get(token)
        if claims is None:
            raise InvalidToken("not a token this platform issued")
        if check_expiry and claims["exp"] <= time.time():
            raise InvalidToken("the token has expired")
        return dict(claims)
    known = _VERIFIED.get((secret, token))
    if known is not None:  # the signature was checked before; only the expiry can have changed since
        if check_expiry and known["exp"] <= time.time():
            raise InvalidToken("Signature has expired")
        return dict(known)
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"],
            options={"require": ["exp", "iat", "sub"], "verify_exp": check_expiry},
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(str(exc)) from exc
    if not isinstance(claims.get("scope", ""), str) or not isinstance(claims.get("community", "*"), str):
        raise InvalidToken("scope and community must be strings")
    if check_expiry and isinstance(claims.get("exp"), int | float):
        if len(_VERIFIED) >= 4096:
            _VERIFIED.clear()
        _VERIFIED[(secret, token)] = dict(claims)
    return claims


# Tokens whose signature verified, by (secret, token): every request is authenticated, and a write twice (the
# audit record names the actor), so the HMAC and JSON decoding were a tenth of the reference platform's time.
_VERIFIED: dict[tuple[str, str], dict[str, Any]] = {}


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    return frozenset(claims.get("scope", "").split())
