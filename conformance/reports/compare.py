"""Compare vendors' reports of one profile side by side: verdicts, scores, each requirement, differences first.

Each vendor's column says what its report stands for — the target and the platform identity it declares, when and
with which seed it ran — and marks what a buyer must not mistake for a vendor's certificate: a run of the bundled
reference platform, an interrupted run, passes a person attested rather than the suite checked. The summary is a
list of rows (:class:`Row`: a key, a label in both languages, one cell per report) that the text table and the HTML
page both render, so a later column or row is one more entry, not another layout.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..escaping import terminal
from ..evaluation import is_attested
from .binding import identity_text
from .build import SUBSYSTEMS
from .signing import Trust, suite_problems

__all__ = ["Row", "compare", "render_table"]


@dataclass(frozen=True)
class Row:
    """One line of the summary: ``key`` for programs, ``label`` (zh, en) for people, one cell per report (in
    English; ``cells_zh`` where a cell holds fixed words that Chinese says otherwise)."""

    key: str
    label: Mapping[str, str]
    cells: tuple[str, ...]
    cells_zh: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": dict(self.label), "cells": list(self.cells),
                "cells_zh": list(self.cells_zh) if self.cells_zh is not None else list(self.cells)}


_SUBSYSTEM_LABELS = {"infrastructure": "基础设施", "governance-service": "治理与服务", "guarantee": "保障体系"}


def _run(report: Mapping[str, Any]) -> dict[str, Any]:
    """What a report stands for: its target, declared identity, certificate, run date, seed, and how it passed."""
    given = report.get("target")
    target: Mapping[str, Any] = given if isinstance(given, dict) else {}
    passed = [r for r in report["requirements"] if r.get("verdict") == "pass"]
    attested = sum(1 for r in passed if is_attested(r))
    return {"base_url": target.get("base_url"), "reference_platform": bool(target.get("reference_platform")),
            "faults": list(target.get("faults") or []), "platform": target.get("platform"),
            "tls_fingerprint": target.get("tls_fingerprint"), "started_at": report.get("started_at"),
            "seed": report.get("seed"), "interrupted": bool(report.get("interrupted")),
            "passes": {"machine": len(passed) - attested, "attested": attested}}


def _target_cell(run: Mapping[str, Any], zh: bool = False) -> str:
    if run["reference_platform"]:
        faults = ", ".join(map(str, run["faults"]))
        if zh:
            return f"内置参考平台{'(故障:' + faults + ')' if faults else ''} ({run['base_url']})"
        return f"bundled reference platform{', faults: ' + faults if faults else ''} ({run['base_url']})"
    return str(run["base_url"])


def _rows(vendors: list[dict[str, Any]]) -> list[Row]:
    def row(key: str, zh: str, en: str, cells: Any, cells_zh: Any = None) -> Row:
        return Row(key, {"zh": zh, "en": en}, tuple(str(c) for c in cells),
                   tuple(str(c) for c in cells_zh) if cells_zh is not None else None)

    runs = [v["run"] for v in vendors]
    rows = [row("verdict", "结论", "verdict", (v["verdict"] for v in vendors)),
            row("score", "得分", "score", (v["score"] for v in vendors))]
    rows += [row(f"score.{s}", f"{_SUBSYSTEM_LABELS[s]}得分", f"score {s}", (v["subsystems"][s] for v in vendors))
             for s in SUBSYSTEMS]
    rows += [
        row("passes.machine", "机器检验通过", "passes machine-checked", (r["passes"]["machine"] for r in runs)),
        row("passes.attested", "人工声明通过(自证)", "passes self-attested", (r["passes"]["attested"] for r in runs)),
        row("waivers", "已用豁免", "waivers used", (v["waivers"] for v in vendors)),
        row("target", "被测平台", "target", (_target_cell(r) for r in runs), (_target_cell(r, zh=True) for r in runs)),
        row("platform", "平台声明的身份", "platform identity", (identity_text(r["platform"]) for r in runs),
            (identity_text(r["platform"]) if r["platform"] else "未声明" for r in runs)),
        row("certificate", "TLS 证书", "TLS certificate", (r["tls_fingerprint"] or "none (http)" for r in runs),
            (r["tls_fingerprint"] or "无(http)" for r in runs)),
        row("run_date", "运行日期", "run date", (r["started_at"] for r in runs)),
        row("seed", "随机种子", "seed", (r["seed"] for r in runs)),
        row("interrupted", "运行中断", "interrupted", ("yes: partial report" if r["interrupted"] else "no"
                                                          for r in runs),
            ("是:报告不完整" if r["interrupted"] else "否" for r in runs)),
        row("signature", "签名", "signature", (v["signed"] for v in vendors)),
        row("suite", "测试套件", "suite", (v["suite"] for v in vendors)),
    ]
    return rows


def _marks(vendors: list[dict[str, Any]]) -> list[str]:
    """Warnings a reader must see: a column that is no vendor's certificate, or not the whole of one."""
    marks = []
    for vendor in vendors:
        run = vendor["run"]
        if run["reference_platform"]:
            marks.append(f"{vendor['name']}: a run of the bundled reference platform (a demonstration), not of a "
                         "vendor's platform")
        if run["interrupted"]:
            marks.append(f"{vendor['name']}: the run was interrupted; its report is partial")
        if run["passes"]["attested"]:
            marks.append(f"{vendor['name']}: {run['passes']['attested']} passes rest on the vendor's own "
                         "attestation, not on a check the suite made")
    return marks


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
                "subsystems": {s: r["summary"]["by_subsystem"].get(s, {}).get("score") for s in SUBSYSTEMS},
                "run": _run(r)}
               for i, (name, r) in enumerate(reports)]
    digests = {r["suite"].get("digest") for _, r in reports}
    if len(digests) > 1:
        warnings.append("the reports were made by suites with different code digests (see `suite`): a modified "
                        "copy of the suite may have made one of them")
    for vendor, (_, report) in zip(vendors, reports):
        warnings += [f"{vendor['name']}: {problem}" for problem in suite_problems(report)]
    warnings += _marks(vendors)
    rows: dict[str, dict[str, Any]] = {}
    for index, (_, report) in enumerate(reports):
        for req in report["requirements"]:
            row = rows.setdefault(req["id"], {"id": req["id"], "level": req["level"], "subsystem": req["subsystem"],
                                              "title": req["title"], "verdicts": ["not-run"] * len(reports)})
            row["verdicts"][index] = req["verdict"]
    for row in rows.values():
        row["differs"] = len(set(row["verdicts"])) > 1
    ordered = sorted(rows.values(), key=lambda row: not row["differs"])  # stable: profile order within groups
    return {"profile": reports[0][1]["profile"], "vendors": vendors, "rows": [r.to_json() for r in _rows(vendors)],
            "requirements": ordered, "differences": sum(row["differs"] for row in ordered), "warnings": warnings}


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
    summary = [[row["label"]["en"], *row["cells"]] for row in matrix["rows"]]
    lines += _table(["", *names], summary) + [""]
    body = [[("* " if row["differs"] else "  ") + row["id"], row["level"], *row["verdicts"]]
            for row in matrix["requirements"]]
    lines += _table(["requirement (* differs)", "level", *names], body)
    lines += [f"warning: {terminal(w, newlines=False)}" for w in matrix["warnings"]]
    return "\n".join(lines) + "\n"
