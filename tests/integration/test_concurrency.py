"""--concurrency against a platform in its own process: the same seed gives the same verdicts one request at a
time and with several check calls in flight, and a platform that asks the whole run to wait (429/503 with
Retry-After, the rate-limit variant) stays conformant when requests overlap."""

import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "conformance.cli"]


def _run(served, folder, *extra):
    done = subprocess.run([*CLI, "run", "--base-url", served["base_url"], "--profile", "core", "--seed", "7", "-q",
                           "--report-dir", str(folder), *extra], env=served["env"], capture_output=True, text=True, timeout=600)
    report = json.loads((folder / "core" / "report.json").read_text(encoding="utf-8"))
    return done, report


@pytest.fixture
def served(tmp_path, serve_reference):
    """``serve-reference --variant rate-limit``: it refuses four requests per start."""
    with serve_reference(tmp_path / "served", "--variant", "rate-limit") as seen:
        yield seen


def test_same_verdicts_one_at_a_time_and_concurrently_under_rate_limits(tmp_path, serve_reference):
    with serve_reference(tmp_path / "a", "--variant", "rate-limit") as served:
        alone, one = _run(served, tmp_path / "one", "--concurrency", "1")
    with serve_reference(tmp_path / "b", "--variant", "rate-limit") as served:
        together, many = _run(served, tmp_path / "many")  # the default for a platform at --base-url
    assert alone.returncode == 0, alone.stdout[-2000:] + alone.stderr[-2000:]
    assert together.returncode == 0, together.stdout[-2000:] + together.stderr[-2000:]
    assert one["target"]["concurrency"]["in_flight"] == 1
    from conformance.options import DEFAULT_CONCURRENCY

    assert many["target"]["concurrency"]["in_flight"] == DEFAULT_CONCURRENCY
    assert {r["id"]: r["verdict"] for r in one["requirements"]} == {r["id"]: r["verdict"] for r in many["requirements"]}
    # the variant asked both runs to wait, and the waits were shared rather than given up on
    assert one["target"]["rate_limits"]["waits"] >= 1 and many["target"]["rate_limits"]["waits"] >= 1
    assert many["target"]["rate_limits"]["gave_up"] == 0
    # the longest chain of requests that had to follow one another is shorter than the run
    assert 0 < many["target"]["concurrency"]["critical_path"] < many["target"]["exchanges"]


def test_concurrency_below_one_is_a_usage_error(served, tmp_path):
    refused = subprocess.run([*CLI, "run", "--base-url", served["base_url"], "--profile", "core", "--concurrency", "0"],
                             env=served["env"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0 and "--concurrency must be at least 1" in refused.stderr
    assert not (tmp_path / "reports").exists()
