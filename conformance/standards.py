"""Local standards: a city's folder laid out like the national base, loaded from its ``standard.yaml``.

A standard folder holds ``standard.yaml`` (``suite/standard.json``: id, version, title, the ``national`` version it
extends, the faults that prove its requirements, its prose), ``profiles/``, ``schemas/``, ``fixtures/`` and
``evaluation/``. A run is given standards with ``--standard DIR`` (repeatable; the id of an installed standard
works too), and a profile file inside a standard's ``profiles/`` folder implies its standard. Standards shipped as
``examples/`` or registered by a distribution under the ``sc_conformance.standards`` entry point are installed:
their profiles are known by id. Every reference inside a standard resolves in it first, then in the national base
(:mod:`conformance.resources` holds the folders :mod:`conformance.fixtures`, :mod:`conformance.schemas` and
:mod:`conformance.profiles` search).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ProfileError, UsageError, did_you_mean
from .profiles import _controls, _field, _line, _load_yaml, _schema_error, find_profile, is_path
from .resources import active_roots, installed_standards, local_roots, set_local_roots

__all__ = ["STANDARD_FILE", "DeclaredFault", "Standard", "activate", "active_standards", "evaluation_dirs",
           "installed", "load_standard", "resolve_standards", "searched", "standard_of"]

STANDARD_FILE = "standard.yaml"
_SCHEMA = "suite/standard.json"


@dataclass(frozen=True)
class DeclaredFault:
    """A reference-platform fault a local standard says breaks one of its requirements too."""

    requirement: str
    fault: str
    reason: str
    line: int
    field: str


@dataclass(frozen=True)
class Standard:
    root: Path
    id: str
    version: str
    title: Mapping[str, str]
    national: str
    description: Mapping[str, str]
    faults: tuple[DeclaredFault, ...]
    prose: tuple[Mapping[str, Any], ...]

    @property
    def file(self) -> Path:
        return self.root / STANDARD_FILE

    def folder(self, name: str) -> Path | None:
        """The standard's ``profiles``, ``schemas``, ``fixtures`` or ``evaluation`` folder, None when absent."""
        path = self.root / name
        return path if path.is_dir() else None

    @property
    def evaluation_dir(self) -> Path | None:
        return self.folder("evaluation")

    def profile_paths(self) -> list[Path]:
        folder = self.folder("profiles")
        return sorted(folder.glob("*.yaml")) if folder else []

    def profile_ids(self) -> list[str]:
        return [path.stem for path in self.profile_paths()]


def load_standard(folder: str | Path) -> Standard:
    """Load and validate ``folder/standard.yaml``; every error names the file, the line and the field."""
    root = Path(folder).resolve()
    path = root / STANDARD_FILE
    if not path.is_file():
        raise UsageError(f"{folder}: not a standard folder (no {STANDARD_FILE}); a local standard holds "
                         f"{STANDARD_FILE}, profiles/, schemas/, fixtures/ and evaluation/")
    try:
        text = path.read_bytes()
    except OSError:
        text = b""  # _load_yaml reports it, naming the file
    return _load(path, text)


@functools.lru_cache(maxsize=64)
def _load(path: Path, text: bytes) -> Standard:
    """One standard.yaml, remembered by its path and its bytes (an edited file is read again)."""
    del text  # part of the cache key only: _load_yaml reads the file through the bounded loader
    data, lines = _load_yaml(path)
    if not isinstance(data, dict):
        raise ProfileError("not a standard: expected a YAML mapping with id, version, title and national",
                           file=str(path), line=1)
    controlled = _controls(data)
    if controlled is not None:
        raise ProfileError("holds a control character; a standard is plain text", file=str(path),
                           line=_line(lines, controlled), field=_field(controlled, data))
    problem = _schema_error(path, data, lines, _SCHEMA)
    if problem:
        raise problem
    faults = tuple(DeclaredFault(item["requirement"], item["fault"], item["reason"],
                                 _line(lines, ("faults", index)) or 1, _field(("faults", index), data))
                   for index, item in enumerate(data.get("faults", [])))
    return Standard(root=path.parent, id=data["id"], version=data["version"], title=data["title"],
                    national=data["national"], description=data.get("description") or {}, faults=faults,
                    prose=tuple(data.get("prose", [])))


def installed() -> list[Standard]:
    """The installed standards (the shipped examples, then those registered through the entry point)."""
    return [load_standard(folder) for _, folder in installed_standards()]


def standard_of(profile_path: Path) -> Standard | None:
    """The standard whose ``profiles/`` folder holds a profile file, or None (a national or loose profile)."""
    folder = Path(profile_path).resolve().parent
    if folder.name == "profiles" and (folder.parent / STANDARD_FILE).is_file():
        return load_standard(folder.parent)
    return None


def _named(name: str) -> Standard:
    """A standard by folder, or by the id of an installed standard."""
    candidate = Path(name)
    if candidate.is_dir() or is_path(name):
        return load_standard(candidate)
    known = {standard.id: standard for standard in installed()}
    if name in known:
        return known[name]
    raise UsageError(f"--standard {name}: no such folder, and no installed standard has that id"
                     f"{did_you_mean(name, known)}; installed: {', '.join(known) or 'none'}")


def resolve_standards(names: Iterable[str], profiles: Iterable[str | Path] = ()) -> list[Standard]:
    """The standards a run uses: those named (folders or installed ids), then those holding its profiles (a profile
    file inside a standard's ``profiles/``, or the id of a profile of an installed standard)."""
    found = [_named(str(name)) for name in names]
    search = tuple(folder for standard in found if (folder := standard.folder("profiles")) is not None)
    for profile in profiles:
        try:
            path = find_profile(profile, search)
        except ProfileError:
            continue  # loading the profile reports it, with the known ids
        implied = standard_of(path)
        if implied is not None:
            found.append(implied)
    unique: dict[Path, Standard] = {}
    ids: dict[str, Path] = {}
    for standard in found:
        if standard.id in ids and ids[standard.id] != standard.root:
            raise UsageError(f"two standards have the id {standard.id!r}: {ids[standard.id]} and {standard.root}")
        ids[standard.id] = standard.root
        unique.setdefault(standard.root, standard)
    return list(unique.values())


def activate(standards: Iterable[Standard]) -> None:
    """Search these standards' folders first, before the installed standards and the national base; an installed
    standard with the id of one of them is replaced by it (a city's next version, beside the installed one)."""
    chosen = list(standards)
    ids = {standard.id: standard.root for standard in chosen}
    hidden = [standard.root for standard in installed() if ids.get(standard.id, standard.root) != standard.root
              ] if chosen else []  # a run given no standard reads no installed standard.yaml here
    set_local_roots((standard.root for standard in chosen), hidden)


def active_standards() -> list[Standard]:
    """The standards given to this run (``--standard`` or implied by a profile path), first searched first."""
    return [load_standard(root) for root in active_roots()]


def evaluation_dirs(profile_path: Path | None = None) -> list[Path]:
    """The ``evaluation`` folders to search before the national one, first searched first: those of the standards
    given to the run, and that of the standard holding ``profile_path`` (an installed one's, for its profiles)."""
    standards = active_standards()
    holder = standard_of(profile_path) if profile_path is not None else None
    if holder is not None and holder.root not in {s.root for s in standards}:
        standards.append(holder)
    return [folder for standard in standards if (folder := standard.evaluation_dir) is not None]


def searched() -> list[Standard]:
    """Every standard whose folders are searched in this process: the active ones, then the installed."""
    return [load_standard(root) for root in local_roots()]
