"""Compare whole bids: every profile of every vendor at once, scored on one evaluation scheme.

Reports are grouped by vendor; each profile's vendors are compared with :func:`.compare.compare` (its row model),
and the rows of all profiles are joined by requirement id. Each vendor is evaluated on the union of its reports
(the worst verdict where two of its reports disagree on a requirement), with machine-checked and attested
requirements counted apart. Every difference names the finding behind each vendor's verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UsageError
from ..escaping import terminal
from ..evaluation import evaluate, is_attested, published_indicators
from .binding import identity_text
from .compare import Row, _table, compare
from .signing import Trust

__all__ = ["compare_bids", "render_bids"]

# worst first: the verdict a vendor gets for a requirement two of its reports disagree on
_WORST = ("fail", "inconclusive", "manual", "waived", "pass", "not-applicable", "not-run")
_COUNTED = ("pass", "fail", "inconclusive", "manual", "waived", "not-applicable")


def _worst(verdicts: Sequence[str]) -> str:
    return min(verdicts, key=lambda v: _WORST.index(v) if v in _WORST else 0, default="not-run")


def _group(reports: Sequence[tuple[str, dict[str, Any]]], trust: Sequence[Trust]) -> dict[str, list[tuple[dict[str, Any], Trust]]]:
    vendors: dict[str, list[tuple[dict[str, Any], Trust]]] = {}
    for (name, report), verdict in zip(reports, trust):
        held = vendors.setdefault(name, [])
        if any(r["profile"]["id"] == report["profile"]["id"] for r, _ in held):
            raise UsageError(f"{name} has two reports of profile {report['profile']['id']!r}; give each vendor one "
                             "report per profile (name them with --name, one per report)")
        held.append((report, verdict))
    return vendors


def _target(reports: list[tuple[dict[str, Any], Trust]]) -> dict[str, Any]:
    """Where and when a vendor's reports were made: base URLs, declared identity, run dates and seeds."""
    targets = [r.get("target") or {} for r, _ in reports]
    identities = [t["platform"] for t in targets if isinstance(t.get("platform"), dict)]
    return {
        "base_urls": sorted({str(t.get("base_url")) for t in targets if t.get("base_url")}),
        "reference_platform": any(t.get("reference_platform") for t in targets),
        "faults": sorted({f for t in targets for f in t.get("faults") or []}),
        "identity": identities[0] if identities else None,
        "identities_differ": len({tuple(sorted(i.items())) for i in identities}) > 1,
        "tls_fingerprints": sorted({t["tls_fingerprint"] for t in targets if t.get("tls_fingerprint")}),
        "started": sorted({str(r.get("started_at", ""))[:10] for r, _ in reports}),
        "seeds": sorted({r.get("seed") for r, _ in reports if r.get("seed") is not None}),
        "interrupted": [r["profile"]["id"] for r, _ in reports if r.get("interrupted")],
    }


def _union(reports: list[tuple[dict[str, Any], Trust]]) -> tuple[list[dict[str, Any]], list[str], list[dict[str, Any]]]:
    """The vendor's requirement entries over all its reports (the worst where they disagree), ids not run, indicators."""
    entries: dict[str, dict[str, Any]] = {}
    for report, _ in reports:
        for entry in report.get("requirements", []):
            held = entries.get(entry["id"])
            if held is None or _worst([held["verdict"], entry["verdict"]]) != held["verdict"]:
                entries[entry["id"]] = entry
    not_run = list(dict.fromkeys(i for report, _ in reports for i in report.get("selection", {}).get("not_run", [])
                                 if i not in entries))
    published = {i["id"]: i for report, _ in reports for i in published_indicators(report)}
    return list(entries.values()), not_run, list(published.values())


def _counts(entries: list[dict[str, Any]], not_run: list[str]) -> dict[str, dict[str, int]]:
    """Machine-checked and attested requirements counted apart, by verdict."""
    counts = {basis: dict.fromkeys(_COUNTED, 0) for basis in ("machine", "attested")}
    for entry in entries:
        counts["attested" if is_attested(entry) else "machine"][entry["verdict"]] += 1
    counts["machine"]["not-run"] = len(not_run)
    return counts


def _finding(entry: Mapping[str, Any] | None) -> dict[str, str]:
    """What stands behind a vendor's verdict on a requirement: the first finding of a check with that verdict."""
    if entry is None:
        return {"code": "", "message": "not run"}
    for check in entry.get("checks", []):
        if check.get("verdict") == entry["verdict"]:
            for finding in check.get("findings", []):
                if finding.get("verdict") == entry["verdict"]:
                    return {"code": str(finding.get("code") or ""), "message": str(finding.get("message", ""))}
            return {"code": "", "message": str(check.get("message", ""))}
    return {"code": "", "message": ""}


def compare_bids(reports: Sequence[tuple[str, dict[str, Any]]], *, scheme: Mapping[str, Any],
                 force: bool = False, trust: Sequence[Trust] | None = None) -> dict[str, Any]:
    """Every vendor's bid (``(vendor name, report)`` pairs, any number of profiles each) side by side on ``scheme``."""
    trusts = list(trust) if trust is not None else [Trust("unsigned")] * len(reports)
    grouped = _group(reports, trusts)
    if len(grouped) < 2:
        raise UsageError(f"compare needs the reports of at least two vendors, found {len(grouped)} "
                         f"({', '.join(grouped) or 'none'}); name each report's vendor with --name")
    names = list(grouped)
    profile_ids = list(dict.fromkeys(r["profile"]["id"] for _, r in reports))
    warnings: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    profiles = []
    for profile_id in profile_ids:
        holders = [(n, r) for n in names for r, _ in grouped[n] if r["profile"]["id"] == profile_id]
        held_trust = [t for n in names for r, t in grouped[n] if r["profile"]["id"] == profile_id]
        missing = [n for n in names if n not in {h for h, _ in holders}]
        if missing:
            warnings.append(f"profile {profile_id}: no report from {', '.join(missing)} (its requirements count as "
                            "not run for them)")
        cells = {n: "no report" for n in names}
        for name, report in holders:
            score = report.get("summary", {}).get("score")
            cells[name] = f"{report['verdict']} {score if score is not None else '—'}"
        profiles.append({"id": profile_id, "version": holders[0][1]["profile"]["version"],
                         "title": holders[0][1]["profile"].get("title", {"zh": profile_id, "en": profile_id}),
                         "cells": [cells[n] for n in names],
                         "verdicts": [next((r["verdict"] for h, r in holders if h == n), "not-run") for n in names]})
        if len(holders) >= 2:
            matrix = compare(holders, force=force, trust=held_trust)  # refuses different profile versions unless forced
            warnings += [w for w in matrix["warnings"] if w not in warnings]
            order = [h for h, _ in holders]
            for row in matrix["requirements"]:
                joined = rows.setdefault(row["id"], {**{k: v for k, v in row.items() if k not in ("verdicts", "differs")},
                                                     "by_vendor": {n: [] for n in names}})
                for name, verdict in zip(order, row["verdicts"]):
                    joined["by_vendor"][name].append(verdict)
        else:
            for name, report in holders:
                for entry in report.get("requirements", []):
                    joined = rows.setdefault(entry["id"], {k: entry[k] for k in ("id", "level", "subsystem", "title")}
                                             | {"by_vendor": {n: [] for n in names}})
                    joined["by_vendor"][name].append(entry["verdict"])
    vendors = []
    unions = {}
    every_id = list(dict.fromkeys([*rows, *(i for _, r in reports for i in r.get("selection", {}).get("not_run", []))]))
    for name in names:
        held = grouped[name]
        entries, not_run, indicators = _union(held)
        have = {e["id"] for e in entries}
        not_run += [i for i in every_id if i not in have and i not in not_run]  # another vendor's profile it lacks
        unions[name] = {e["id"]: e for e in entries}
        evaluation = evaluate(entries, not_run, indicators, scheme)
        trusts_held = [t for _, t in held]
        vendors.append({
            "name": name, "target": _target(held), "evaluation": evaluation,
            "counts": _counts(entries, not_run), "uncounted": evaluation["uncounted"],
            "profiles": [r["profile"]["id"] for r, _ in held],
            "signed": ", ".join(sorted({t.label for t in trusts_held})),
            "trusted": all(t.state == "trusted" for t in trusts_held),
            "waivers": sum(len(r.get("waivers_used", [])) for r, _ in held),
        })
        if vendors[-1]["target"]["identities_differ"]:
            warnings.append(f"{name}: its reports name different platform identities")
        if len(vendors[-1]["target"]["base_urls"]) > 1:
            warnings.append(f"{name}: its reports were made against different base URLs")
    table = []
    for row in rows.values():
        verdicts = [_worst(row["by_vendor"][n]) if row["by_vendor"][n] else "not-run" for n in names]
        differs = len(set(verdicts)) > 1
        table.append({**{k: v for k, v in row.items() if k != "by_vendor"}, "verdicts": verdicts, "differs": differs,
                      "findings": [_finding(unions[n].get(row["id"])) if differs and verdicts[i] != "pass" else
                                   {"code": "", "message": ""} for i, n in enumerate(names)]})
    table.sort(key=lambda r: not r["differs"])
    return {"scheme": {k: scheme[k] for k in ("id", "version", "digest", "title")}, "vendors": vendors,
            "rows": [r.to_json() for r in _rows(vendors)], "profiles": profiles, "requirements": table, "differences": sum(r["differs"] for r in table),
            "warnings": warnings}


def _rows(vendors: list[dict[str, Any]]) -> list[Row]:
    """The vendors' summary as :class:`.compare.Row` entries (the one-profile comparison's row model): what each bid
    stands for, its evaluation, and how its passes were reached; text and HTML render the same rows."""
    def row(key: str, zh: str, en: str, cells: Any, cells_zh: Any = None) -> Row:
        return Row(key, {"zh": zh, "en": en}, tuple(str(c) for c in cells),
                   tuple(str(c) for c in cells_zh) if cells_zh is not None else None)

    targets = [v["target"] for v in vendors]
    evaluations = [v["evaluation"] for v in vendors]
    counts = [v["counts"] for v in vendors]

    def tally(basis: str, zh: bool = False) -> list[str]:
        words = _COUNT_WORDS_ZH if zh else {k: k for k in _COUNT_WORDS_ZH}
        return [", ".join(f"{n} {words[k]}" for k, n in c[basis].items() if n) or "—" for c in counts]

    rows = [
        row("target", "被测平台地址", "target", (", ".join(t["base_urls"]) or "—" for t in targets)),
        row("reference_platform", "内置参考平台", "bundled reference platform",
            ("yes: a demonstration, not a vendor's platform" + (f" (faults: {', '.join(t['faults'])})" if t["faults"]
                                                                 else "") if t["reference_platform"] else "no"
             for t in targets),
            ("是:演示用,不是供应商的平台" + (f"(故障:{', '.join(t['faults'])})" if t["faults"] else "")
             if t["reference_platform"] else "否" for t in targets)),
        row("platform", "平台声明的身份", "platform identity", (identity_text(t["identity"]) for t in targets),
            (identity_text(t["identity"]) if t["identity"] else "未声明" for t in targets)),
        row("run_date", "运行日期", "run date", (", ".join(t["started"]) for t in targets)),
        row("seed", "随机种子", "seed", (", ".join(map(str, t["seeds"])) for t in targets)),
        row("interrupted", "中断的运行", "interrupted runs", (", ".join(t["interrupted"]) or "none" for t in targets),
            (", ".join(t["interrupted"]) or "无" for t in targets)),
        row("signature", "签名", "signature", (v["signed"] for v in vendors)),
        row("evaluation.total", "评价总分", "evaluation total", (e["total"] for e in evaluations)),
        row("evaluation.grade", "等级", "grade", (e["grade"]["title"]["en"] for e in evaluations),
            (e["grade"]["title"]["zh"] for e in evaluations)),
        row("evaluation.coverage", "已评权重 %", "weight assessed %", (e["coverage"] for e in evaluations)),
        row("evaluation.points", "总分来源", "points from",
            (f"machine {e['basis']['machine']}, attested {e['basis']['attested']}, published {e['basis']['published']}"
             for e in evaluations),
            (f"机器检验 {e['basis']['machine']},人工声明 {e['basis']['attested']},平台发布 {e['basis']['published']}"
             for e in evaluations)),
        row("requirements.machine", "机器检验的要求", "machine-checked", tally("machine"), tally("machine", zh=True)),
        row("requirements.attested", "人工声明的要求", "attested", tally("attested"), tally("attested", zh=True)),
    ]
    for key, zh in (("inconclusive", "无法判定"), ("manual", "待人工确认"), ("not_run", "未运行")):
        rows.append(row(f"uncounted.{key}", zh, key.replace("_", "-"), (len(v["uncounted"][key]) for v in vendors)))
    rows.append(row("waivers", "已用豁免", "waivers used", (v["waivers"] for v in vendors)))
    return rows


_COUNT_WORDS_ZH = {"pass": "通过", "fail": "不通过", "inconclusive": "无法判定", "manual": "待人工确认",
                   "waived": "已豁免", "not-applicable": "不适用", "not-run": "未运行"}


def render_bids(bids: dict[str, Any]) -> str:
    """The bid comparison as plain text for a terminal (every platform string escaped)."""
    names = [v["name"] for v in bids["vendors"]]
    scheme = bids["scheme"]
    lines = [terminal(f"{len(names)} vendors, {len(bids['profiles'])} profiles, {bids['differences']} requirements "
                      f"differ; evaluated on {scheme['id']} {scheme['version']}", newlines=False), ""]
    lines += _table(["", *names], [[row["label"]["en"], *row["cells"]] for row in bids["rows"]]) + [""]
    lines += _table(["profile", *names], [[p["id"], *p["cells"]] for p in bids["profiles"]]) + [""]
    firsts = [f["id"] for f in bids["vendors"][0]["evaluation"]["indicators"]]
    body = [[first, *[str(next(f["score"] for f in v["evaluation"]["indicators"] if f["id"] == first) or "—")
                      for v in bids["vendors"]]] for first in firsts]
    lines += _table(["indicator (score)", *names], body) + [""]
    body = [[("* " if r["differs"] else "  ") + r["id"], r["level"], *r["verdicts"]] for r in bids["requirements"]]
    lines += _table(["requirement (* differs)", "level", *names], body) + ["", "findings behind each difference:"]
    for row in (r for r in bids["requirements"] if r["differs"]):
        for name, verdict, finding in zip(names, row["verdicts"], row["findings"]):
            if finding["message"]:
                code = f"{finding['code']} " if finding["code"] else ""
                lines.append(terminal(f"  {row['id']} {name} {verdict}: {code}{finding['message']}"[:300], newlines=False))
    lines += [f"warning: {terminal(w, newlines=False)}" for w in bids["warnings"]]
    return "\n".join(lines) + "\n"
