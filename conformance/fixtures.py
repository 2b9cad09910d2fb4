"""Fixed payloads from ``fixtures/<collection>/{valid,invalid}/<name>.json`` (a local standard's folder first, then
the national base), with reference placeholders.

A string value ``"{{ref:communities}}"`` stands for the id of a record of that collection,
which the run creates once and reuses; fixtures stay independent of server-assigned ids.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import did_you_mean
from .loading import json_file
from .resources import fixtures_dir, local_dirs

__all__ = ["fixture_names", "fixture_path", "fixture_problem", "load_fixture", "references", "resolve"]

_REF = re.compile(r"^\{\{ref:([a-z][a-z0-9-]*)\}\}$")


def _roots() -> tuple[Path, ...]:
    """Where fixtures are looked for: the local standards in use first, then the national base."""
    return (*local_dirs("fixtures"), fixtures_dir())


def fixture_names() -> list[str]:
    """Every fixture name of the local standards in use and of the national base."""
    return _names(_roots())


@functools.cache
def _names(roots: tuple[Path, ...]) -> list[str]:
    return sorted({p.relative_to(root).with_suffix("").as_posix() for root in roots for p in root.rglob("*.json")})


def fixture_path(name: str) -> Path | None:
    """The file a fixture name resolves to (a local standard's first, then the national base's), or None."""
    return _locate(_roots(), name)


@functools.cache
def _locate(roots: tuple[Path, ...], name: str) -> Path | None:
    for root in roots:
        path = root / f"{name}.json"
        if path.is_file():
            return path
    return None


def fixture_problem(name: str) -> str | None:
    if fixture_path(name) is not None:
        return None
    return f"no fixture {name!r}{did_you_mean(name, fixture_names())}"


@functools.cache
def _read_file(path: Path) -> Any:
    if path.is_relative_to(fixtures_dir()):
        return json.loads(path.read_text(encoding="utf-8"))
    # a local standard's fixture is input: the bounded strict loader (a broken file is one line naming it)
    return json_file(path, "fixture")


def _read(name: str) -> Any:
    path = fixture_path(name)
    if path is None:
        raise FileNotFoundError(fixture_problem(name))
    return _read_file(path)


def load_fixture(name: str) -> Any:
    """A fresh copy of a fixture (``residents/valid/minimal``), placeholders unresolved."""
    return copy.deepcopy(_read(name))


def references(payload: Any) -> set[str]:
    """The collections a payload's placeholders refer to."""
    found: set[str] = set()
    if isinstance(payload, dict):
        for value in payload.values():
            found |= references(value)
    elif isinstance(payload, list):
        for value in payload:
            found |= references(value)
    elif isinstance(payload, str) and (match := _REF.match(payload)):
        found.add(match.group(1))
    return found


def resolve(payload: Any, id_of: Callable[[str], str]) -> Any:
    """Replace every placeholder with ``id_of(collection)``."""
    if isinstance(payload, dict):
        return {key: resolve(value, id_of) for key, value in payload.items()}
    if isinstance(payload, list):
        return [resolve(value, id_of) for value in payload]
    if isinstance(payload, str) and (match := _REF.match(payload)):
        return id_of(match.group(1))
    return payload
