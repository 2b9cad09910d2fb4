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
