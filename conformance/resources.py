"""Where the standard's data lives: in the wheel (``conformance/_data``) or beside the package in a checkout,
and the folders of the local standards searched before it (:mod:`conformance.standards` loads and activates them)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path

__all__ = ["ENTRY_POINT_GROUP", "active_roots", "data_dir", "examples_dir", "fixtures_dir", "installed_standards", "local_dirs",
           "local_roots", "profile_dirs", "profiles_dir", "schemas_dir", "set_local_roots"]

_PACKAGE = Path(__file__).resolve().parent
ENTRY_POINT_GROUP = "sc_conformance.standards"  # a distribution registers a local standard's folder here

# The local standards a run was given (``--standard DIR``, or implied by a profile path), first searched first.
_ACTIVE: list[Path] = []


def data_dir(name: str) -> Path:
    """Return the directory holding ``schemas``, ``profiles`` or ``fixtures``."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the suite's {name!r} directory is missing: the installation is broken")


def schemas_dir() -> Path:
    return data_dir("schemas")


def profiles_dir() -> Path:
    return data_dir("profiles")


def fixtures_dir() -> Path:
    return data_dir("fixtures")


def examples_dir() -> Path | None:
    """The example local standards shipped with the suite (``examples/<city>/``), if this installation has them."""
    for candidate in (_PACKAGE / "_data" / "examples", _PACKAGE.parent / "examples"):
        if candidate.is_dir():
            return candidate
    return None


@functools.cache
def installed_standards() -> tuple[tuple[str, Path], ...]:
    """(where it comes from, folder) of every installed local standard: the shipped examples, then those a
    Python distribution registers under the ``sc_conformance.standards`` entry point (a path, or a callable
    returning one). A registration that cannot be loaded is left out (an installed plug-in that is broken must not
    stop a national run); ``--standard`` with its id then says no installed standard has it."""
    found: list[tuple[str, Path]] = []
    examples = examples_dir()
    if examples is not None:
        found += [(f"examples/{p.parent.name}", p.parent) for p in sorted(examples.glob("*/standard.yaml"))]
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        try:
            value = point.load()
            folder = Path(value() if callable(value) else value)
        except Exception:  # noqa: BLE001 - a broken third-party registration must not stop the suite
            continue
        found.append((f"entry point {point.name} ({point.value})", folder.resolve()))
    return tuple(found)


_HIDDEN: list[Path] = []  # installed standards a given folder of the same id replaces (a city's next version)


def set_local_roots(roots: Iterable[Path], hidden: Iterable[Path] = ()) -> None:
    """Make ``roots`` the active local standards of this process (replacing any before), first searched first;
    ``hidden`` are installed standards they replace."""
    _ACTIVE[:] = list(dict.fromkeys(Path(root).resolve() for root in roots))
    _HIDDEN[:] = [Path(root).resolve() for root in hidden]


def active_roots() -> tuple[Path, ...]:
    """The folders of the local standards this run was given, first searched first."""
    return tuple(_ACTIVE)


def local_roots() -> tuple[Path, ...]:
    """The folders of the local standards searched before the national base: active ones first, then installed."""
    return tuple(dict.fromkeys([*_ACTIVE, *(folder for _, folder in installed_standards() if folder not in _HIDDEN)]))


def local_dirs(name: str) -> tuple[Path, ...]:
    """The ``name`` folders (``schemas``, ``profiles``, ``fixtures``, ``evaluation``) of the local standards."""
    return tuple(root / name for root in local_roots() if (root / name).is_dir())


def profile_dirs() -> tuple[Path, ...]:
    """Where a profile id is looked for: the standards given to the run, the national base, the installed standards
    (an installed standard never shadows a national profile)."""
    active = [root / "profiles" for root in _ACTIVE if (root / "profiles").is_dir()]
    return tuple(dict.fromkeys([*active, profiles_dir(), *local_dirs("profiles")]))
