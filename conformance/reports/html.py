"""Self-contained bilingual HTML reports (one file, no network): a profile's report and a bid comparison."""

from __future__ import annotations

import functools
from typing import Any

import jinja2

from .build import SUBSYSTEMS

__all__ = ["TEXT", "render_compare", "render_report"]

TEXT: dict[str, Any] = {
    "verdicts": {
        "conformant": {"zh": "符合", "en": "CONFORMANT"},
        "not-conformant": {"zh": "不符合", "en": "NOT CONFORMANT"},
        "incomplete": {"zh": "不完整", "en": "INCOMPLETE"},
    },
    "subsystems": {
        "infrastructure": {"zh": "基础设施", "en": "Infrastructure"},
        "governance-service": {"zh": "治理与服务", "en": "Governance & service"},
        "guarantee": {"zh": "保障体系", "en": "Guarantee"},
    },
    "filters": {
        "verdict": {"zh": "结论", "en": "Verdict"},
        "level": {"zh": "级别", "en": "Level"},
        "subsystem": {"zh": "子系统", "en": "Sub-system"},
    },
}
_VERDICT_ORDER = ("fail", "inconclusive", "waived", "manual", "pass", "not-applicable")


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("conformance", "templates"),
                              autoescape=True,
                              trim_blocks=False, lstrip_blocks=False)


def _css() -> str:
    return _environment().loader.get_source(_environment(), "_base.css")[0]  # type: ignore[union-attr]


def _colour(score: float | None) -> str:
    if score is None:
        return "#6e7781"
    return "#1a7f37" if score >= 90 else "#9a6700" if score >= 60 else "#cf222e"


def _chart(report: dict[str, Any]) -> list[dict[str, Any]]:
    bars = []
    for name in SUBSYSTEMS:
        sub = report["summary"]["by_subsystem"].get(name)
        if sub and sub["requirements"]:
            bars.append({"label": TEXT["subsystems"][name], "score": sub["score"], "colour": _colour(sub["score"])})
    return bars


def _filters(report: dict[str, Any]) -> dict[str, list[str]]:
    present = {key: {r[key] for r in report["requirements"]} for key in ("verdict", "level", "subsystem")}
    return {
        "verdict": [v for v in _VERDICT_ORDER if v in present["verdict"]],
        "level": [v for v in ("SHALL", "SHOULD", "MAY") if v in present["level"]],
        "subsystem": [v for v in SUBSYSTEMS if v in present["subsystem"]],
    }


def render_report(report: dict[str, Any], *, lang: str = "zh", trust: str | None = None) -> str:
    """The HTML page of one report.json, opening in ``lang`` (zh or en) with a switch to the other.

    ``trust`` is what checking the signature found (``signing.Trust.label``); without it a
    signature block is shown as not verified.
    """
    from .waivers import waiver_lines

    template = _environment().get_template("report.html.j2")
    return template.render(report=report, lang=lang, css=_css(), t=TEXT, chart=_chart(report),
                           filters=_filters(report), trust=trust, notes=waiver_lines(report))


def render_compare(matrix: dict[str, Any], *, lang: str = "zh") -> str:
    """The HTML page of a bid comparison (see ``conformance.reports.compare.compare``)."""
    template = _environment().get_template("compare.html.j2")
    return template.render(m=matrix, lang=lang, css=_css(), t=TEXT)
