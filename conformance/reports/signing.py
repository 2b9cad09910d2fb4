"""Tamper-evident reports: Ed25519 signatures over the RFC 8785 canonical JSON of report.json."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import __version__
from ..errors import UsageError
from ..loading import json_text, read_text, write_file
from ..redaction import REDACTED
from ..schemas import schema_store
from .build import suite_digest
from .consistency import first_disagreement

__all__ = ["TRUST_ENV", "Trust", "check_signature", "generate_keys", "read_report", "serialise", "sign_report",
           "suite_problems", "trusted_keys", "verify_report"]

ALGORITHM, CANONICALIZATION = "Ed25519", "RFC 8785 (integral floats marked)"


def serialise(report: dict[str, Any]) -> str:
    """The one byte layout the suite writes a report in (so an edited space is also detected)."""
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def _canonical(report: dict[str, Any]) -> bytes:
    """RFC 8785 JSON of the report without its signature, with integral floats marked.

    RFC 8785 writes ``1.0`` as ``1``; marking a float that has no fraction keeps ``"seed": 1`` and
    ``"seed": 1.0`` apart, so what is signed is the exact parsed value.
    """
    try:
        return rfc8785.dumps(_exact({k: v for k, v in report.items() if k != "signature"}))
    except (rfc8785.CanonicalizationError, RecursionError) as exc:
        raise UsageError("the report holds a value RFC 8785 cannot write (an integer beyond 2**53, a number "
                         f"that is not finite, or nesting too deep: {type(exc).__name__}); the suite never "
                         "writes one, so the report was edited or made by something else") from None


def _exact(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return {"$float": repr(value)}
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


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
    write_file(private_path, private_pem, mode=0o600)
    write_file(public_path, key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    return key_id(_raw_public(key.public_key()))


def _load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(read_text(path, "private key").encode("ascii", "replace"),
                                                 password=None)
    except (ValueError, TypeError):
        raise UsageError(f"{path}: not an unencrypted PEM private key (make one with `report keygen`)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path}: expected an Ed25519 private key (make one with `report keygen`), found {type(key).__name__}")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    return _public_from_pem(read_text(path, "public key").encode("ascii", errors="replace"), path)


def _public_from_pem(pem: bytes, path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise UsageError(f"{path}: not a PEM public key (make one with `report keygen`)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{path}: expected an Ed25519 public key, found {type(key).__name__}")
    return key


def read_report(path: Path, *, validate: bool = True) -> tuple[bytes, dict[str, Any]]:
    """A report.json's bytes and value, read by the bounded loader; a broken file is one :class:`UsageError` line."""
    text = read_text(path, "report")
    data = json_text(text, path, "report")
    if not isinstance(data, dict) or "report_version" not in data:
        raise UsageError(f"{path}: expected a report.json (an object with report_version), found something else")
    problems = [key for key, kind in _SHAPE.items() if not isinstance(data.get(key), kind)]
    if problems:
        raise UsageError(f"{path}: not a well-formed report.json ({', '.join(problems)} missing or of the wrong type)")
    errors = schema_store().errors("suite/report.json", data) if validate else []
    if errors:
        where = "/".join(map(str, errors[0].absolute_path))
        raise UsageError(f"{path}: not a valid report.json: /{where} breaks the rule `{errors[0].validator}` of "
                         "schemas/suite/report.json")
    return text.encode("utf-8"), data


_SHAPE = {"profile": dict, "requirements": list, "summary": dict, "target": dict, "suite": dict}


def sign_report(path: Path, private_key: Path) -> dict[str, Any]:
    """Sign a report in place (written atomically); an existing signature is replaced."""
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
    write_file(path, serialise(report))
    return report["signature"]


def _evidence_problems(report: dict[str, Any]) -> Iterator[str]:
    """Each stored, untruncated, unredacted response body must still hash to its recorded digest."""
    for req in report.get("requirements", []):
        for check in req.get("checks", []) if isinstance(req, dict) else []:
            for index, exchange in enumerate(check.get("evidence", []) if isinstance(check, dict) else []):
                response = exchange.get("response") if isinstance(exchange, dict) else None
                if not isinstance(response, dict) or response.get("truncated") or not isinstance(
                        response.get("body"), str) or REDACTED in response["body"]:
                    continue
                digest = "sha256:" + hashlib.sha256(response["body"].encode("utf-8")).hexdigest()
                if digest != response.get("sha256"):
                    yield (f"{req.get('id')} check {check.get('name')} evidence #{index}: the response body does "
                           f"not match its digest {response.get('sha256')}")


def trusted_keys(*paths: str | Path | None, environment: bool = True) -> list[bytes]:
    """Raw Ed25519 public keys to trust: the files given (``--public-key``) and (with ``environment``) the trust
    file ``$SC_TRUSTED_KEYS``.

    The trust file holds one or more PEM public keys (or names a directory of ``*.pub`` files);
    ``$SC_TRUSTED_KEYS`` may list several, separated by ``os.pathsep``.
    """
    files: list[Path] = [Path(p) for p in paths if p]
    for entry in filter(None, os.environ.get(TRUST_ENV, "").split(os.pathsep) if environment else ()):
        location = Path(entry)
        files += sorted(location.glob("*.pub")) if location.is_dir() else [location]
    keys: list[bytes] = []
    for file in files:
        text = read_text(file, "public key")
        blocks = re.findall(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", text, re.DOTALL)
        if not blocks:
            raise UsageError(f"{file}: expected one or more PEM public keys (from `report keygen`)")
        keys += [_raw_public(_public_from_pem(block.encode("ascii"), file)) for block in blocks]
    return keys


TRUST_ENV = "SC_TRUSTED_KEYS"


@dataclass(frozen=True)
class Trust:
    """How far a report's signature can be trusted."""

    state: str  # "trusted", "unknown-key", "unsigned" or "invalid"
    key_id: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """What a reader is shown next to the report: only a trusted key earns the tick."""
        if self.state == "trusted":
            return f"signed ✔ (trusted key {self.key_id})"
        if self.state == "unknown-key":
            return f"signed by an unknown key {self.key_id} (not verified: trust it with --public-key or ${TRUST_ENV})"
        if self.state == "invalid":
            return "signature INVALID: " + "; ".join(self.problems)
        return "unsigned (not verified)"


def check_signature(raw: bytes, report: dict[str, Any], trusted: list[bytes]) -> Trust:
    """Check a parsed report against its own bytes and the trusted keys."""
    signature = report.get("signature")
    if signature is None:
        return Trust("unsigned")
    if not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM:
        return Trust("invalid", problems=(f"expected a signature object with algorithm {ALGORITHM}",))
    try:
        public = base64.b64decode(str(signature["public_key"]), validate=True)
        value = base64.b64decode(str(signature["value"]), validate=True)
        key = Ed25519PublicKey.from_public_bytes(public)
    except (KeyError, ValueError) as exc:
        return Trust("invalid", problems=(f"the signature block is malformed ({type(exc).__name__})",))
    problems: list[str] = []
    # The signature block is not itself signed: every member must be exactly what `report sign` writes.
    expected_block = {"algorithm": ALGORITHM, "canonicalization": CANONICALIZATION,
                      "public_key": signature.get("public_key"), "key_id": key_id(public),
                      "value": signature.get("value")}
    if signature != expected_block:
        edited = sorted(k for k in set(signature) | set(expected_block) if signature.get(k) != expected_block.get(k))
        problems.append(f"the signature block was edited ({', '.join(map(str, edited))} differ from what "
                        "`report sign` writes)")
    try:
        key.verify(value, _canonical(report))
    except InvalidSignature:
        problems.append("the signature does not match the content: the report was edited after it was signed")
    except UsageError as exc:
        problems.append(str(exc))
    if raw != serialise(report).encode("utf-8"):
        problems.append("the file's bytes differ from the layout `report sign` wrote (whitespace or "
                        "formatting was edited)")
    problems.extend(_evidence_problems(report))
    if problems:
        return Trust("invalid", key_id(public), tuple(problems))
    return Trust("trusted" if public in trusted else "unknown-key", key_id(public))


def verify_report(path: Path, trusted_key: Path | None = None) -> list[str]:
    """Every reason the report cannot be trusted; an empty list means a trusted key signed exactly these bytes
    and every derived value (verdicts, summary, score) follows from the report's checks.

    Without a trusted key (``trusted_key`` or ``$SC_TRUSTED_KEYS``) a valid signature proves only that
    someone signed it (anyone can re-sign an edited report with a key of their own), so it is a problem.
    """
    try:
        raw, report = read_report(path, validate=False)  # the signature's verdict first; the schema's after it
        keys = trusted_keys(trusted_key, environment=trusted_key is None)  # --public-key A: only A is trusted
    except UsageError as exc:  # an edited byte can break the JSON itself
        return [str(exc)]
    trust = check_signature(raw, report, keys)
    if trust.state == "unsigned":
        return [f"{path}: the report is not signed (expected a signature object with algorithm {ALGORITHM}; "
                "sign it with `sc-conformance report sign`)"]
    problems = list(trust.problems)
    if trust.state == "unknown-key":
        if keys:
            where = f"the trusted key {trusted_key}" if trusted_key else f"a key in ${TRUST_ENV}"
            problems.append(f"the report was signed by key {trust.key_id}, not by {where}")
        else:
            problems.append(f"signed by an unknown key {trust.key_id}: the signature holds, but anyone can sign; "
                            f"pass --public-key (or set ${TRUST_ENV}) to check who signed it")
    problems += suite_problems(report)
    try:
        read_report(path)
    except UsageError as exc:
        problems.append(str(exc))
    else:  # a valid signature says who signed, not that the verdicts follow from the checks
        disagreement = first_disagreement(report)
        if disagreement is not None:
            problems.append(f"the report contradicts itself (edited, then signed): {disagreement}")
    return problems


def suite_problems(report: dict[str, Any]) -> list[str]:
    """Whether the suite that made the report can be shown to be this version, unmodified: a report with another
    code digest was made by a modified copy; one without a digest, or of another version, cannot be checked here
    (a vendor could re-sign either with their own key), so it is not verified."""
    suite = report.get("suite")
    suite = suite if isinstance(suite, dict) else {}
    version, digest = suite.get("version"), suite.get("digest")
    if version != __version__:
        return [f"made by sc-conformance {str(version)[:40]!r}, not this installation's {__version__}: the suite that "
                f"made it cannot be checked here; verify it with sc-conformance {str(version)[:40]}"]
    if digest is None:
        return ["the report records no suite digest (suite.digest), so the suite that made it cannot be checked"]
    if digest != suite_digest():
        return [f"made by a modified copy of sc-conformance {__version__}: suite digest {digest}, "
                f"this installation's is {suite_digest()}"]
    return []
