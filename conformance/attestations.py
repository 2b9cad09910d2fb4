"""Attestations for requirements no API can show: who attests what, with a document and its digest.

An attestation file (YAML or JSON) lists ``{requirement, attested_by, statement, document:
{reference, sha256}}``; the reference is a local file (relative to the attestation file) or a
path on the target. A manual requirement with a matching attestation becomes an attested result.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError
from .loading import data_file

__all__ = ["Attestation", "attestations_for", "load_attestations", "register_attestations"]

_DIGEST = re.compile(r"^(sha256:)?[0-9a-f]{64}$")
MAX_DOCUMENT = 64 << 20  # an attested document (a policy, a contract, a scanned certificate) is smaller


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

    def read_local(self) -> bytes:
        """The local document's bytes: a regular file inside the attestation file's folder, at most
        :data:`MAX_DOCUMENT` bytes; anything else is an :class:`OSError` saying why (never a device such as
        ``/dev/zero``, never a file elsewhere whose digest would then stand in the report)."""
        folder = (self.base_dir or Path.cwd()).resolve()
        path = self.local_document().resolve()
        if folder not in path.parents:
            raise OSError(errno.EACCES, "it is not inside the attestation file's folder", str(path))
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the file's kind is checked on what was opened
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise OSError(errno.EINVAL, "it is not a regular file", str(path))
            data = handle.read(MAX_DOCUMENT + 1)
        if len(data) > MAX_DOCUMENT:
            raise OSError(errno.EFBIG, f"it is larger than {MAX_DOCUMENT >> 20} MiB", str(path))
        return data


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
    reference = document["reference"]
    if not reference.startswith("/") and (not reference.strip() or ".." in Path(reference).parts
                                          or Path(reference).is_absolute() or "\\" in reference):
        raise UsageError(f"{where}: `document.reference` must be a path on the platform (starting with /) or a "
                         "file inside the attestation file's folder")
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
