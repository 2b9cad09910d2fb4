"""Attestations for requirements no API can show: who attests what, with a document and its digest.

An attestation file (YAML or JSON) lists ``{requirement, attested_by, statement, document:
{reference, sha256}}``; the reference is a local file (relative to the attestation file) or a
path on the target. A manual requirement with a matching attestation becomes an attested result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError
from .loading import data_file

__all__ = ["Attestation", "attestations_for", "load_attestations", "register_attestations"]

_DIGEST = re.compile(r"^(sha256:)?[0-9a-f]{64}$")


@dataclass(frozen=True)
class Attestation:
    requirement: str
    attested_by: str
    statement: str
    reference: str
    sha256: str
    base_dir: Path | None = None

    @property
    def on_target(self) -> bool:
        """A reference starting with ``/`` is a path on the target; anything else a local file."""
        return self.reference.startswith("/")

    def local_document(self) -> Path:
        return (self.base_dir or Path.cwd()) / self.reference


def load_attestations(path: str | Path) -> dict[str, Attestation]:
    """Attestations by requirement id; problems are :class:`UsageError` naming the entry."""
    file = Path(path)
    raw, _ = data_file(file, "attestation")
    entries = raw.get("attestations") if isinstance(raw, dict) else None
    if not isinstance(entries, list):  # not an attestation file: quote nothing of it
        raise UsageError(f"{file}: expected `attestations: [{{requirement, attested_by, statement, "
                         f"document: {{reference, sha256}}}}, …]`")
    return {a.requirement: a for a in (_entry(file, i, e) for i, e in enumerate(entries))}


def _entry(file: Path, index: int, entry: Any) -> Attestation:
    where = f"{file}: attestation #{index + 1}"
    if not isinstance(entry, dict):
        raise UsageError(f"{where} is not a mapping")
    document = entry.get("document")
    fields = {"requirement": entry.get("requirement"), "attested_by": entry.get("attested_by"),
              "statement": entry.get("statement")}
    for name, value in fields.items():
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"{where} needs a non-empty `{name}`")
    if not isinstance(document, dict) or not isinstance(document.get("reference"), str):
        raise UsageError(f"{where} needs `document: {{reference: <file or path>, sha256: <hex digest>}}`")
    digest = str(document.get("sha256", "")).lower()
    if not _DIGEST.match(digest):
        raise UsageError(f"{where}: `document.sha256` must be 64 hex digits, found {digest[:80]!r}")
    return Attestation(fields["requirement"], fields["attested_by"], fields["statement"], document["reference"],
                       digest.removeprefix("sha256:"), file.parent.resolve())


# Attestations the suite was handed for a platform it started itself, looked up by base URL.
_ISSUED: dict[str, Mapping[str, Attestation]] = {}


def register_attestations(base_url: str, attestations: Mapping[str, Attestation] | None) -> None:
    if attestations is None:
        _ISSUED.pop(base_url.rstrip("/"), None)
    else:
        _ISSUED[base_url.rstrip("/")] = attestations


def attestations_for(base_url: str) -> Mapping[str, Attestation]:
    return _ISSUED.get(base_url.rstrip("/"), {})
