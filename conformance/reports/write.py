"""Write a profile's report files: report.json, summary.md (CI step summaries), badge.json (shields.io),
report.html (self-contained, bilingual) and report.earl.jsonld (W3C EARL).

Everything written passes the process's redactor first (as structured values, before any
rendering), platform text is escaped for each file's format, and each file is written atomically,
replacing (never following) a symlink planted in the report directory.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..errors import SchemaError, UsageError
from ..escaping import json_ld, json_value, markdown, markdown_cell, markdown_words
from ..loading import MAX_DEPTH, write_file
from ..profiles import ID
from ..redaction import redact_value
from ..schemas import schema_store
from .earl import to_earl
from .html import render_report
from .waivers import waiver_lines

__all__ = ["badge", "evaluation_lines", "markdown_summary", "write_reports"]

REPORT_SCHEMA = "suite/report.json"
_BADGE_COLOURS = {"conformant": "brightgreen", "incomplete": "yellow", "not-conformant": "red"}


def _number(value: Any) -> str:
    return "—" if value is None else str(value)


def markdown_summary(report: dict[str, Any]) -> str:
    """The report as GitHub/GitLab step-summary Markdown; no platform text renders as a link, image or HTML."""
    profile, summary = report["profile"], report["summary"]
    lines = [
        f"## {markdown_words(profile['title']['en'])} ({markdown(profile['id'])} "
        f"{markdown_words(profile['version'])}): **{report['verdict']}**",
        "",
        f"Target {markdown(report['target'].get('base_url'))} · seed `{report['seed']}` · "
        f"score {_number(summary['score'])}",
        "",
        "| sub-system | requirements | pass | fail | inconclusive | n/a | manual | waived | score |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, sub in summary["by_subsystem"].items():
        v = sub["by_verdict"]
        lines.append(f"| {markdown_words(name)} | {sub['requirements']} | {v['pass']} | {v['fail']} | "
                     f"{v['inconclusive']} | {v['not-applicable']} | {v['manual']} | {v.get('waived', 0)} | "
                     f"{_number(sub['score'])} |")
    unique = summary.get("unique_failures")
    if unique and unique["count"]:
        codes = ", ".join(f"{code} ×{n}" for code, n in unique["by_code"].items())
        lines += ["", f"Unique failures: {unique['count']} ({codes}; `sc-conformance explain CODE` says how to fix)"]
    if report.get("interrupted"):
        lines += ["", "**Interrupted**: the run was stopped before every selected requirement ran; a partial report."]
    bad = [r for r in report["requirements"] if r["verdict"] in ("fail", "inconclusive", "waived")]
    if bad:
        lines += ["", "| requirement | level | verdict | why |", "|---|---|---|---|"]
        for r in bad:
            shown = r.get("waiver", {}).get("original_verdict", r["verdict"])
            why = next((c["message"] for c in r["checks"] if c["verdict"] == shown), "")
            lines.append(f"| {markdown_words(r['id'])} {markdown_words(r['title']['en'])} | {r['level']} | "
                         f"{r['verdict']} | {markdown_cell(why)} |")
    if report.get("evaluation"):
        lines += evaluation_lines(report["evaluation"])
    notes = waiver_lines(report)
    if notes:
        lines += ["", "**Waivers and baseline** (they change the exit status, never the verdict):", ""]
        lines += [f"- {markdown_cell(line, limit=500)}" for line in notes]
    if report["selection"]["not_run"]:
        lines += ["", f"Not run in this selection: {markdown_words(', '.join(report['selection']['not_run']))}"]
    return "\n".join(lines) + "\n"


def evaluation_lines(evaluation: dict[str, Any]) -> list[str]:
    """The evaluation as Markdown: total, grade, coverage, where the points come from, each first-level indicator."""
    scheme, grade = evaluation["scheme"], evaluation["grade"]
    basis = evaluation.get("basis", {})
    lines = ["", f"**Evaluation** on {markdown(scheme['id'])} {markdown(scheme['version'])}: total "
             f"**{evaluation['total']}**, grade **{markdown_words(grade['title']['en'])}** "
             f"({markdown_words(grade['title']['zh'])}), {evaluation['coverage']} % of the weight assessed; points from "
             f"machine-checked verdicts {basis.get('machine', 0)}, attestations {basis.get('attested', 0)}, "
             f"published indicator values {basis.get('published', 0)}", "",
             "| indicator | weight | score | second-level scores |", "|---|---|---|---|"]
    for first in evaluation["indicators"]:
        seconds = ", ".join(f"{s['id']} {_number(s['score'])}" + (" (attested)" if s.get("basis") == "attested" else "")
                            for s in first["indicators"])
        lines.append(f"| {markdown_words(first['title']['en'])} | {first['weight']} | {_number(first['score'])} | "
                     f"{markdown_words(seconds)} |")
    uncounted = evaluation.get("uncounted", {})
    counts = [f"{name.replace('_', '-')} {len(ids)}" for name, ids in uncounted.items() if ids]
    if counts:
        lines += ["", f"Never counted as passes: {markdown_words(', '.join(counts))}"]
    return lines


def badge(report: dict[str, Any]) -> dict[str, Any]:
    waived = len(report.get("waivers", {}).get("used", []))
    return {
        "schemaVersion": 1,
        "label": f"{report['profile']['id']} {report['profile']['version']}",
        "message": report["verdict"] + (f" ({waived} waived)" if waived else ""),
        "color": _BADGE_COLOURS[report["verdict"]],
    }


# Digests of requirement entries that conformed, in this process: a requirement shared by several profiles
# (core's are in every one) carries the same entry, evidence and all, into each report of the run.
_CONFORMING_ENTRIES: set[bytes] = set()


def _conform(report: dict[str, Any]) -> None:
    """Raise unless ``report`` conforms to the report contract; each distinct requirement entry is validated once."""
    entries = report.get("requirements")
    pending: list[tuple[tuple[Any, ...], str, Any, bytes | None]] = []
    if isinstance(entries, list):
        pending.append(((), REPORT_SCHEMA, {**report, "requirements": []}, None))
        for index, entry in enumerate(entries):
            digest = hashlib.sha256(json.dumps(entry, sort_keys=True, ensure_ascii=False).encode()).digest()
            if digest not in _CONFORMING_ENTRIES:
                pending.append((("requirements", index), f"{REPORT_SCHEMA}#/properties/requirements/items", entry,
                                digest))
    else:
        pending.append(((), REPORT_SCHEMA, report, None))
    for prefix, schema, instance, entry_digest in pending:
        errors = schema_store().errors(schema, instance)
        if errors:
            where = "/".join(map(str, (*prefix, *errors[0].absolute_path)))
            raise SchemaError(f"the report does not conform to {REPORT_SCHEMA} at /{where}: {errors[0].message}")
        if entry_digest is not None:
            _CONFORMING_ENTRIES.add(entry_digest)


def write_reports(report: dict[str, Any], report_dir: Path) -> Path:
    """Validate the report against its published schema and write its files; returns report.json's path."""
    report = json_value(redact_value(report), depth=MAX_DEPTH)  # strict JSON a signature and our loaders take back
    _conform(report)
    profile_id = report["profile"]["id"]
    if not ID.fullmatch(profile_id):  # a directory name of report_dir's, never a path
        raise UsageError(f"refusing to write reports for profile id {profile_id[:60]!r}: not a profile id")
    directory = report_dir / profile_id  # below report_dir, through no link (write_file's root)
    path = directory / "report.json"
    write_file(path, json.dumps(report, ensure_ascii=False, indent=2) + "\n", root=report_dir)
    write_file(directory / "summary.md", markdown_summary(report), root=report_dir)
    write_file(directory / "badge.json", json.dumps(badge(report), ensure_ascii=False) + "\n", root=report_dir)
    write_file(directory / "report.html", render_report(report), root=report_dir)
    write_file(directory / "report.earl.jsonld", json.dumps(json_ld(to_earl(report)), ensure_ascii=False, indent=2)
               + "\n", root=report_dir)
    return path
