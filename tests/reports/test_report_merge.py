"""``run --rerun-failed``: only what failed runs again, and the results merge into a new report."""

import json
from pathlib import Path

import pytest
from report_runs import run_cli

from conformance.errors import UsageError
from conformance.reports.merge import merge_reports, rerun_ids


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
    merged = merge_reports(old, new)
    assert merged["verdict"] == "conformant" and merged["summary"]["score"] == 100.0
    assert merged["merged_from"]["rerun"] == ["CORE-HTTP-001", "CORE-PAGE-002"]
    assert [r["id"] for r in merged["requirements"]] == [r["id"] for r in old["requirements"]]


def test_merge_refuses_another_profile_version(runs):
    other = load(runs["clean"])
    other["profile"]["digest"] = "sha256:" + "0" * 64
    with pytest.raises(UsageError, match="run the whole profile again"):
        merge_reports(load(runs["faulty"]), other)


def test_cli_reruns_only_the_failures_against_a_fixed_platform(runs, tmp_path):
    previous = tmp_path / "previous.json"
    previous.write_bytes(runs["faulty"].read_bytes())
    done = run_cli("run", "-q", "--report-dir", "out", "--rerun-failed", str(previous), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    merged = load(tmp_path / "out/core/report.json")
    assert merged["verdict"] == "conformant"
    assert merged["merged_from"]["rerun"] == ["CORE-HTTP-001", "CORE-PAGE-002"]
    assert len(merged["requirements"]) == len(load(previous)["requirements"])
