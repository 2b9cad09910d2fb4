"""``run --rerun-failed`` re-uses the earlier report's seed and prints only the merged verdict."""

import json

from report_runs import run_cli


def test_rerun_uses_the_reports_seed_and_prints_only_the_merged_verdict(runs, tmp_path):
    previous = tmp_path / "previous.json"
    previous.write_bytes(runs["faulty"].read_bytes())
    done = run_cli("run", "--report-dir", "out", "--rerun-failed", str(previous), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    verdicts = [line for line in done.stdout.splitlines() if line.startswith("core 1.0.0: ")]
    assert len(verdicts) == 1, done.stdout
    assert "CONFORMANT" in verdicts[0] and "45 pass" in verdicts[0]  # the merged counts, not the re-run's 2
    assert "re-run with --seed 7" in done.stdout  # the seed of the earlier report (make_runs uses 7)
    merged = json.loads((tmp_path / "out/core/report.json").read_text(encoding="utf-8"))
    assert merged["seed"] == merged["merged_from"]["seed"] == 7
