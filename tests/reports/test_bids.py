"""Whole bids compared: every profile of two vendors at once, on an evaluation scheme, text and HTML in zh and en."""

import copy
import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from report_runs import run_cli

from conformance.cli import main
from conformance.errors import UsageError
from conformance.evaluation import load_scheme
from conformance.reports.bids import compare_bids, render_bids
from conformance.reports.html import render_bids as render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
VENDORS = {"vendor-a": (), "vendor-b": ("--fault", "content-type-text")}  # vendor-b fails CORE-HTTP-001


@pytest.fixture(scope="session")
def bids(tmp_path_factory):
    """``{vendor: [report.json paths]}``: every bundled profile run against the reference platform, once per session."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    root = base / "sc-bid-runs"
    root.mkdir(exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            for vendor, args in VENDORS.items():
                done = run_cli("run", "-q", "--seed", "11", "--report-dir", f"{vendor}/reports", *args, cwd=root)
                assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr
            (root / "done").write_text("ok")
    return {vendor: sorted((root / vendor / "reports").glob("*/report.json")) for vendor in VENDORS}


def load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def pairs(bids, **renamed):
    return [(renamed.get(vendor, vendor), load(path)) for vendor, paths in bids.items() for path in paths]


def test_two_vendors_with_all_their_profiles_compare_in_text_and_html(bids, tmp_path, capsys):
    paths = [str(p) for vendor in bids.values() for p in vendor]
    assert len(paths) >= 10  # every bundled profile, both vendors
    assert main(["report", "compare", *paths, "--html", str(tmp_path / "bids.html"), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("2 vendors, ") and "evaluated on national 1.0.0" in lines[0]
    assert any(line.split() == ["vendor-a", "vendor-b"] for line in lines)
    for label in ("target", "bundled reference platform", "platform identity", "run date", "seed", "interrupted runs",
                  "evaluation total", "grade", "weight assessed %", "points from", "machine-checked", "attested",
                  "inconclusive", "manual", "not-run"):
        assert any(line.startswith(label + " ") for line in lines), label
    reference = next(line for line in lines if line.startswith("bundled reference platform"))
    assert reference.count("yes: a demonstration, not a vendor's platform") == 2
    assert "(faults: content-type-text)" in reference
    profile_rows = {line.split()[0] for line in lines if line.split() and line.split()[0] in
                    {p.parent.name for p in bids["vendor-a"]}}
    assert profile_rows == {p.parent.name for p in bids["vendor-a"]}
    assert "* CORE-HTTP-001" in out
    finding = next(line for line in lines if line.startswith("  CORE-HTTP-001 vendor-b fail: "))
    assert "SC" in finding  # the finding's code and message behind the difference
    html = (tmp_path / "bids.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "投标比较" in html and "Bid comparison" in html
    assert 'data-requirement="CORE-HTTP-001"' in html and html.count('class="diff"') == out.count("\n* ")


def test_each_vendor_is_evaluated_on_every_profile_and_the_scheme(bids):
    result = compare_bids(pairs(bids), scheme=load_scheme())
    a, b = result["vendors"]
    assert a["target"]["reference_platform"] and b["target"]["faults"] == ["content-type-text"]
    assert a["target"]["seeds"] == [11] and a["target"]["started"]
    assert a["evaluation"]["total"] == 100.0 and b["evaluation"]["total"] < a["evaluation"]["total"]
    assert a["evaluation"]["coverage"] > 60  # every profile: most of the national scheme is assessed
    assert a["counts"]["attested"]["pass"] == 3 and a["counts"]["machine"]["pass"] > 100  # GUA-INST-* apart
    assert {p["id"] for p in result["profiles"]} >= {"core", "guarantee", "infrastructure", "governance-service"}
    differing = [r for r in result["requirements"] if r["differs"]]
    assert differing and differing[0] is result["requirements"][0]
    http = next(r for r in differing if r["id"] == "CORE-HTTP-001")
    assert http["verdicts"] == ["pass", "fail"] and http["findings"][1]["code"].startswith("SC")
    assert http["findings"][0] == {"code": "", "message": ""}


def test_a_buyers_weights_change_the_totals_and_nothing_else(bids, tmp_path):
    weights = tmp_path / "weights.yaml"
    weights.write_text("weights: {platform: 80, safety: 5}\n", encoding="utf-8")
    before = compare_bids(pairs(bids), scheme=load_scheme())
    after = compare_bids(pairs(bids), scheme=load_scheme(weights))
    assert after["scheme"]["id"] == "national-weighted"
    assert after["vendors"][1]["evaluation"]["total"] != before["vendors"][1]["evaluation"]["total"]
    for old, new in zip(before["vendors"], after["vendors"]):
        assert [f["score"] for f in old["evaluation"]["indicators"]] == [f["score"] for f in new["evaluation"]["indicators"]]
        assert old["counts"] == new["counts"] and old["target"] == new["target"]
    assert before["requirements"] == after["requirements"]


def test_interrupted_runs_manual_inconclusive_and_missing_profiles_are_shown(bids):
    reports = pairs(bids)
    a_core = next(r for v, r in reports if v == "vendor-a" and r["profile"]["id"] == "core")
    a_core["interrupted"] = True
    guarantee = next(r for v, r in reports if v == "vendor-a" and r["profile"]["id"] == "guarantee")
    for entry in guarantee["requirements"]:
        if entry["id"] == "GUA-INST-001":
            entry["verdict"] = "manual"
        if entry["id"] == "GUA-PRIV-001":
            entry["verdict"] = "inconclusive"
    reports = [(v, r) for v, r in reports if not (v == "vendor-b" and r["profile"]["id"] == "guarantee")]
    result = compare_bids(reports, scheme=load_scheme())
    a, b = result["vendors"]
    assert a["target"]["interrupted"] == ["core"]
    assert a["uncounted"]["manual"] == ["GUA-INST-001"] and a["uncounted"]["inconclusive"] == ["GUA-PRIV-001"]
    assert a["counts"]["attested"] == {**a["counts"]["attested"], "pass": 2, "manual": 1}
    assert "GUA-AUTHN-001" in b["uncounted"]["not_run"]  # vendor-b sent no guarantee report: not run, never a pass
    assert any("profile guarantee: no report from vendor-b" in w for w in result["warnings"])
    text = render_bids(result)
    assert next(line for line in text.splitlines() if line.startswith("interrupted runs")).split()[2] == "core"
    html = render_html(result, lang="zh")
    assert 'class="tag v-fail interrupted"' in html and 'class="tag v-manual reference"' in html
    assert [row["key"] for row in result["rows"]][:3] == ["target", "reference_platform", "platform"]
    attested = next(row for row in result["rows"] if row["key"] == "requirements.attested")
    assert attested["cells"][0] == "2 pass, 1 manual" and attested["cells_zh"][0] == "2 通过, 1 待人工确认"


def test_every_platform_string_is_escaped(bids):
    reports = pairs(bids, **{"vendor-b": "<img src=x onerror=alert(1)>\x1b[31m"})
    for _, report in reports:
        report["target"]["platform"] = {"name": "<script>alert(2)</script>", "vendor": "乙", "version": "1"}
    result = compare_bids(reports, scheme=load_scheme())
    html = render_html(result, lang="en")
    assert "<img src=x" not in html and "<script>alert(2)" not in html and "&lt;script&gt;alert(2)" in html
    assert "\x1b" not in html and "\x1b" not in render_bids(result)


def test_one_vendor_is_not_a_bid_comparison(bids):
    with pytest.raises(UsageError, match="at least two vendors"):
        compare_bids([("a", load(p)) for p in bids["vendor-a"]], scheme=load_scheme())
    with pytest.raises(UsageError, match="two reports of profile 'core'"):
        core = next(p for p in bids["vendor-a"] if p.parent.name == "core")
        compare_bids([("a", load(core)), ("a", load(core)), ("b", load(core))], scheme=load_scheme())


def test_a_broken_weights_file_is_one_line_and_exit_2(bids, tmp_path, capsys):
    weights = tmp_path / "weights.yaml"
    weights.write_text("weights: {safty: 5}\n", encoding="utf-8")
    paths = [str(p) for vendor in bids.values() for p in vendor[:1]]
    assert main(["report", "compare", *paths, "--weights", str(weights)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "weights.yaml: weights.safty: no indicator 'safty'" in err and "safety" in err


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                    reason="needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chromium_keeps_the_bid_pages_layout(bids, tmp_path, lang):
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install selenium)")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    reports = pairs(bids)
    third = [("供应商丙(联合体)", copy.deepcopy(r)) for v, r in reports if v == "vendor-a"]
    for _, report in third:
        report["target"]["base_url"] = "https://very-long-host-name.platform.vendor-c.example.com/api/v1/" + "x" * 60
    page = tmp_path / f"bids-{lang}.html"
    page.write_text(render_html(compare_bids(reports + third, scheme=load_scheme()), lang=lang), encoding="utf-8")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1000,1400"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.get(page.as_uri())
        assert driver.find_element(By.TAG_NAME, "h1").text == ("投标比较" if lang == "zh" else "Bid comparison")
        # every row header: its visible text laid out in lines of many characters, never one character per line
        measured = driver.execute_script("""
            return Array.from(document.querySelectorAll('th[scope=row]')).map(function (th) {
              var span = Array.from(th.querySelectorAll('span.' + document.documentElement.lang))
                              .find(function (s) { return s.offsetParent !== null; });
              var range = document.createRange(); range.selectNodeContents(span || th);
              var lines = new Set(Array.from(range.getClientRects()).map(function (r) { return Math.round(r.top); }));
              return {table: th.closest('table').id, text: (span || th).textContent, width: th.getBoundingClientRect().width,
                      lines: lines.size, chars: (span || th).textContent.length,
                      font: parseFloat(getComputedStyle(th).fontSize)};
            });""")
        assert len(measured) > 50
        for cell in measured:
            assert cell["width"] >= 10 * cell["font"], cell
            limit = 2 if cell["table"] in ("vendors", "profiles", "indicators") else 4
            assert cell["lines"] <= limit, cell
            assert cell["chars"] / cell["lines"] >= 2 or cell["chars"] < 2, cell
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, overflow
        first = driver.find_element(By.CSS_SELECTOR, "#vendors th[scope=row]").text
        assert first == ("被测平台地址" if lang == "zh" else "target")
        driver.save_screenshot(str(tmp_path / f"bids-{lang}.png"))
        print(f"screenshot: {tmp_path / f'bids-{lang}.png'}")
    finally:
        driver.quit()
