"""The registry's clients: the operator's certify/recertify/revoke and the buyer's verify, over its HTTP API."""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import RegistryError
from .signing import load_public_key, signature_problem

__all__ = ["certify", "recertify", "revoke", "safe", "verify"]

EXIT_VALID, EXIT_NOT_VALID = 0, 1


def safe(text: object, limit: int = 300) -> str:
    """A string from the network fit for one terminal line: control characters escaped, length bounded."""
    value = str(text)[:limit]
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in value)


def _operator_token() -> str:
    token = os.environ.get("SC_REGISTRY_TOKEN")
    if not token:
        raise RegistryError("set SC_REGISTRY_TOKEN to the operator token `registry serve` printed")
    return token


def _call(method: str, url: str, *, token: str | None = None, body: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.request(method, url, json=body, headers=headers, timeout=30.0)
    except httpx.HTTPError as exc:
        raise RegistryError(f"cannot reach the registry at {safe(url)}: {safe(exc)}") from None
    if response.status_code >= 400:
        try:
            detail = response.json().get("title", "")
        except (ValueError, AttributeError):
            detail = ""
        raise RegistryError(f"the registry answered {response.status_code} to {method} {safe(url)}: {safe(detail)}")
    try:
        return response.json()
    except ValueError:
        raise RegistryError(f"the registry's answer to {method} {safe(url)} is not JSON") from None


def _wait(registry: str, run_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = _call("GET", f"{registry}/api/runs/{run_id}")
        if run.get("state") in ("finished", "failed"):
            return dict(run)
        if time.monotonic() > deadline:
            raise RegistryError(f"run {safe(run_id)} still {safe(run.get('state'))} after {timeout:g} s")
        time.sleep(0.5)


def _outcome(run: dict[str, Any]) -> int:
    certificate = run.get("certificate")
    if isinstance(certificate, dict):
        print(f"certificate {safe(certificate.get('id'))} {safe(certificate.get('status'))}")
        return EXIT_VALID if certificate.get("status") == "valid" else EXIT_NOT_VALID
    what = f"verdict {run.get('verdict')}" if run.get("verdict") else f"failed: {run.get('error')}"
    print(f"no certificate: run {safe(run.get('id'))} of platform {safe(run.get('platform'))} {safe(what)}")
    return EXIT_NOT_VALID


def certify(args: argparse.Namespace) -> int:
    token = os.environ.get("SC_TOKEN")
    if not token:
        raise RegistryError("set SC_TOKEN to the platform's bearer token (never on the command line)")
    credentials_path = args.credentials or os.environ.get("SC_CREDENTIALS")
    credentials = Path(credentials_path).read_text(encoding="utf-8") if credentials_path else None
    registry = args.registry.rstrip("/")
    queued = _call("POST", f"{registry}/api/certifications", token=_operator_token(),
                   body={"name": args.name, "vendor": args.vendor, "base_url": args.base_url, "profile": args.profile,
                         "token": token, "credentials": credentials})
    if not args.wait:
        print(f"run {safe(queued.get('run'))} queued for platform {safe(queued.get('platform'))}")
        return 0
    return _outcome(_wait(registry, str(queued.get("run")), args.timeout))


def recertify(args: argparse.Namespace) -> int:
    registry = args.registry.rstrip("/")
    queued = _call("POST", f"{registry}/api/certificates/{args.certificate}/recertify", token=_operator_token())
    if not args.wait:
        print(f"run {safe(queued.get('run'))} queued")
        return 0
    return _outcome(_wait(registry, str(queued.get("run")), args.timeout))


def revoke(args: argparse.Namespace) -> int:
    answer = _call("POST", f"{args.registry.rstrip('/')}/api/certificates/{args.certificate}/revoke",
                   token=_operator_token(), body={"reason": args.reason})
    print(f"certificate {safe(answer.get('id'))} {safe(answer.get('status'))}")
    return 0


def _verify_problem(certificate_id: str, registry_url: str, key: Ed25519PublicKey) -> str | None:
    registry = registry_url.rstrip("/")
    document = _call("GET", f"{registry}/registry.json")
    if problem := signature_problem(document, key):
        return f"the registry document is not trustworthy: {problem}"
    try:
        if date.fromisoformat(str(document.get("nextUpdate"))) < datetime.now(UTC).date():
            return f"the registry document is stale: its nextUpdate {safe(document.get('nextUpdate'))} has passed"
    except ValueError:
        return "the registry document has no valid nextUpdate date"
    entries = document.get("entries") if isinstance(document.get("entries"), list) else []
    entry = next((e for e in entries if isinstance(e, dict) and e.get("certificateId") == certificate_id), None)
    if entry is None:
        return f"certificate {safe(certificate_id)} is not listed in the registry (no {safe(document.get('no'))})"
    certificate = entry.get("certificate")
    if problem := signature_problem(certificate, key):
        return f"certificate {safe(certificate_id)} is not the body's: {problem}"
    if not isinstance(certificate, dict) or certificate.get("certificate_id") != certificate_id:
        return f"the signed certificate listed under {safe(certificate_id)} names another id"
    published = _call("GET", f"{registry}/api/certificates/{certificate_id}").get("certificate")
    if published != certificate:
        return f"certificate {safe(certificate_id)} as published differs from the one the signed registry lists"
    status = entry.get("status")
    if status != "valid":
        reports = entry.get("statusReports") or [{}]
        reason = reports[-1].get("reason", "") if isinstance(reports[-1], dict) else ""
        return f"certificate {safe(certificate_id)} is {safe(status)}: {safe(reason)}"
    try:
        until = datetime.fromisoformat(str(certificate.get("valid_until")).replace("Z", "+00:00"))
    except ValueError:
        return f"certificate {safe(certificate_id)} has no valid `valid_until`"
    if until <= datetime.now(UTC):
        return f"certificate {safe(certificate_id)} expired at {safe(certificate.get('valid_until'))}"
    return None


def verify(args: argparse.Namespace) -> int:
    key = load_public_key(Path(args.public_key))  # a missing or wrong key file is a usage error (exit 2)
    try:
        problem = _verify_problem(args.certificate, args.registry, key)
    except RegistryError as exc:  # the registry cannot be read: nothing is verified
        problem = str(exc)
    if problem:
        print(problem)
        return EXIT_NOT_VALID
    print(f"certificate {safe(args.certificate)} valid: signed by the body's key, listed in the signed registry")
    return EXIT_VALID
