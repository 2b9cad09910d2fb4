"""Self-contained bilingual HTML reports (one file, no network): a profile's report and a bid comparison."""

from __future__ import annotations

import functools
import re
from typing import Any

import jinja2
import markupsafe

from ..codes import finding_codes
from ..escaping import terminal
from .build import SUBSYSTEMS
from .evidence import headers_about, shown_exchanges

__all__ = ["TEXT", "render_bids", "render_compare", "render_report"]

# Every fixed text of the pages, in both languages (the page shows one, the switch the other).
TEXT: dict[str, Any] = {
    "verdicts": {
        "conformant": {"zh": "符合", "en": "CONFORMANT"},
        "not-conformant": {"zh": "不符合", "en": "NOT CONFORMANT"},
        "incomplete": {"zh": "不完整", "en": "INCOMPLETE"},
    },
    "outcomes": {  # a requirement's or check's verdict
        "pass": {"zh": "通过", "en": "pass"},
        "fail": {"zh": "不通过", "en": "fail"},
        "inconclusive": {"zh": "无法判定", "en": "inconclusive"},
        "not-applicable": {"zh": "不适用", "en": "not-applicable"},
        "manual": {"zh": "待人工确认", "en": "manual"},
        "waived": {"zh": "已豁免", "en": "waived"},
        "not-run": {"zh": "未运行", "en": "not-run"},
    },
    "levels": {  # the normative keywords as GB/T 1.1 writes them
        "SHALL": {"zh": "应", "en": "SHALL"},
        "SHOULD": {"zh": "宜", "en": "SHOULD"},
        "MAY": {"zh": "可", "en": "MAY"},
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
        "all": {"zh": "全部", "en": "all"},
    },
    "labels": {
        "switch": {"zh": "English", "en": "中文"},
        "score": {"zh": "得分", "en": "Score"},
        "requirements": {"zh": "要求", "en": "Requirements"},
        "requirement_count": {"zh": "要求数", "en": "requirements"},
        "score_per_subsystem": {"zh": "各子系统得分", "en": "Score per sub-system"},
        "target": {"zh": "被测平台", "en": "target"},
        "seed": {"zh": "随机种子", "en": "seed"},
        "profile_digest": {"zh": "测试规范摘要", "en": "profile"},
        "schemas_digest": {"zh": "模式摘要", "en": "schemas"},
        "signed": {"zh": "已签名", "en": "signed"},
        "rule": {"zh": "规则", "en": "Rule"},
        "waivers_used": {"zh": "使用豁免", "en": "waiver(s) used"},
        "waived": {"zh": "已豁免", "en": "waived"},
        "was": {"zh": "原结论", "en": "was"},
        "approver": {"zh": "批准人", "en": "approved by"},
        "expires": {"zh": "有效期至", "en": "until"},
        "more_findings": {"zh": "另有更多发现,见 report.json", "en": "more findings in report.json"},
        "expected": {"zh": "应为", "en": "expected"},
        "found": {"zh": "实际", "en": "found"},
        "fix": {"zh": "修复方法", "en": "how to fix"},
        "explain": {"zh": "完整说明(检查项及使用它的要求)", "en": "in full, with its check and the requirements using it"},
        "proves": {"zh": "证明该结论的请求与响应", "en": "the exchange that shows it"},
        "last": {"zh": "最后一次请求与响应", "en": "the last exchange"},
        "reproduce": {"zh": "复现", "en": "reproduce"},
        "no_score": {"zh": "无", "en": "n/a"},
        "comparison": {"zh": "符合性比较", "en": "Conformance comparison"},
        "differ": {"zh": "项要求有差异", "en": "requirements differ"},
        "verdict": {"zh": "结论", "en": "Verdict"},
    },
    "evaluation": {  # the evaluation on a scheme (conformance.evaluation)
        "title": {"zh": "评价", "en": "Evaluation"},
        "scheme": {"zh": "评价方案", "en": "scheme"},
        "total": {"zh": "总分", "en": "Total"},
        "grade": {"zh": "等级", "en": "Grade"},
        "coverage": {"zh": "已评权重", "en": "weight assessed"},
        "indicator": {"zh": "指标", "en": "Indicator"},
        "weight": {"zh": "权重", "en": "Weight"},
        "share": {"zh": "占总分", "en": "share of total"},
        "method": {"zh": "方法", "en": "Method"},
        "score": {"zh": "得分", "en": "Score"},
        "inputs": {"zh": "依据", "en": "Inputs"},
        "not_assessed": {"zh": "未评(无依据,不计入)", "en": "not assessed (no input; left out)"},
        "earned": {"zh": "得", "en": "earned"},
        "of": {"zh": "/", "en": "of"},
        "mean": {"zh": "最近一期平均", "en": "latest period mean"},
        "values": {"zh": "个值", "en": "values"},
        "no_values": {"zh": "平台未发布此类指标值(本次运行自己写入的记录不计)", "en": "the platform published no value of this kind (the run's own records do not count)"},
        "left_out_attested": {"zh": "人工声明的要求由声明类指标计分", "en": "attested by a person: counted by an attestations indicator"},
        "left_out_machine": {"zh": "机器检验的要求由机器检验类指标计分", "en": "machine-checked: counted by a requirements indicator"},
        "left_out": {"zh": "未计入", "en": "left out"},
        "uncounted": {"zh": "不计为通过", "en": "never counted as passes"},
        "points": {"zh": "总分来源", "en": "points from"},
        "formula": {"zh": "总分 = Σ 占比 × 得分 ÷ Σ 已评占比;只有通过得分", "en": "total = Σ share × score ÷ Σ share assessed; only a pass earns"},
    },
    "bids": {  # the whole-bid comparison (reports/bids.py)
        "title": {"zh": "投标比较", "en": "Bid comparison"},
        "vendors": {"zh": "家供应商", "en": "vendors"},
        "profiles": {"zh": "个测试规范", "en": "profiles"},
        "vendors_heading": {"zh": "供应商与被测平台", "en": "Vendors and platforms under test"},
        "profiles_heading": {"zh": "各测试规范结论", "en": "Verdict per profile"},
        "target": {"zh": "被测平台地址", "en": "Target"},
        "reference": {"zh": "内置参考平台", "en": "Bundled reference platform"},
        "is_reference": {"zh": "是(演示用,不是供应商的平台)", "en": "yes (a demonstration, not the vendor's platform)"},
        "faults": {"zh": "故障", "en": "faults"},
        "no": {"zh": "否", "en": "no"},
        "none": {"zh": "无", "en": "none"},
        "identity": {"zh": "平台声明的身份", "en": "Declared platform identity"},
        "not_declared": {"zh": "未声明", "en": "not declared"},
        "run_date": {"zh": "运行日期", "en": "Run date"},
        "interrupted": {"zh": "中断的运行", "en": "Interrupted runs"},
        "interrupted_yes": {"zh": "已中断", "en": "interrupted"},
    },
    "basis": {  # where an indicator's score comes from: kept apart on every page
        "machine": {"zh": "机器检验", "en": "machine-checked"},
        "attested": {"zh": "人工声明", "en": "attested"},
        "published": {"zh": "平台发布的指标值", "en": "published values"},
    },
    "uncounted": {
        "inconclusive": {"zh": "无法判定", "en": "inconclusive"},
        "manual": {"zh": "待人工确认", "en": "manual"},
        "not_run": {"zh": "未运行", "en": "not run"},
    },
}
_VERDICT_ORDER = ("fail", "inconclusive", "waived", "manual", "pass", "not-applicable")


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.PackageLoader("conformance", "templates"),
                                     autoescape=True, finalize=_shown,
                                     trim_blocks=False, lstrip_blocks=False)
    environment.globals.update(t=TEXT, shown_exchanges=shown_exchanges, headers_about=headers_about,
                               codes_of=_codes_of)
    return environment


def _inline(text: str) -> markupsafe.Markup:
    """A code's text (``codes.yaml``) as HTML: escaped, its `names` in <code>."""
    return markupsafe.Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(markupsafe.escape(text))))


def _codes_of(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The finding codes of ``findings`` in order of first appearance, each with what it means and how to fix it in
    zh and en (``checks/codes.yaml``); a code this suite does not know (a report of another version) has neither."""
    known = finding_codes()
    shown: list[dict[str, Any]] = []
    for code in dict.fromkeys(f["code"] for f in findings if isinstance(f.get("code"), str)):
        entry = known.get(code)
        shown.append({"code": code,
                      "title": {"zh": _inline(entry.title_zh), "en": _inline(entry.title)} if entry else None,
                      "fix": {"zh": _inline(entry.fix_zh), "en": _inline(entry.fix)} if entry else None})
    return shown


def _shown(value: Any) -> Any:
    """Every value a page prints, before autoescaping: platform and report text with its control characters
    (terminal escapes, bidi overrides) and lone surrogates shown as ``\\x1b``, so a page printed to a terminal
    (``report html -``) or saved cannot carry them. Our own markup (the stylesheet) is left as it is."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return terminal(value)
    return value


def _css() -> markupsafe.Markup:
    """The stylesheet, ours and trusted: autoescaping it turned every quoted font name into ``&#34;`` and
    the browser dropped the whole font stack (Chinese fell back to whatever the machine had, or boxes)."""
    return markupsafe.Markup(_environment().loader.get_source(_environment(), "_base.css")[0])  # type: ignore[union-attr]


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
    return template.render(report=report, lang=lang, css=_css(), chart=_chart(report), filters=_filters(report),
                           trust=trust, notes=waiver_lines(report))


def render_compare(matrix: dict[str, Any], *, lang: str = "zh") -> str:
    """The HTML page of a bid comparison (see ``conformance.reports.compare.compare``)."""
    template = _environment().get_template("compare.html.j2")
    return template.render(m=matrix, lang=lang, css=_css())


def render_bids(bids: dict[str, Any], *, lang: str = "zh") -> str:
    """The HTML page of a whole-bid comparison (see ``conformance.reports.bids.compare_bids``)."""
    template = _environment().get_template("bids.html.j2")
    return template.render(b=bids, lang=lang, css=_css())
