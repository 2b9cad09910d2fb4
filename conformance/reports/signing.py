"""Tamper-evident reports: Ed25519 signatures over the RFC 8785 canonical JSON of report.json."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import UsageError
from ..target import REDACTED

__all__ = ["generate_keys", "serialise", "sign_report", "verify_report"]

ALGORITHM, CANONICALIZATION = "Ed25519", "RFC 8785"


def serialise(report: dict[str, Any]) -> str:
    """The one byte layout the suite writes a report in (so an edited space is also detected)."""
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def _canonical(report: dict[str, Any]) -> bytes:
    return rfc8785.dumps({k: v for k, v in report.items() if k != "signature"})


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: bytes) -> str:
    return "sha256:" + hashlib.sha256(public).hexdigest()


def generate_keys(private_path: Path, public_path: Path) -> str:
    """Write a new Ed25519 key pair (PEM; the private key file readable by its owner only)."""
    if private_path.exists():
        raise UsageError(f"{private_path} exists; expected a new path so no key is overwritten "
                         "(remove it or choose another --out)")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.touch(mode=0o600)
    private_path.write_bytes(private_pem)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    return key_id(_raw_public(key.public_key()))


def _load_private(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path}: expected an Ed25519 private key (make one with `report keygen`), found {type(key).__name__}")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{path}: expected an Ed25519 public key, found {type(key).__name__}")
    return key


def read_report(path: Path) -> tuple[bytes, dict[str, Any]]:
    try:
        raw = path.read_bytes()
        report = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: expected a report.json, could not read it: {exc}") from None
    if not isinstance(report, dict) or "report_version" not in report:
        raise UsageError(f"{path}: expected a report.json (an object with report_version), found something else")
    return raw, report


def sign_report(path: Path, private_key: Path) -> dict[str, Any]:
    """Sign a report in place; an existing signature is replaced."""
    _, report = read_report(path)
    key = _load_private(private_key)
    public = _raw_public(key.public_key())
    report.pop("signature", None)
    report["signature"] = {
        "algorithm": ALGORITHM,
        "canonicalization": CANONICALIZATION,
        "public_key": _b64(public),
        "key_id": key_id(public),
        "value": _b64(key.sign(_canonical(report))),
    }
    path.write_text(serialise(report), encoding="utf-8")
    return report["signature"]


def _evidence_problems(report: dict[str, Any]) -> Iterator[str]:
    """Each stored, untruncated, unredacted response body must still hash to its recorded digest."""
    for req in report.get("requirements", []):
        for check in req.get("checks", []):
            for index, exchange in enumerate(check.get("evidence", [])):
                response = exchange.get("response")
                if not response or response.get("truncated") or REDACTED in response.get("body", ""):
                    continue
                digest = "sha256:" + hashlib.sha256(response["body"].encode("utf-8")).hexdigest()
                if digest != response.get("sha256"):
                    yield (f"{req['id']} check {check['name']} evidence #{index}: the response body does not "
                           f"match its digest {response.get('sha256')}")


def verify_report(path: Path, trusted_key: Path | None = None) -> list[str]:
    """Every reason the report cannot be trusted; an empty list means signature and digests hold."""
    try:
        raw, report = read_report(path)
    except UsageError as exc:  # an edited byte can break the JSON itself
        return [str(exc)]
    problems: list[str] = []
    signature = report.get("signature")
    if not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM:
        return [f"{path}: the report is not signed (expected a signature object with algorithm {ALGORITHM}; "
                "sign it with `sc-conformance report sign`)"]
    try:
        public = base64.b64decode(signature["public_key"], validate=True)
        value = base64.b64decode(signature["value"], validate=True)
        key = Ed25519PublicKey.from_public_bytes(public)
    except (KeyError, ValueError) as exc:
        return [f"{path}: the signature block is malformed ({exc})"]
    # The signature block is not itself signed: every member must be exactly what `report sign` writes.
    expected_block = {"algorithm": ALGORITHM, "canonicalization": CANONICALIZATION,
                      "public_key": signature.get("public_key"), "key_id": key_id(public),
                      "value": signature.get("value")}
    if signature != expected_block:
        edited = sorted(k for k in set(signature) | set(expected_block) if signature.get(k) != expected_block.get(k))
        problems.append(f"the signature block was edited ({', '.join(edited)} differ from what `report sign` writes)")
    if trusted_key is not None and _raw_public(load_public(trusted_key)) != public:
        problems.append(f"the report was signed by key {key_id(public)}, not by the trusted key {trusted_key}")
    try:
        key.verify(value, _canonical(report))
    except InvalidSignature:
        problems.append("the signature does not match the content: the report was edited after it was signed")
    if raw != serialise(report).encode("utf-8"):
        problems.append("the file's bytes differ from the layout `report sign` wrote (whitespace or "
                        "formatting was edited)")
    problems.extend(_evidence_problems(report))
    return problems
