"""``profiles matrix``: traceability from each requirement to its source, checks, fixtures and schemas (those a local
standard brings marked ``(local)``), and the override and reason of every tightened requirement."""

from __future__ import annotations

import csv
import io

from ..catalogue import catalogue
from ..escaping import csv_cell, markdown_words
from ..fixtures import fixture_path
from ..profiles import Profile, Requirement
from ..resources import fixtures_dir
from ..schemas import BASE_URI, schema_store
from .lint import requirement_inputs, requirement_schemas

__all__ = ["COLUMNS", "LOCAL", "matrix_rows", "override_note", "to_csv", "to_markdown"]

COLUMNS = ("profile", "requirement", "level", "subsystem", "title_en", "title_zh", "source", "checks", "fixtures",
           "schemas", "override")
LOCAL = " (local)"  # marks a fixture or schema a local standard brings


def _schemas(collections: list[str], fixtures: list[str]) -> list[str]:
    cat = catalogue()
    names = collections + [f.split("/")[0] for f in fixtures]
    uris: list[str] = []
    for name in dict.fromkeys(names):
        if name in cat.collections:
            col = cat.collections[name]
            uris += [col.schema, col.create_schema]
    return [uri.removeprefix(BASE_URI) for uri in dict.fromkeys(uris)]


def _fixture_label(name: str) -> str:
    path = fixture_path(name)
    return name + (LOCAL if path is not None and not path.is_relative_to(fixtures_dir()) else "")


def _schema_labels(req: Requirement, collections: list[str], fixtures: list[str]) -> list[str]:
    """The national schemas of the collections exercised, then the schemas the checks name (a local one marked)."""
    store = schema_store()
    named = [ref + (LOCAL if store.is_local(ref) else "") for ref in requirement_schemas(req)]
    return list(dict.fromkeys(_schemas(collections, fixtures) + named))


def override_note(req: Requirement) -> str:
    """``SHOULD → SHALL (city): reason`` for a requirement a profile tightened, else empty."""
    if req.override is None:
        return ""
    return f"{req.override.level} → {req.level} ({req.override.profile}): {req.override.reason}".rstrip(": ")


def matrix_rows(profile: Profile) -> list[dict[str, str]]:
    rows = []
    for req in profile.requirements:
        fixtures, collections = requirement_inputs(req)
        rows.append({
            "profile": req.profile, "requirement": req.id, "level": req.level, "subsystem": req.subsystem,
            "title_en": req.title["en"], "title_zh": req.title["zh"], "source": "; ".join(req.source),
            "checks": "; ".join(c.check for c in req.checks), "fixtures": "; ".join(map(_fixture_label, fixtures)),
            "schemas": "; ".join(_schema_labels(req, collections, fixtures)), "override": override_note(req),
        })
    return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)  # no cell is a formula
    return out.getvalue()


def to_markdown(rows: list[dict[str, str]]) -> str:
    def cell(text: str) -> str:  # every Markdown and HTML metacharacter of profile text escaped; our <br> kept
        return "<br>".join(markdown_words(part) for part in text.split("; ")) or "—"

    lines = ["| requirement | level | sub-system | source | checks | fixtures | schemas | override |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {cell(r['requirement'])} {cell(r['title_en'])} | {cell(r['level'])} | {cell(r['subsystem'])} | "
              f"{cell(r['source'])} | "
              f"{cell(r['checks'])} | {cell(r['fixtures'])} | {cell(r['schemas'])} | {cell(r['override'])} |"
              for r in rows]
    return "\n".join(lines) + "\n"
