"""``profiles matrix``: traceability from each requirement to its source, checks, fixtures and schemas."""

from __future__ import annotations

import csv
import io

from ..catalogue import catalogue
from ..escaping import csv_cell, markdown_words
from ..profiles import Profile
from ..schemas import BASE_URI
from .lint import requirement_inputs

__all__ = ["COLUMNS", "matrix_rows", "to_csv", "to_markdown"]

COLUMNS = ("profile", "requirement", "level", "subsystem", "title_en", "title_zh", "source", "checks", "fixtures",
           "schemas")


def _schemas(collections: list[str], fixtures: list[str]) -> list[str]:
    cat = catalogue()
    names = collections + [f.split("/")[0] for f in fixtures]
    uris: list[str] = []
    for name in dict.fromkeys(names):
        if name in cat.collections:
            col = cat.collections[name]
            uris += [col.schema, col.create_schema]
    return [uri.removeprefix(BASE_URI) for uri in dict.fromkeys(uris)]


def matrix_rows(profile: Profile) -> list[dict[str, str]]:
    rows = []
    for req in profile.requirements:
        fixtures, collections = requirement_inputs(req)
        rows.append({
            "profile": req.profile, "requirement": req.id, "level": req.level, "subsystem": req.subsystem,
            "title_en": req.title["en"], "title_zh": req.title["zh"], "source": "; ".join(req.source),
            "checks": "; ".join(c.check for c in req.checks), "fixtures": "; ".join(fixtures),
            "schemas": "; ".join(_schemas(collections, fixtures)),
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

    lines = ["| requirement | level | sub-system | source | checks | fixtures | schemas |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {cell(r['requirement'])} {cell(r['title_en'])} | {cell(r['level'])} | {cell(r['subsystem'])} | "
              f"{cell(r['source'])} | "
              f"{cell(r['checks'])} | {cell(r['fixtures'])} | {cell(r['schemas'])} |" for r in rows]
    return "\n".join(lines) + "\n"
