"""``profiles diff OLD NEW``: what changed between two versions of a profile and of the schemas, in Markdown.

A profile of a local standard is read with the national base's schemas and its standard's own, so diffing ``core``
against a city lists the city's schemas as added, never the national ones as removed; every tightened requirement
shows its override and reason; the fixtures the profiles name are listed with where they resolve."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..escaping import markdown_words
from ..fixtures import fixture_path
from ..loading import json_file
from ..profiles import LEVELS, Profile, Requirement, find_profile, load_profile
from ..resources import fixtures_dir, schemas_dir
from ..standards import standard_of
from .lint import requirement_inputs

__all__ = ["diff_profiles", "diff_schemas", "schemas_beside"]

_PLAIN = re.compile(r"[A-Za-z0-9_./:$ -]+")  # shown as code unchanged; anything else escaped


def schemas_beside(profile_path: Path) -> Path:
    """The schemas of the tree a profile file lives in (``<tree>/profiles/x.yaml`` → ``<tree>/schemas``)."""
    candidate = profile_path.resolve().parent.parent / "schemas"
    return candidate if candidate.is_dir() else schemas_dir()


def _documents(root: Path) -> dict[str, Any]:
    """Every schema of a tree, read by the bounded loader (a link to /dev/zero or a 100,000-deep document is a
    one-line error naming the file, never a read without end or a RecursionError)."""
    return {str(p.relative_to(root)): json_file(p, "schema") for p in sorted(root.rglob("*.json"))}


def _profile_schemas(profile_path: Path) -> dict[str, Any]:
    """The schemas a profile is read against: for a profile of a local standard, the national base's and the
    standard's own (named ``<standard>: <file>``); otherwise those of the tree it lives in."""
    standard = standard_of(profile_path)
    if standard is None:
        return _documents(schemas_beside(profile_path))
    local = standard.folder("schemas")
    own = {f"{standard.id}: {name}": doc for name, doc in (_documents(local) if local else {}).items()}
    return {**_documents(schemas_dir()), **own}


def _code(text: str) -> str:
    """A file or member name as code; names from a local standard's folder are input, so a backtick or a control
    character in one cannot end the code span or reach a terminal."""
    return f"`{text}`" if _PLAIN.fullmatch(text) else markdown_words(text)


def _schema_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Properties and required members added or removed, at any depth, by JSON path."""
    notes: list[str] = []

    def walk(a: Any, b: Any, at: str) -> None:
        if not (isinstance(a, dict) and isinstance(b, dict)):
            return
        pa, pb = a.get("properties") or {}, b.get("properties") or {}
        notes.extend(f"+ {_code(f'{at}/{k}')}" for k in pb if k not in pa)
        notes.extend(f"− {_code(f'{at}/{k}')}" for k in pa if k not in pb)
        ra, rb = set(map(str, a.get("required", []))), set(map(str, b.get("required", [])))
        notes.extend(f"now required {_code(f'{at}/{k}')}" for k in sorted(rb - ra))
        notes.extend(f"no longer required {_code(f'{at}/{k}')}" for k in sorted(ra - rb))
        for k in pa.keys() & pb.keys():
            walk(pa[k], pb[k], f"{at}/{k}")
        da, db = a.get("$defs") or {}, b.get("$defs") or {}
        for k in da.keys() & db.keys():
            walk(da[k], db[k], f"{at}/$defs/{k}")

    walk(old, new, "")
    return "; ".join(notes) or "changed (constraints only)"


def diff_schemas(old_root: Path, new_root: Path) -> list[str]:
    return _diff_documents(_documents(old_root), _documents(new_root))


def _diff_documents(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = [f"- added {_code(name)}" for name in new if name not in old]
    lines += [f"- removed {_code(name)}" for name in old if name not in new]
    lines += [f"- changed {_code(name)}: {_schema_change(old[name], new[name])}"
              for name in old if name in new and old[name] != new[name]]
    return lines


def _row(req: Requirement, note: str = "") -> str:
    """A table row; profile text is escaped (no image, link or HTML from a title renders)."""
    cells = (req.id, req.level, req.subsystem, f"{req.title['en']} / {req.title['zh']}", note)
    return "| " + " | ".join(markdown_words(cell) for cell in cells) + " |"


def _sections(old: Profile, new: Profile) -> dict[str, list[str]]:
    before = {r.id: r for r in old.requirements}
    after = {r.id: r for r in new.requirements}
    sections: dict[str, list[str]] = {"Added": [], "Removed": [], "Tightened": [], "Loosened": [], "Checks changed": []}
    for rid, req in after.items():
        if rid not in before:
            sections["Added"].append(_row(req))
            continue
        prior = before[rid]
        change = LEVELS.index(req.level) - LEVELS.index(prior.level)
        if change:
            reason = req.override.reason if req.override is not None and req.override.level == prior.level else ""
            note = f"{prior.level} → {req.level}" + (f" ({req.override.profile}): {reason}" if reason and
                                                     req.override is not None else "")
            sections["Tightened" if change > 0 else "Loosened"].append(_row(req, note))
        if [c.to_json() for c in req.checks] != [c.to_json() for c in prior.checks]:
            names = ", ".join(c.check for c in req.checks)
            sections["Checks changed"].append(_row(req, f"now: {names}"))
    sections["Removed"] = [_row(req) for rid, req in before.items() if rid not in after]
    return sections


def diff_profiles(old_name: str, new_name: str) -> str:
    """The Markdown change log between two profiles (ids or paths) and the schemas beside them."""
    old_path, new_path = find_profile(old_name), find_profile(new_name)
    old, new = load_profile(old_path), load_profile(new_path)
    lines = [f"# {new.id}: {old.version} → {new.version}", ""]
    for title, rows in _sections(old, new).items():
        lines += [f"## {title} ({len(rows)})", ""]
        if rows:
            lines += ["| requirement | level | sub-system | title | change |", "|---|---|---|---|---|", *rows]
        else:
            lines.append("None.")
        lines.append("")
    fixture_lines = _fixture_lines(old, new)
    lines += [f"## Local fixtures ({len(fixture_lines)})", "", *(fixture_lines or ["None."]), ""]
    schema_lines = _diff_documents(_profile_schemas(old_path), _profile_schemas(new_path))
    lines += [f"## Schemas changed ({len(schema_lines)})", "", *(schema_lines or ["None."]), ""]
    return "\n".join(lines)


def _where(path: Path) -> str:
    """``<standard folder>/fixtures/<name>.json`` for a fixture of a local standard."""
    root = next((parent.parent for parent in path.parents if parent.name == "fixtures"), path.parent)
    return path.relative_to(root.parent).as_posix()


def _fixtures(profile: Profile) -> dict[str, str]:
    """Fixture name → the local standard's file it resolves to, for every fixture the profile names that the
    national base does not hold (``missing`` when none does)."""
    found: dict[str, str] = {}
    standard = standard_of(profile.path)
    own = standard.folder("fixtures") if standard is not None else None
    for req in profile.requirements:
        for name in requirement_inputs(req)[0]:
            path = own / f"{name}.json" if own is not None and (own / f"{name}.json").is_file() else fixture_path(name)
            if path is None or not path.is_relative_to(fixtures_dir()):
                found[name] = "missing" if path is None else _where(path)
    return found


def _fixture_lines(old: Profile, new: Profile) -> list[str]:
    before, after = _fixtures(old), _fixtures(new)
    lines = [f"- added {_code(name)} ({markdown_words(where)})" for name, where in after.items()
             if name not in before]
    lines += [f"- no longer named {_code(name)}" for name in before if name not in after]
    return lines
