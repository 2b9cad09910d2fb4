"""The self-contained HTML report: content checks, and a real headless Chromium for what a vendor sees."""

import json
import shutil
import tempfile
from pathlib import Path

import markupsafe
import pytest

from conformance.cli import main
from conformance.reports.html import TEXT, render_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1200,1600")


def load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def test_html_is_one_file_without_network(runs):
    html = render_report(load(runs["faulty"]))
    assert "<style>" in html and "<script>" in html and "<svg" in html
    for remote in ("http://cdn", "https://cdn", "<link ", "src=\"http", "@import"):
        assert remote not in html


def test_html_shows_each_failure_with_rule_request_response_and_curl(runs):
    report = load(runs["faulty"])
    html = render_report(report)
    assert 'class="verdict v-not-conformant"' in html
    assert 'id="CORE-HTTP-001" data-verdict="fail" data-level="SHALL" data-subsystem="infrastructure" open' in html
    failed = next(r for r in report["requirements"] if r["id"] == "CORE-HTTP-001")
    assert failed["statement"]["en"].split("`")[0][:30] in html
    assert 'class="request"' in html and 'class="response"' in html and 'class="curl"' in html
    assert "curl -i -X GET" in html


def test_zh_page_translates_every_fixed_text(runs):
    report = load(runs["faulty"])
    html = render_report(report, lang="zh")
    for key in ("outcomes", "levels", "subsystems", "filters", "labels", "verdicts"):
        for text in TEXT[key].values():
            assert text["zh"] and text["en"] and text["zh"] != text["en"] or text["zh"] in ("English", "中文")
    assert '<span class="tag v-fail"><span class="zh">不通过</span><span class="en">fail</span></span>' in html
    assert '[<span class="zh">应</span><span class="en">SHALL</span> · <span class="zh">基础设施</span>' in html
    assert '<option value="fail" data-zh="不通过" data-en="fail">不通过</option>' in html
    assert '<h2><span class="zh">要求</span><span class="en">Requirements</span></h2>' in html
    assert ">fail<" not in html.replace('<span class="en">fail</span>', "").replace('data-en="fail">', "")


def test_each_finding_appears_once(runs):
    report = load(runs["faulty"])
    html = render_report(report, lang="zh")
    failed = [c for r in report["requirements"] for c in r["checks"] if c["verdict"] == "fail"]
    assert failed and all(c["findings"] for c in failed)
    for check in failed:
        for finding in check["findings"][:8]:
            assert html.count(markupsafe.escape(finding["message"])) == 1, finding["message"]


def test_css_declares_a_cjk_font_stack_the_browser_can_read(runs):
    html = render_report(load(runs["faulty"]), lang="zh")
    style = html.split("<style>")[1].split("</style>")[0]
    assert "&#34;" not in style and "&quot;" not in style  # an escaped stylesheet drops every quoted font name
    for font in ('"Noto Sans CJK SC"', '"WenQuanYi Zen Hei"', '"Microsoft YaHei"', '"PingFang SC"'):
        assert font in style
    body = style.split("body{")[1].split("}")[0]
    assert body.index('"WenQuanYi Zen Hei"') < body.index("sans-serif")  # named before the generic family


def test_html_escapes_what_the_target_sent(runs):
    report = load(runs["faulty"])
    report["requirements"][0]["checks"][0]["message"] = "<script>alert(1)</script>"
    html = render_report(report)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html


def test_run_writes_html_and_cli_exports_it(runs, tmp_path):
    assert (runs["clean"].parent / "report.html").is_file()
    assert main(["report", "html", str(runs["clean"]), "--lang", "en", "-o", str(tmp_path / "page.html")]) == 0
    assert '<html lang="en">' in (tmp_path / "page.html").read_text(encoding="utf-8")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                    reason="needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver")
def test_chromium_shows_verdict_failure_and_switches_language(runs, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install selenium)")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    page = tmp_path / "report.html"
    page.write_text(render_report(load(runs["faulty"]), lang="zh"), encoding="utf-8")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))  # no driver download
    try:
        driver.get(page.as_uri())
        verdict = driver.find_element(By.ID, "verdict")
        assert verdict.is_displayed() and verdict.text == "不符合"
        failed = driver.find_element(By.ID, "CORE-HTTP-001")
        assert failed.is_displayed() and "curl -i -X GET" in failed.text
        summary = failed.find_element(By.TAG_NAME, "summary").text
        assert summary.startswith("不通过 CORE-HTTP-001 [应 · 基础设施]"), summary
        for english in ("fail", "infrastructure", "SHALL", "Rule", "reproduce"):
            assert english not in failed.text.replace("curl -i -X GET", ""), english
        assert "规则" in failed.text and "复现" in failed.text
        proof = failed.find_element(By.CSS_SELECTOR, ".exchange.proof")  # the exchange that shows the failure, first
        assert proof.is_displayed() and "证明该结论的请求与响应" in proof.text and "content-type: text/plain" in proof.text
        assert driver.find_element(By.TAG_NAME, "h2").text == "各子系统得分"
        options = Select(driver.find_element(By.CSS_SELECTOR, "select[data-filter=verdict]")).options
        assert [o.text for o in options] == ["全部", "不通过", "通过"]
        font = driver.execute_script("return getComputedStyle(document.body).fontFamily")
        assert "WenQuanYi Zen Hei" in font and "Noto Sans CJK SC" in font, font
        driver.save_screenshot(str(tmp_path / "report-zh.png"))
        driver.find_element(By.ID, "lang").click()
        assert driver.find_element(By.ID, "verdict").text == "NOT CONFORMANT"
        assert driver.execute_script("return document.documentElement.lang") == "en"
        Select(driver.find_element(By.CSS_SELECTOR, "select[data-filter=verdict]")).select_by_visible_text("fail")
        shown = [d for d in driver.find_elements(By.CSS_SELECTOR, "details.req") if d.is_displayed()]
        assert {d.get_attribute("id") for d in shown} == {"CORE-HTTP-001", "CORE-PAGE-002"}
        assert "fail CORE-HTTP-001 [SHALL · Infrastructure]" in driver.find_element(By.ID, "CORE-HTTP-001").text
        shot = tmp_path / "report.png"
        driver.save_screenshot(str(shot))
        print(f"screenshots: {tmp_path / 'report-zh.png'} {shot}")
    finally:
        driver.quit()


def test_zh_page_shows_each_finding_with_its_code_zh_title_and_fix_expected_and_found(runs):
    from conformance.checks import finding_codes

    report = load(runs["faulty"])
    page = render_report(report, lang="zh")
    assert '<html lang="zh">' in page
    plain = page.replace("<code>", "").replace("</code>", "")  # a code's `names` are set in <code>

    def shown(text):
        return str(markupsafe.escape(text.replace("`", "")))

    failed = [c for r in report["requirements"] for c in r["checks"] if c["verdict"] == "fail"]
    assert failed
    for check in failed:
        for finding in check["findings"][:8]:
            code = finding_codes()[finding["code"]]
            assert f'<code class="code">{code.code}</code>' in page
            assert f'<span class="zh">{shown(code.title_zh)}</span><span class="en">{shown(code.title)}</span>' in plain
            assert f'<span class="zh">{shown(code.fix_zh)}</span><span class="en">{shown(code.fix)}</span>' in plain
            assert f"sc-conformance explain {code.code}" in page
            for key in ("expected", "found"):
                if finding.get(key) is not None:
                    assert f"<code>{markupsafe.escape(str(finding[key])[:300])}</code>" in page, (key, finding)
    assert '<span class="zh">修复方法</span>' in page and '<span class="zh">应为</span>' in page


def test_findings_stay_as_the_suite_wrote_them_escaped_and_an_unknown_code_is_shown_bare(runs):
    report = load(runs["faulty"])
    check = next(c for r in report["requirements"] for c in r["checks"] if c["verdict"] == "fail")
    check["findings"] = [{"verdict": "fail", "message": "the platform said <img src=x onerror=alert(1)>",
                          "expected": "<b>a</b>", "found": "\x1b[31mred", "code": "SC999"}] + check["findings"]
    page = render_report(report, lang="zh")
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<code>&lt;b&gt;a&lt;/b&gt;</code>" in page and "\x1b" not in page
    assert '<p class="meaning"><code class="code">SC999</code>\n   <br>' in page  # no title or fix to show
    assert "sc-conformance explain SC999" in page
