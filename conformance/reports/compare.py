"""Compare vendors' reports of one profile side by side: verdicts, scores, each requirement, differences first."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from ..errors import UsageError
from ..escaping import terminal
from .build import SUBSYSTEMS
from .signing import Trust, suite_problems

__all__ = ["compare", "render_table"]


def _check_same_profile(reports: Sequence[tuple[str, dict[str, Any]]], force: bool) -> list[str]:
    """Why the reports are not comparable (empty when they are); raises unless ``force``."""
    first_name, first = reports[0]
    reasons = []
    for name, report in reports[1:]:
        for key in ("id", "version", "digest"):
            if report["profile"][key] != first["profile"][key]:
                reasons.append(f"{name} was run against profile {key} {report['profile'][key]!r}, "
                               f"{first_name} against {first['profile'][key]!r}")
                break
    if reasons and not force:
        raise UsageError("refusing to compare reports of different profiles, because their requirements "
                         "and levels may differ and the scores would not mean the same thing: "
                         + "; ".join(reasons) + ". Re-run the vendors against one profile version, "
                         "or pass --force to compare anyway.")
    return reasons


def compare(reports: Sequence[tuple[str, dict[str, Any]]], *, force: bool = False,
            trust: Sequence[Trust] | None = None) -> dict[str, Any]:
    """The comparison matrix of ``(vendor name, report)`` pairs; ``trust`` is how each report's signature checked out."""
    if len(reports) < 2:
        raise UsageError(f"compare needs at least two reports, found {len(reports)}")
    warnings = _check_same_profile(reports, force)
    trusts = list(trust) if trust is not None else [Trust("unsigned")] * len(reports)
    vendors = [{"name": name, "verdict": r["verdict"], "score": r["summary"]["score"],
                "base_url": r["target"].get("base_url"), "waivers": len(r.get("waivers_used", [])),
                "signed": trusts[i].label, "trust": trusts[i].state,
                "suite": f"{r['suite'].get('version')} {r['suite'].get('digest', 'no digest')}",
                "subsystems": {s: r["summary"]["by_subsystem"].get(s, {}).get("score") for s in SUBSYSTEMS}}
               for i, (name, r) in enumerate(reports)]
    digests = {r["suite"].get("digest") for _, r in reports}
    if len(digests) > 1:
        warnings.append("the reports were made by suites with different code digests (see `suite`): a modified "
                        "copy of the suite may have made one of them")
    for vendor, (_, report) in zip(vendors, reports):
        warnings += [f"{vendor['name']}: {problem}" for problem in suite_problems(report)]
    rows: dict[str, dict[str, Any]] = {}
    for index, (_, report) in enumerate(reports):
        for req in report["requirements"]:
            row = rows.setdefault(req["id"], {"id": req["id"], "level": req["level"], "subsystem": req["subsystem"],
                                              "title": req["title"], "verdicts": ["not-run"] * len(reports)})
            row["verdicts"][index] = req["verdict"]
    for row in rows.values():
        row["differs"] = len(set(row["verdicts"])) > 1
    ordered = sorted(rows.values(), key=lambda row: not row["differs"])  # stable: profile order within groups
    return {"profile": reports[0][1]["profile"], "vendors": vendors, "requirements": ordered,
            "differences": sum(row["differs"] for row in ordered), "warnings": warnings}


def _width(text: str) -> int:
    """Terminal columns of ``text``: wide and full-width characters (CJK) take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    header = [terminal(cell, newlines=False) for cell in header]
    body = [[terminal(cell, newlines=False) for cell in line] for line in body]
    widths = [max(_width(line[i]) for line in [header, *body]) for i in range(len(header))]

    def row(cells: list[str]) -> str:  # str.ljust counts code points, which misaligns Chinese vendor names
        return "  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(cells, widths)).rstrip()

    return [row(header), row(["-" * w for w in widths])] + [row(line) for line in body]


def render_table(matrix: dict[str, Any]) -> str:
    """The matrix as a plain-text table for a terminal."""
    names = [v["name"] for v in matrix["vendors"]]
    profile = matrix["profile"]
    lines = [f"{terminal(profile['id'], newlines=False)} {terminal(profile['version'], newlines=False)}: {len(names)} reports, "
             f"{matrix['differences']} requirements differ", ""]
    summary = [["verdict", *[v["verdict"] for v in matrix["vendors"]]],
               ["score", *[str(v["score"]) for v in matrix["vendors"]]]]
    summary += [[f"score {s}", *[str(v["subsystems"][s]) for v in matrix["vendors"]]] for s in SUBSYSTEMS]
    summary += [["waivers used", *[str(v["waivers"]) for v in matrix["vendors"]]],
                ["signature", *[v["signed"] for v in matrix["vendors"]]],
                ["suite", *[v["suite"] for v in matrix["vendors"]]]]
    lines += _table(["", *names], summary) + [""]
    body = [[("* " if row["differs"] else "  ") + row["id"], row["level"], *row["verdicts"]]
            for row in matrix["requirements"]]
    lines += _table(["requirement (* differs)", "level", *names], body)
    lines += [f"warning: {terminal(w, newlines=False)}" for w in matrix["warnings"]]
    return "\n".join(lines) + "\n"
