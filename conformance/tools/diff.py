"""``profiles diff OLD NEW``: what changed between two versions of a profile and of the schemas, in Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..escaping import markdown_words
from ..loading import json_file
from ..profiles import LEVELS, Profile, Requirement, find_profile, load_profile
from ..resources import schemas_dir

__all__ = ["diff_profiles", "diff_schemas", "schemas_beside"]


def schemas_beside(profile_path: Path) -> Path:
    """The schemas of the tree a profile file lives in (``<tree>/profiles/x.yaml`` → ``<tree>/schemas``)."""
    candidate = profile_path.resolve().parent.parent / "schemas"
    return candidate if candidate.is_dir() else schemas_dir()


def _documents(root: Path) -> dict[str, Any]:
    """Every schema of a tree, read by the bounded loader (a link to /dev/zero or a 100,000-deep document is a
    one-line error naming the file, never a read without end or a RecursionError)."""
    return {str(p.relative_to(root)): json_file(p, "schema") for p in sorted(root.rglob("*.json"))}


def _schema_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Properties and required members added or removed, at any depth, by JSON path."""
    notes: list[str] = []

    def walk(a: Any, b: Any, at: str) -> None:
        if not (isinstance(a, dict) and isinstance(b, dict)):
            return
        pa, pb = a.get("properties") or {}, b.get("properties") or {}
        notes.extend(f"+ `{at}/{k}`" for k in pb if k not in pa)
        notes.extend(f"− `{at}/{k}`" for k in pa if k not in pb)
        ra, rb = set(a.get("required", [])), set(b.get("required", []))
        notes.extend(f"now required `{at}/{k}`" for k in sorted(rb - ra))
        notes.extend(f"no longer required `{at}/{k}`" for k in sorted(ra - rb))
        for k in pa.keys() & pb.keys():
            walk(pa[k], pb[k], f"{at}/{k}")
        da, db = a.get("$defs") or {}, b.get("$defs") or {}
        for k in da.keys() & db.keys():
            walk(da[k], db[k], f"{at}/$defs/{k}")

    walk(old, new, "")
    return "; ".join(notes) or "changed (constraints only)"


def diff_schemas(old_root: Path, new_root: Path) -> list[str]:
    old, new = _documents(old_root), _documents(new_root)
    lines = [f"- added `{name}`" for name in new if name not in old]
    lines += [f"- removed `{name}`" for name in old if name not in new]
    lines += [f"- changed `{name}`: {_schema_change(old[name], new[name])}"
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
            sections["Tightened" if change > 0 else "Loosened"].append(_row(req, f"{prior.level} → {req.level}"))
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
    schema_lines = diff_schemas(schemas_beside(old_path), schemas_beside(new_path))
    lines += [f"## Schemas changed ({len(schema_lines)})", "", *(schema_lines or ["None."]), ""]
    return "\n".join(lines)
