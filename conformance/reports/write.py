"""Write a profile's report files: report.json, summary.md (CI step summaries), badge.json (shields.io),
report.html (self-contained, bilingual) and report.earl.jsonld (W3C EARL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import SchemaError
from ..schemas import schema_store
from .earl import to_earl
from .html import render_report

__all__ = ["markdown_summary", "write_reports"]

REPORT_SCHEMA = "suite/report.json"
_BADGE_COLOURS = {"conformant": "brightgreen", "incomplete": "yellow", "not-conformant": "red"}


def markdown_summary(report: dict[str, Any]) -> str:
    profile, summary = report["profile"], report["summary"]
    lines = [
        f"## {profile['title']['en']} (`{profile['id']}` {profile['version']}): **{report['verdict']}**",
        "",
        f"Target `{report['target'].get('base_url')}` · seed `{report['seed']}` · score {summary['score']}",
        "",
        "| sub-system | requirements | pass | fail | inconclusive | n/a | manual | score |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, sub in summary["by_subsystem"].items():
        v = sub["by_verdict"]
        lines.append(f"| {name} | {sub['requirements']} | {v['pass']} | {v['fail']} | {v['inconclusive']} | "
                     f"{v['not-applicable']} | {v['manual']} | {sub['score']} |")
    unique = summary.get("unique_failures")
    if unique and unique["count"]:
        codes = ", ".join(f"{code} ×{n}" for code, n in unique["by_code"].items())
        lines += ["", f"Unique failures: {unique['count']} ({codes}; `sc-conformance explain CODE` says how to fix)"]
    if report.get("interrupted"):
        lines += ["", "**Interrupted**: the run was stopped before every selected requirement ran; a partial report."]
    bad = [r for r in report["requirements"] if r["verdict"] in ("fail", "inconclusive")]
    if bad:
        lines += ["", "| requirement | level | verdict | why |", "|---|---|---|---|"]
        for r in bad:
            why = next((c["message"] for c in r["checks"] if c["verdict"] == r["verdict"]), "")
            why = why.replace("|", "\\|").replace("\n", " ")[:300]
            lines.append(f"| {r['id']} {r['title']['en']} | {r['level']} | {r['verdict']} | {why} |")
    if report["selection"]["not_run"]:
        lines += ["", f"Not run in this selection: {', '.join(report['selection']['not_run'])}"]
    return "\n".join(lines) + "\n"


def badge(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "schemaVersion": 1,
        "label": f"{report['profile']['id']} {report['profile']['version']}",
        "message": report["verdict"],
        "color": _BADGE_COLOURS[report["verdict"]],
    }


def write_reports(report: dict[str, Any], report_dir: Path) -> Path:
    """Validate the report against its published schema and write the three files; returns report.json's path."""
    errors = schema_store().errors(REPORT_SCHEMA, report)
    if errors:
        first = errors[0]
        raise SchemaError(f"the report does not conform to {REPORT_SCHEMA} at "
                          f"/{'/'.join(map(str, first.absolute_path))}: {first.message}")
    directory = report_dir / report["profile"]["id"]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (directory / "summary.md").write_text(markdown_summary(report), encoding="utf-8")
    (directory / "badge.json").write_text(json.dumps(badge(report), ensure_ascii=False) + "\n", encoding="utf-8")
    (directory / "report.html").write_text(render_report(report), encoding="utf-8")
    (directory / "report.earl.jsonld").write_text(json.dumps(to_earl(report), ensure_ascii=False, indent=2) + "\n",
                                                  encoding="utf-8")
    return path
