"""A report whose derived values disagree with its own checks is refused by verify, compare, html and every merge."""

import json
from pathlib import Path

import pytest
from report_runs import run_cli

from conformance.cli import main
from conformance.errors import UsageError
from conformance.reports.consistency import InconsistentReport, first_disagreement, require_consistent
from conformance.reports.merge import merge_reports
from conformance.reports.signing import generate_keys, serialise, sign_report, verify_report


def load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def save(path, report):
    Path(path).write_text(serialise(report), encoding="utf-8")


def requirement(report, rid):
    return next(r for r in report["requirements"] if r["id"] == rid)


def forge_conformant(report):
    """The vendor's attack: verdict conformant, failures cleared from every count, score 100."""
    for entry in report["requirements"]:
        if entry["verdict"] == "fail":
            entry["verdict"] = "pass"
    report["verdict"] = "conformant"
    summary = report["summary"]
    for counts in [summary["by_verdict"], *summary["by_level"].values(),
                   *(s["by_verdict"] for s in summary["by_subsystem"].values())]:
        counts["pass"] += counts["fail"]
        counts["fail"] = 0
    summary["unique_failures"] = {"count": 0, "by_code": {}}
    summary["score"] = 100.0
    for subsystem in summary["by_subsystem"].values():
        subsystem["score"] = 100.0
    return report


@pytest.fixture
def keys(tmp_path):
    generate_keys(tmp_path / "vendor.key", tmp_path / "vendor.pub")
    return tmp_path / "vendor.key", tmp_path / "vendor.pub"


def test_real_reports_agree_with_themselves(runs):
    assert first_disagreement(load(runs["clean"])) is None
    assert first_disagreement(load(runs["faulty"])) is None


def test_the_forged_conformant_report_names_the_first_requirement_its_checks_fail(runs):
    report = forge_conformant(load(runs["faulty"]))
    found = first_disagreement(report)
    index = next(i for i, r in enumerate(report["requirements"]) if r["id"] == "CORE-HTTP-001")
    assert found is not None and found.pointer == f"/requirements/{index}/verdict"
    assert (found.expected, found.found) == ("fail", "pass")


def test_a_forger_who_also_passes_the_checks_is_named_at_the_check(runs):
    report = forge_conformant(load(runs["faulty"]))
    entry = requirement(report, "CORE-HTTP-001")
    for check in entry["checks"]:
        check["verdict"] = "pass"
    found = first_disagreement(report)
    assert found.pointer.endswith("/verdict") and "/checks/" in found.pointer
    assert (found.expected, found.found) == ("fail", "pass")


@pytest.mark.parametrize("edit, pointer, expected, found", [
    (lambda r: r.update(verdict="conformant"), "/verdict", "not-conformant", "conformant"),
    (lambda r: r["summary"].update(score=99.9), "/summary/score", None, 99.9),
    (lambda r: r["summary"]["by_verdict"].update({"fail": 0}), "/summary/by_verdict/fail", 2, 0),
    (lambda r: r["summary"]["by_level"]["SHALL"].update({"pass": 50}), "/summary/by_level/SHALL/pass", None, 50),
    (lambda r: r["summary"]["by_subsystem"]["infrastructure"].update(score=100.0),
     "/summary/by_subsystem/infrastructure/score", None, 100.0),
    (lambda r: r["selection"].update(run=3), "/selection/run", None, 3),
])
def test_each_edited_derived_value_is_named_by_its_pointer(runs, edit, pointer, expected, found):
    report = load(runs["faulty"])
    original = json.loads(json.dumps(report))
    edit(report)
    disagreement = first_disagreement(report)
    assert disagreement is not None and disagreement.pointer == pointer
    assert disagreement.found == found
    if expected is not None:
        assert disagreement.expected == expected
    else:  # the value the report had before the edit
        value = original
        for part in pointer.strip("/").split("/"):
            value = value[part]
        assert disagreement.expected == value


def test_an_edited_requirement_verdict_and_level(runs):
    report = load(runs["faulty"])
    requirement(report, "CORE-PAGE-002")["verdict"] = "inconclusive"
    assert first_disagreement(report).found == "inconclusive"
    report = load(runs["faulty"])
    requirement(report, "CORE-HTTP-001")["level"] = "SHOULD"  # a SHALL failure made harmless
    found = first_disagreement(report)
    assert found.pointer.endswith("/level") and (found.expected, found.found) == ("SHALL", "SHOULD")


def test_verify_refuses_the_forged_report_resigned_by_the_vendor(report_copy, keys, capsys):
    path = report_copy("faulty")
    save(path, forge_conformant(load(path)))
    sign_report(path, keys[0])  # the vendor's own key, which the buyer was told to trust
    problems = verify_report(path, keys[1])
    assert len(problems) == 1 and "contradicts itself" in problems[0] and "recomputed 'fail'" in problems[0]
    assert main(["report", "verify", str(path), "--public-key", str(keys[1])]) == 1
    err = capsys.readouterr().err
    assert "NOT VERIFIED" in err and "/requirements/" in err and len(err.strip().splitlines()) == 1


def test_compare_refuses_the_forged_report_with_exit_1(report_copy, keys, capsys, monkeypatch):
    forged, honest = report_copy("faulty"), report_copy("clean")
    save(forged, forge_conformant(load(forged)))
    sign_report(forged, keys[0])
    monkeypatch.setenv("SC_TRUSTED_KEYS", str(keys[1]))
    assert main(["report", "compare", str(honest), str(forged)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and str(forged) in lines[0] and "contradicts itself" in lines[0]


def test_html_and_earl_refuse_an_inconsistent_report(report_copy, tmp_path, capsys):
    path = report_copy("faulty")
    report = load(path)
    report["summary"]["score"] = 100.0
    save(path, report)
    assert main(["report", "html", str(path), "-o", str(tmp_path / "r.html")]) == 1
    assert "/summary/score" in capsys.readouterr().err and not (tmp_path / "r.html").exists()
    assert main(["report", "earl", str(path), "-o", str(tmp_path / "r.jsonld")]) == 1
    assert not (tmp_path / "r.jsonld").exists()


def test_merge_refuses_an_inconsistent_earlier_report(runs):
    old = forge_conformant(load(runs["faulty"]))
    with pytest.raises(InconsistentReport, match="contradicts itself"):
        merge_reports(old, load(runs["clean"]))


def test_the_message_escapes_what_the_report_holds(runs):
    report = load(runs["faulty"])
    report["verdict"] = "conformant\x1b[2J"
    with pytest.raises(UsageError) as raised:
        require_consistent(report, "r.json")
    assert "\x1b" not in str(raised.value) and "\\x1b" in str(raised.value)


def test_rerun_failed_refuses_an_inconsistent_report_before_running(runs, tmp_path):
    previous = tmp_path / "previous.json"
    save(previous, forge_conformant(load(runs["faulty"])))
    done = run_cli("run", "-q", "--report-dir", "out", "--rerun-failed", str(previous), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "contradicts itself" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_baseline_refuses_an_inconsistent_report(runs, tmp_path):
    baseline = tmp_path / "baseline.json"
    report = load(runs["faulty"])
    report["summary"]["by_verdict"]["fail"] = 0
    save(baseline, report)
    done = run_cli("run", "-q", "--profile", "core", "--report-dir", "out", "--baseline", str(baseline),
                   "-k", "CORE-DISC-001", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "/summary/by_verdict/fail" in done.stderr


def test_an_edited_evaluation_is_named_when_its_scheme_is_installed_here(runs):
    report = load(runs["faulty"])
    assert "evaluation" in report and first_disagreement(report) is None
    report["evaluation"]["total"] = 100.0
    found = first_disagreement(report)
    assert found is not None and found.pointer == "/evaluation/total" and found.found == 100.0
    report["evaluation"]["scheme"]["digest"] = "sha256:" + "0" * 64  # a scheme not installed here: not recomputed
    assert first_disagreement(report) is None
