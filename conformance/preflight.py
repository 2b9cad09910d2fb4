"""Preflight of a run's inputs, before any requirement runs: a configuration mistake is not a certificate.

The base URL must answer HTTP at all, and every supplied token (the run's and each role of the
credentials file) must be accepted and hold what its role needs: a read its scopes allow answers
neither 401 nor 403. Only what can be decided safely is decided here; everything else is left to
the requirements. Tokens stay opaque (never decoded). A problem is one :class:`PreflightError` line.
"""

from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from .catalogue import Catalogue, Collection
from .credentials import Credentials, Role
from .errors import UsageError
from .target import Exchange, Target, TargetError

__all__ = ["PreflightError", "TargetBinding", "preflight", "reachability_reason", "tls_fingerprint"]

UNCHECKED_ROLES = frozenset({"expired"})  # refused on purpose: that is what the role is for
_REFUSED = (401, 403)
_NO_DOCUMENT = (404, 410)  # nothing at the discovery path: the base URL is not the platform's

# The transport's words for the usual reasons a base URL cannot be reached, as a person says them.
_REASONS: tuple[tuple[str, str | None], ...] = (
    (r"connection refused", "connection refused"),
    (r"name or service not known|nodename nor servname|temporary failure in name resolution|getaddrinfo failed",
     "unknown host"),
    (r"certificate_verify_failed|certificate verify failed",
     "its TLS certificate is not trusted (pass --ca-bundle FILE with the CA that signed it)"),
    (r"wrong version number|ssl", "TLS handshake failed (is the scheme right, http or https?)"),
    (r"no route to host", "no route to host"),
    (r"network is unreachable", "network is unreachable"),
    (r"connection reset", "connection reset by the server"),
    (r"no answer within [0-9.]+ s", None),  # keep the transport's own words: they name the timeout
)


# Target errors that do not say the platform is unreachable (see Target): it answered and then sent a body
# it should not have, or the run's own --deadline had passed before the request was sent.
_NOT_UNREACHABLE = re.compile(r"body still arriving|reading the body failed|the body cannot be decoded|"
                              r"the run's deadline has passed|Retry-After|retry budget")  # an HTTP answer: rate limits are reported


class PreflightError(UsageError):
    """The run cannot start: the base URL does not answer, or a token is refused (one line, no report)."""


@dataclass(frozen=True)
class TargetBinding:
    """What binds a report to the platform the preflight reached: the identity it declares in its discovery
    document (``platform``: name, vendor, version, and the standard version it implements) and, on https, the
    SHA-256 of its leaf certificate (DER). Each is ``None`` when the platform did not give it."""

    platform: dict[str, str] | None = None
    tls_fingerprint: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The report's ``target`` members (absent when unknown: a plain-http run has no certificate)."""
        record: dict[str, Any] = {}
        if self.platform is not None:
            record["platform"] = dict(self.platform)
        if self.tls_fingerprint is not None:
            record["tls_fingerprint"] = self.tls_fingerprint
        return record


_IDENTITY = ("name", "vendor", "version")  # schemas/interface/discovery.json#/properties/platform
_IDENTITY_LIMIT = 200  # common.json's name: at most 200 code points


def _identity(discovery: dict | None) -> dict[str, str] | None:
    """The platform's identity as its discovery document declares it (strings only, bounded)."""
    declared = discovery.get("platform") if discovery else None
    if not isinstance(declared, dict):
        return None
    identity = {key: declared[key][:_IDENTITY_LIMIT] for key in _IDENTITY if isinstance(declared.get(key), str)}
    standard = discovery.get("standard_version") if discovery else None
    if isinstance(standard, str):
        identity["standard_version"] = standard[:_IDENTITY_LIMIT]
    return identity or None


def tls_fingerprint(target: Target) -> str | None:
    """``sha256:<hex>`` of the leaf certificate the https base URL presents, checked as the run's requests check
    it (the same CA bundle, or none with --insecure); ``None`` for plain http or when no handshake completes (the
    preflight's request already said whether the platform answers).

    Its own handshake, made right after the preflight's request: the run's transport pools its connections and
    keeps no certificate, so a fresh connection to the same host and port is where the certificate is read.
    """
    parts = urlsplit(target.base_url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    context = httpx.create_ssl_context(verify=target.verify, trust_env=False)
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=target.timeout) as raw, \
                context.wrap_socket(raw, server_hostname=parts.hostname) as tls:
            certificate = tls.getpeercert(binary_form=True)
    except (OSError, ValueError):
        return None
    return "sha256:" + hashlib.sha256(certificate).hexdigest() if certificate else None


def reachability_reason(error: TargetError) -> str:
    """Why a request never got an HTTP answer, in a few words (``connection refused``, ``unknown host``…)."""
    text = str(error)
    for pattern, reason in _REASONS:
        match = re.search(pattern, text, flags=re.IGNORECASE)
        if match:
            return reason or match.group(0)
    return text.split(": ", 1)[-1]  # without the "METHOD path: " prefix


def preflight(target: Target, credentials: Credentials | None, standard: Catalogue, *,
              run_token: str | None = None) -> TargetBinding:
    """Raise :class:`PreflightError` when the run cannot give a meaningful verdict; otherwise what binds the
    run's reports to the platform reached (its declared identity, its certificate)."""
    discovery = _reach(target, standard)
    binding = TargetBinding(_identity(discovery), tls_fingerprint(target))
    paths = _collection_urls(target, standard, discovery)
    checked: set[str] = set()
    roles = [r for r in (credentials.roles.values() if credentials else ()) if r.name not in UNCHECKED_ROLES]
    if not run_token and not any(role.token for role in roles):
        raise PreflightError("no token to certify with: set SC_TOKEN (or --token) to a bearer token of the "
                             "platform, or pass --credentials FILE; without one every requirement would only "
                             "meet 401")
    if run_token and all(r.token != run_token for r in roles):
        roles.insert(0, Role("", run_token))  # the run's own token, given apart from any credentials file
    for role in roles:
        if role.token in checked:
            continue
        checked.add(role.token)
        for collection in _reads_for(role, standard):
            exchange = _read(target, paths.get(collection.name, collection.path), role.token)
            if exchange is not None and exchange.status in _REFUSED:
                raise PreflightError(_refusal(role, collection, exchange))
    return binding


def _reach(target: Target, standard: Catalogue) -> dict | None:
    """The discovery document (or None when it is not a JSON object); any HTTP answer proves reachability."""
    try:
        exchange = target.request("GET", standard.discovery_path, token=False)
    except TargetError as exc:
        if _NOT_UNREACHABLE.search(str(exc)):
            return None  # not a configuration mistake: the requirements judge (or report) it
        raise PreflightError(f"cannot reach {target.base_url}: {reachability_reason(exc)}") from None
    if exchange.status in _NO_DOCUMENT:  # the base URL misses its path prefix, or has one too many
        raise PreflightError(f"no discovery document at {target.url(standard.discovery_path)} (it answered "
                             f"{exchange.status}): check the base URL, its path prefix included; the discovery "
                             f"document is at <base URL>{standard.discovery_path}")
    try:
        document = exchange.json() if exchange.status == 200 else None
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _collection_urls(target: Target, standard: Catalogue, discovery: dict | None) -> dict[str, str]:
    """Collection URLs as discovery gives them (hrefs resolved against the discovery URL, S4), by name."""
    listed = discovery.get("collections") if discovery else None
    if not isinstance(listed, list):
        return {}
    base = target.url(standard.discovery_path)
    return {entry["name"]: urljoin(base, entry["href"]) for entry in listed
            if isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("href"), str)}


def _reads_for(role: Role, standard: Catalogue) -> Iterator[Collection]:
    """One collection per read scope the role holds; without declared scopes, a registry read (what every
    run needs); with scopes but no read scope, one read to prove the token is accepted at all."""
    plain = [c for c in standard.collections.values() if not c.capability]
    by_scope: dict[str, Collection] = {}
    for collection in plain:
        by_scope.setdefault(collection.scopes["read"], collection)
    if not role.scopes:
        yield by_scope.get("registry:read", plain[0])
        return
    held = [scope for scope in by_scope if scope in role.scopes]
    if held:
        yield from (by_scope[scope] for scope in held)
    else:
        yield plain[0]


def _read(target: Target, url: str, token: str) -> Exchange | None:
    try:
        return target.request("GET", url, params={"limit": 1}, token=token)
    except TargetError:
        return None  # trouble past reachability is the requirements' to judge, not a configuration mistake


def _refusal(role: Role, collection: Collection, exchange: Exchange) -> str:
    who = f"the token of role {role.name!r}" if role.name else "the run's token (--token / SC_TOKEN)"
    answer = f"GET {collection.path} answered {exchange.status}{_problem_text(exchange)}"
    scope = collection.scopes["read"]
    if exchange.status == 401:
        return f"{who} was not accepted: {answer}; check that it is current and issued by this platform"
    if role.name and scope in role.scopes:
        return (f"{who} does not hold what the role needs: {answer}, though the credentials file gives the role "
                f"the scope {scope!r}; issue a token with that scope")
    return f"{who} cannot read what every run reads: {answer}; issue a token with the scope {scope!r}"


def _problem_text(exchange: Exchange) -> str:
    try:
        problem = exchange.json()
    except ValueError:
        return ""
    if not isinstance(problem, dict):
        return ""
    words = [str(problem[k]) for k in ("code", "detail") if isinstance(problem.get(k), str | int)]
    text = " ".join(": ".join(words).split())  # one line, whatever the platform sent
    return f" ({text[:200]})" if text else ""
