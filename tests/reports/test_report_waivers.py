"""Waivers and baselines as data, checked on unit results and on a real CLI run (with JUnit, Allure and progress)."""

import json
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from report_runs import FAULTS, run_cli

from conformance.errors import UsageError
from conformance.reports.waivers import Exemptions, Waiver, load_baseline, load_waivers
from conformance.results import CheckResult, RequirementResult
from conformance.verdicts import Verdict

WAIVERS = """\
waivers:
  - requirement: CORE-HTTP-001
    reason: the JSON media type fix ships in release 2.3
    approver: Li Wei (procurement office)
    expires: 2099-12-31
  - requirement: CORE-PAGE-002
    reason: this waiver has expired and must not apply
    approver: Zhang San
    expires: 2020-01-01
"""


def result(rid="CORE-HTTP-001", verdict=Verdict.FAIL):
    requirement = {"id": rid, "level": "SHALL", "subsystem": "infrastructure", "title": {"zh": "标题", "en": "t"},
                   "statement": {"zh": "s", "en": "s"}, "source": ["x"]}
    return RequirementResult("core", requirement, verdict, [CheckResult("http.x", {}, verdict, "m")])


def test_a_waived_failure_is_waived_never_pass():
    exemptions = Exemptions([Waiver("CORE-HTTP-001", "why", "who", date(2099, 1, 1))])
    waived, expected = exemptions.apply(result())
    assert waived.verdict is Verdict.WAIVED and expected.startswith("waived by who")
    assert waived.waiver == {"reason": "why", "approver": "who", "expires": "2099-01-01", "original_verdict": "fail"}
    passed, expected = exemptions.apply(result(verdict=Verdict.PASS))
    assert passed.verdict is Verdict.PASS and expected is None


def test_an_expired_or_other_profile_waiver_does_not_apply():
    expired = Exemptions([Waiver("CORE-HTTP-001", "why", "who", date(2020, 1, 1))], today=date(2026, 1, 1))
    assert expired.apply(result())[0].verdict is Verdict.FAIL
    elsewhere = Exemptions([Waiver("CORE-HTTP-001", "why", "who", date(2099, 1, 1), profile="local-x")])
    assert elsewhere.apply(result())[0].verdict is Verdict.FAIL


@pytest.mark.parametrize("text, expected", [
    ("waivers: [{requirement: CORE-HTTP-001, reason: r, approver: a}]", "missing expires"),
    ("waivers: [{requirement: core-http, reason: r, approver: a, expires: 2099-01-01}]", "not a requirement id"),
    ("waivers: [{requirement: CORE-HTTP-001, reason: r, approver: a, expires: soon}]", "YYYY-MM-DD"),
    ("- just a list", "`waivers:` list"),
])
def test_bad_waiver_files_say_what_to_fix(tmp_path, text, expected):
    path = tmp_path / "w.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=expected):
        load_waivers(path)


def test_baseline_from_a_report_and_from_a_list(runs, tmp_path):
    from_report = load_baseline(runs["faulty"])
    assert from_report.expects("core", "CORE-HTTP-001") and from_report.expects("core", "CORE-PAGE-002")
    assert not from_report.expects("core", "CORE-DISC-001")
    listing = tmp_path / "known.txt"
    listing.write_text("CORE-HTTP-001  # waiting for 2.3\n\n", encoding="utf-8")
    assert load_baseline(listing).known == frozenset({(None, "CORE-HTTP-001")})


SOME = ("--profile", "core", "-k", "CORE-DISC-001 or CORE-HTTP-001 or CORE-PAGE-002")  # a small real run keeps the suite fast


def test_waivers_on_a_real_run_with_junit_allure_and_progress(tmp_path):
    (tmp_path / "waivers.yaml").write_text(WAIVERS, encoding="utf-8")
    faults = [arg for fault in FAULTS for arg in ("--fault", fault)]
    done = run_cli("run", *SOME, "--seed", "3", "--report-dir", "out", *faults, "--waivers", "waivers.yaml",
                   "--junitxml", "junit.xml", "--alluredir", "allure", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr  # CORE-PAGE-002's waiver expired
    report = json.loads((tmp_path / "out/core/report.json").read_text(encoding="utf-8"))
    verdicts = {r["id"]: r["verdict"] for r in report["requirements"]}
    assert verdicts["CORE-HTTP-001"] == "waived" and verdicts["CORE-PAGE-002"] == "fail"
    assert report["waivers_used"] == ["CORE-HTTP-001"] and report["expired_waivers"] == ["CORE-PAGE-002"]
    assert report["summary"]["score"] < 100  # a waiver is never a pass
    # progress: done of total, the requirement, failures so far
    total = len(report["requirements"])
    assert f"{total} requirements to check" in done.stdout
    assert f"[{total:>3}/{total}]" in done.stdout and "WAIVED  core::CORE-HTTP-001" in done.stdout
    assert "(failures so far: 1" in done.stdout

    cases = {case.get("name"): case for case in ET.parse(tmp_path / "junit.xml").iter("testcase")}
    failure = cases["CORE-PAGE-002"].find("failure")
    assert failure is not None and failure.get("message").startswith("CORE-PAGE-002 [SHALL] limit is honoured")
    properties = {p.get("name"): p.get("value") for p in cases["CORE-PAGE-002"].iter("property")}
    assert properties == {"profile": "core", "requirement": "CORE-PAGE-002", "level": "SHALL",
                          "subsystem": "infrastructure", "verdict": "fail"}
    assert "waived by Li Wei" in cases["CORE-HTTP-001"].find("skipped").get("message")

    allure = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "allure").glob("*-result.json")]
    page = next(r for r in allure if r["name"].startswith("CORE-PAGE-002"))
    labels = {(label["name"], label.get("value")) for label in page["labels"]}
    assert {("requirement", "CORE-PAGE-002"), ("level", "SHALL"), ("subsystem", "infrastructure"),
            ("suite", "infrastructure")} <= labels
    assert page["status"] == "failed" and page["attachments"]


def test_a_baseline_fails_only_on_regressions(runs, tmp_path):
    faults = [arg for fault in FAULTS for arg in ("--fault", fault)]
    known = run_cli("run", *SOME, "-q", "--seed", "3", "--report-dir", "out", *faults, "--baseline", str(runs["faulty"]),
                    cwd=tmp_path)
    assert known.returncode == 0, known.stdout + known.stderr
    report = json.loads((tmp_path / "out/core/report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "not-conformant"  # the certificate does not change, only CI's exit code
    assert report["baseline"]["regressions"] == [] and len(report["baseline"]["known_failures"]) == 2

    (tmp_path / "known.txt").write_text("CORE-HTTP-001\n", encoding="utf-8")
    regressed = run_cli("run", *SOME, "-q", "--seed", "3", "--report-dir", "out2", *faults, "--baseline", "known.txt",
                        cwd=tmp_path)
    assert regressed.returncode == 1
    report = json.loads((tmp_path / "out2/core/report.json").read_text(encoding="utf-8"))
    assert report["baseline"]["regressions"] == ["CORE-PAGE-002"]
