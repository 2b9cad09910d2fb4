"""``run --rerun-failed``: only what failed runs again, and the results merge into a new report."""

import json
from pathlib import Path

import pytest
from report_runs import run_cli

from conformance.errors import UsageError
from conformance.reports.merge import merge_reports, rerun_ids
from conformance.reports.signing import Trust, generate_keys, sign_report


def load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def test_rerun_ids_are_the_failures_and_the_not_run(runs):
    report = load(runs["faulty"])
    assert rerun_ids(report) == ["CORE-HTTP-001", "CORE-PAGE-002"]
    report["selection"]["not_run"] = ["CORE-X-001"]
    assert rerun_ids(report)[-1] == "CORE-X-001"


def test_merge_replaces_the_rerun_requirements_and_recomputes(runs):
    old, clean = load(runs["faulty"]), load(runs["clean"])
    new = {**clean, "requirements": [r for r in clean["requirements"] if r["id"] in rerun_ids(old)]}
    merged = merge_reports(old, new, old_digest="sha256:" + "1" * 64, old_trust=Trust("trusted", "k"))
    assert merged["verdict"] == "conformant" and merged["summary"]["score"] == 100.0
    assert merged["merged_from"]["rerun"] == ["CORE-HTTP-001", "CORE-PAGE-002"]
    assert [r["id"] for r in merged["requirements"]] == [r["id"] for r in old["requirements"]]
    assert merged["merged_from"]["reports"] == [{"digest": "sha256:" + "1" * 64, "started_at": old["started_at"],
                                                 "seed": old["seed"], "trust": "trusted",
                                                 "kept": len(old["requirements"]) - 2}]


def test_an_untrusted_earlier_report_keeps_none_of_its_verdicts(runs):
    old, clean = load(runs["faulty"]), load(runs["clean"])
    new = {**clean, "requirements": [r for r in clean["requirements"] if r["id"] in rerun_ids(old)]}
    merged = merge_reports(old, new, old_digest="sha256:" + "2" * 64, old_trust=Trust("unsigned"))
    assert [r["id"] for r in merged["requirements"]] == ["CORE-HTTP-001", "CORE-PAGE-002"]
    assert merged["verdict"] == "incomplete" and len(merged["selection"]["not_run"]) == len(old["requirements"]) - 2
    assert merged["merged_from"]["reports"][0]["trust"] == "unsigned"


def test_merge_refuses_another_profile_version(runs):
    other = load(runs["clean"])
    other["profile"]["digest"] = "sha256:" + "0" * 64
    with pytest.raises(UsageError, match="run the whole profile again"):
        merge_reports(load(runs["faulty"]), other)


def test_cli_reruns_only_the_failures_against_a_fixed_platform(runs, tmp_path):
    previous = tmp_path / "previous.json"
    previous.write_bytes(runs["faulty"].read_bytes())
    generate_keys(tmp_path / "k.key", tmp_path / "k.pub")
    sign_report(previous, tmp_path / "k.key")  # only a report signed by a trusted key vouches for its passes
    done = run_cli("run", "-q", "--report-dir", "out", "--rerun-failed", str(previous), cwd=tmp_path,
                   env={"SC_TRUSTED_KEYS": str(tmp_path / "k.pub")})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    merged = load(tmp_path / "out/core/report.json")
    assert merged["verdict"] == "conformant"
    assert merged["merged_from"]["rerun"] == ["CORE-HTTP-001", "CORE-PAGE-002"]
    assert len(merged["requirements"]) == len(load(previous)["requirements"])


def test_an_edited_unsigned_report_cannot_buy_a_pass(runs, tmp_path):
    """Attack 2: a failed SHALL edited to pass in an unsigned report must not merge into `conformant`: its
    requirement verdict contradicts its checks, so the re-run is refused before anything runs."""
    previous = tmp_path / "previous.json"
    report = load(runs["faulty"])
    for r in report["requirements"]:
        if r["id"] == "CORE-HTTP-001":
            r["verdict"] = "pass"
    report["verdict"] = "not-conformant"
    previous.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    done = run_cli("run", "-q", "--report-dir", "out", "--rerun-failed", str(previous), "--fault", "content-type-text",
                   "--fault", "page-ignores-limit", "-k", "CORE-HTTP-001 or CORE-PAGE-002", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    index = [r["id"] for r in report["requirements"]].index("CORE-HTTP-001")
    assert f"/requirements/{index}/verdict disagrees with the report's own checks" in done.stderr
    assert not (tmp_path / "out").exists()


def test_an_untrusted_report_whose_values_agree_still_reruns_everything(runs, tmp_path):
    """An unsigned report that agrees with itself is read, but vouches for nothing: every requirement runs again."""
    previous = tmp_path / "previous.json"
    previous.write_bytes(runs["faulty"].read_bytes())
    done = run_cli("run", "-q", "--report-dir", "out", "--rerun-failed", str(previous), "--fault", "content-type-text",
                   "--fault", "page-ignores-limit", "-k", "CORE-HTTP-001 or CORE-PAGE-002", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cannot be trusted, so every requirement is run again" in done.stdout
    merged = load(tmp_path / "out/core/report.json")
    assert merged["verdict"] != "conformant"
    assert {r["id"]: r["verdict"] for r in merged["requirements"]}["CORE-HTTP-001"] == "fail"
    assert merged["merged_from"]["reports"][-1]["trust"] == "unsigned"
