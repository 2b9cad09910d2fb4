"""Bid comparison of real reports: differences first, refusal across profile versions unless forced."""

import json
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.errors import UsageError
from conformance.reports.compare import compare, render_table
from conformance.reports.html import render_compare


def load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def test_differences_come_first(runs):
    matrix = compare([("vendor-a", load(runs["clean"])), ("vendor-b", load(runs["faulty"]))])
    assert matrix["differences"] == 2
    first_two = matrix["requirements"][:2]
    assert {r["id"] for r in first_two} == {"CORE-HTTP-001", "CORE-PAGE-002"}
    assert all(r["verdicts"] == ["pass", "fail"] and r["differs"] for r in first_two)
    assert not any(r["differs"] for r in matrix["requirements"][2:])
    assert [v["verdict"] for v in matrix["vendors"]] == ["conformant", "not-conformant"]
    assert matrix["vendors"][1]["subsystems"]["infrastructure"] < 100


def test_different_profile_versions_are_refused_with_the_reason(runs):
    other = load(runs["faulty"])
    other["profile"]["version"] = "2.0.0"
    with pytest.raises(UsageError, match=r"profile version '2.0.0'.*--force"):
        compare([("a", load(runs["clean"])), ("b", other)])
    forced = compare([("a", load(runs["clean"])), ("b", other)], force=True)
    assert forced["warnings"] and "warning:" in render_table(forced)


def test_cli_compare_prints_a_table_and_writes_html(runs, tmp_path, capsys):
    assert main(["report", "compare", str(runs["clean"]), str(runs["faulty"]), "--html", str(tmp_path / "bids.html")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "2 requirements differ" in lines[0]
    assert "clean" in out and "faulty" in out  # vendors named after their report directories
    rows = [line for line in lines if line.startswith(("* ", "  CORE"))]
    assert rows[0].startswith("* CORE-") and rows[1].startswith("* CORE-") and rows[2].startswith("  CORE-")
    html = (tmp_path / "bids.html").read_text(encoding="utf-8")
    assert html.count('class="diff"') == 2 and "<script src" not in html


def test_compare_html_renders_both_languages(runs):
    html = render_compare(compare([("a", load(runs["clean"])), ("b", load(runs["faulty"]))]), lang="en")
    assert '<html lang="en">' in html and "符合性比较" in html and "Conformance comparison" in html


def test_one_report_is_not_a_comparison(runs):
    with pytest.raises(UsageError, match="at least two"):
        compare([("a", load(runs["clean"]))])


def test_text_table_pads_chinese_vendor_names_by_display_width(runs):
    import unicodedata

    matrix = compare([("甲公司", load(runs["clean"])), ("vendor-b", load(runs["faulty"])), ("乙", load(runs["faulty"]))])
    lines = render_table(matrix).splitlines()

    def width(text):
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    header = next(line for line in lines if line.startswith("requirement (* differs)"))
    rule = lines[lines.index(header) + 1]
    row = next(line for line in lines if line.startswith("* CORE-HTTP-001"))
    # every column starts at the same terminal column in the header, the rule and a row
    starts = [width(rule[:i]) for i in range(len(rule)) if rule[i] == "-" and (i == 0 or rule[i - 1] == " ")]
    for name in ("vendor-b", "乙"):
        assert width(header[:header.index(name)]) in starts
    cells = row.split()
    assert cells[-3:] == ["pass", "fail", "fail"]
    assert width(row[:row.rindex("fail")]) == starts[-1]
    assert width(row[:row.index("pass")]) == starts[2] == width(header[:header.index("甲公司")])


def _row(matrix, key):
    return next(row for row in matrix["rows"] if row["key"] == key)


def test_each_column_says_what_its_report_stands_for(runs):
    clean, faulty = load(runs["clean"]), load(runs["faulty"])
    matrix = compare([("a", clean), ("b", faulty)])
    assert _row(matrix, "seed")["cells"] == ["7", "7"]
    assert _row(matrix, "run_date")["cells"] == [clean["started_at"], faulty["started_at"]]
    assert _row(matrix, "platform")["cells"] == ["Reference platform 1.0.0, Smart Community Conformance Suite"] * 2
    target = _row(matrix, "target")
    assert target["cells"][0] == f"bundled reference platform ({clean['target']['base_url']})"
    assert target["cells"][1].startswith("bundled reference platform, faults: content-type-text, page-ignores-limit")
    assert target["cells_zh"][0].startswith("内置参考平台")
    assert _row(matrix, "interrupted")["cells"] == ["no", "no"]
    assert sum(1 for w in matrix["warnings"] if "bundled reference platform (a demonstration)" in w) == 2
    table = render_table(matrix)
    for label in ("target", "platform identity", "TLS certificate", "run date", "seed", "interrupted",
                  "passes machine-checked", "passes self-attested"):
        assert any(line.startswith(label + " ") for line in table.splitlines()), label


def test_interrupted_runs_and_self_attested_passes_are_marked_apart(runs):
    vendor, other = load(runs["clean"]), load(runs["clean"])
    vendor["interrupted"] = True
    vendor["target"] = {**vendor["target"], "reference_platform": False, "base_url": "https://bid.example/api",
                        "platform": {"name": "Bid\x1b[31m", "vendor": "甲公司", "version": "2.1"},
                        "tls_fingerprint": "sha256:" + "c" * 64}
    first = vendor["requirements"][0]
    first["checks"] = [{"name": "institutions.attested", "params": {"topic": "x"}, "verdict": "pass",
                        "message": "attested by a vendor's manager", "findings": [], "evidence": []}]
    matrix = compare([("vendor", vendor), ("other", other)])
    assert _row(matrix, "passes.attested")["cells"] == ["1", "0"]
    passes = sum(1 for r in other["requirements"] if r["verdict"] == "pass")
    assert _row(matrix, "passes.machine")["cells"] == [str(passes - 1), str(passes)]
    assert _row(matrix, "interrupted")["cells"] == ["yes: partial report", "no"]
    assert _row(matrix, "certificate")["cells"] == ["sha256:" + "c" * 64, "none (http)"]
    assert any("vendor: the run was interrupted" in w for w in matrix["warnings"])
    assert any("vendor: 1 passes rest on the vendor's own attestation" in w for w in matrix["warnings"])
    table = render_table(matrix)
    assert "\x1b" not in table and "Bid\\x1b[31m 2.1, 甲公司" in table  # a platform's string is escaped
    html = render_compare(matrix, lang="zh")
    assert "\x1b" not in html and "是:报告不完整" in html and "https://bid.example/api" in html
