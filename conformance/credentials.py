"""Named roles a run uses (tokens with scopes and a tenant), loaded from a vendor's credentials file.

A credentials file (YAML or JSON) maps role names to ``{token, scopes, community}``. Tokens are
secrets: they are handed to the target for redaction and never written anywhere.
"""

from __future__ import annotations

import base64
import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError, did_you_mean
from .loading import data_file, line_of, schema_problems
from .redaction import register_secrets

__all__ = ["ROLES", "Credentials", "Role", "issued_for", "load_credentials", "register_issued",
           "tampered_signature", "unsigned_jwt"]

# The roles the guarantee profile asks for, with what each must be able to do.
ROLES: dict[str, str] = {
    "admin": "every scope (read, write, pii, sensitive, audit) and every community; the run's default token",
    "reader": "read scope only: no write, no pii, no sensitive, no audit",
    "pii-reader": "read and pii scopes, but not the sensitive-data scope",
    "auditor": "audit-read scope: reads audit records",
    "tenant-a": "read and write, bound to community A (its id in `community`)",
    "tenant-b": "read and write, bound to another community B",
    "expired": "an expired token that was once valid (optional; derived checks say so when it is missing)",
}


@dataclass(frozen=True)
class Role:
    name: str
    token: str = field(repr=False)
    scopes: frozenset[str] = frozenset()
    community: str | None = None

    @property
    def subject(self) -> str | None:
        """The token's `sub` claim when it is a JWT (read, not verified: the platform verifies), else None — the
        actor its audit records must name (audit-record schema: "the authenticated subject (token `sub`)")."""
        parts = self.token.split(".")
        claims = _segment(parts[1]) if len(parts) == 3 else None
        sub = claims.get("sub") if isinstance(claims, dict) else None
        return sub if isinstance(sub, str) and sub else None


@dataclass(frozen=True)
class Credentials:
    """The roles of one run; ``default`` is the role whose token every ordinary request carries."""

    roles: Mapping[str, Role]
    default: str = "admin"

    @classmethod
    def single(cls, token: str | None) -> Credentials:
        return cls({"admin": Role("admin", token)} if token else {})

    def get(self, name: str) -> Role | None:
        return self.roles.get(name)

    @property
    def token(self) -> str | None:
        role = self.roles.get(self.default)
        return role.token if role else None

    def secrets(self) -> list[str]:
        return [role.token for role in self.roles.values() if role.token]

    def missing(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if name not in self.roles]


# Messages for the schema's rules, by (field, validator): what to write instead, without quoting a value.
_MESSAGES = {
    ("token", "*"): "needs a non-empty string `token` of visible characters (no spaces, CR or LF)",
    ("scopes", "*"): "`scopes` must be a list of strings or a space-separated string",
    ("community", "*"): "`community` must be a community id (a string)",
    ("roles", "*"): "expected a mapping `roles: {name: {token, scopes, community}}`; roles the guarantee "
                    "profile uses: " + ", ".join(ROLES),
    ("(top level)", "*"): "expected a mapping `roles: {name: {token, scopes, community}}`",
}


def load_credentials(path: str | Path) -> Credentials:
    """Read a credentials file (schemas/suite/credentials.json); a problem names file, line and field, never a token."""
    file = Path(path)
    raw, lines = data_file(file, "credentials")
    if not isinstance(raw, dict) or "roles" not in raw:  # not a credentials file: quote nothing of it
        raise UsageError(f"{file}: not a credentials file: expected a mapping `roles: {{name: {{token, scopes, "
                         f"community}}}}` (schemas/suite/credentials.json); roles the guarantee profile uses: "
                         f"{', '.join(ROLES)}")
    roles = raw.get("roles")
    if isinstance(roles, dict):  # register what looks like a token before any message could be built
        register_secrets(spec.get("token") for spec in roles.values()
                         if isinstance(spec, dict) and isinstance(spec.get("token"), str))
    problems = schema_problems(raw, "credentials.json", str(file), lines, _MESSAGES)
    for name in roles if isinstance(roles, dict) else ():
        close = did_you_mean(str(name), [r for r in ROLES if r != name])
        if name not in ROLES and close and difflib.SequenceMatcher(None, str(name), close[17:-3]).ratio() >= 0.8:
            problems.append(f"{file}:{line_of(lines, ('roles', str(name)))}: roles.{name}: unknown role{close}")
    if problems:
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise UsageError("; ".join(problems[:3]) + more)  # one line: every message names file, line and field
    parsed = {str(name): _role(str(name), spec) for name, spec in roles.items()}
    default = raw.get("default", "admin")
    if default not in parsed:
        raise UsageError(f"{file}: the default role {default!r} is not defined{did_you_mean(str(default), parsed)}")
    return Credentials(parsed, default)


def _role(name: str, spec: dict[str, Any]) -> Role:
    scopes = spec.get("scopes", [])
    if isinstance(scopes, str):
        scopes = scopes.split()
    return Role(name, spec["token"].strip(), frozenset(scopes), spec.get("community"))


def tampered_signature(token: str) -> str:
    """The same token with its signature altered: a JWT keeps header and claims, anything else gets a new tail."""
    parts = token.split(".")
    if len(parts) == 3 and parts[2]:
        signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        flipped = bytes(b ^ 0xFF for b in signature) or b"\x00"
        return ".".join([parts[0], parts[1], base64.urlsafe_b64encode(flipped).rstrip(b"=").decode()])
    return token[: max(len(token) - 4, 1)] + "AAAA"


def _segment(part: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:
        return None


def unsigned_jwt(token: str) -> str | None:
    """The same claims with ``alg: none`` and no signature (RFC 8725 §2.1: a platform must never take it) when
    ``token`` is a JWT, else None (an opaque token has no claims to keep)."""
    parts = token.split(".")
    if len(parts) != 3 or not isinstance(_segment(parts[0]), dict) or not isinstance(_segment(parts[1]), dict):
        return None
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    return f"{header}.{parts[1]}."


# Credentials the suite issued itself for a platform it started (the bundled reference platform),
# looked up by base URL when a run is given no credentials file.
_ISSUED: dict[str, Credentials] = {}


def register_issued(base_url: str, credentials: Credentials | None) -> None:
    if credentials is None:
        _ISSUED.pop(base_url.rstrip("/"), None)
    else:
        _ISSUED[base_url.rstrip("/")] = credentials


def issued_for(base_url: str) -> Credentials | None:
    return _ISSUED.get(base_url.rstrip("/"))
