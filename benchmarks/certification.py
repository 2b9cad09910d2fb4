"""Full certification: wall time and peak memory of ``sc-conformance run``, all profiles and each alone."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from conformance.profiles import profile_ids

from ._harness import record, target

# Runs the CLI in a child and prints its wall time and the child's peak RSS, so each figure is its own.
_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(json.dumps({"exit": code, "wall_s": time.perf_counter() - started,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def measure(args: list[str], door: tuple[str, ...] = ("-m", "conformance.cli", "run", "-q", "--seed", "1"),
            report_dir: str = "reports") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, *door, *args], cwd=scratch,
                             capture_output=True, text=True, check=True)
        figures = json.loads(out.stdout)
        reports = sorted(Path(scratch, report_dir).glob("*/report.json"))
        figures["verdicts"] = {p.parent.name: json.loads(p.read_text())["verdict"] for p in reports}
        figures["requirements"] = sum(len(json.loads(p.read_text())["requirements"]) for p in reports)
    return figures


# The pytest door over every bundled profile, serial and with pytest-xdist's two workers (each worker starts
# its own reference platform; the controller writes the reports from what the workers send).
_PYTEST = ("-m", "pytest", "-p", "no:cacheprovider", "-q", "--sc-seed", "1", "--sc-report-dir", "reports")


_COMMAND = "sc-conformance run -q --seed 1"


def main() -> dict[str, Any]:
    ids = profile_ids()
    figures: dict[str, Any] = {}
    # The first run on a machine fills the suite's caches (hypothesis' Unicode character map, the digests of
    # validated files): reported apart, since a vendor re-running on every change runs with them warm.
    cold = measure([])
    figures["first_run_ever_wall_s"], figures["first_run_ever_peak_rss_mib"] = cold["wall_s"], cold["peak_rss_mib"]
    # no --profile: every bundled profile, as the README's first command runs. Best of two (one requirement: of
    # three): on a shared machine the fastest run is the least disturbed one.
    everything = min((measure([]) for _ in range(2)), key=lambda f: f["wall_s"])
    figures["all_profiles_wall_s"] = everything["wall_s"]
    figures["all_profiles_peak_rss_mib"] = everything["peak_rss_mib"]
    figures["all_profiles_requirements"] = everything["requirements"]
    figures["all_profiles_verdicts"] = everything["verdicts"]
    one = min((measure(["--profile", "core", "-k", "CORE-DISC-001"]) for _ in range(3)), key=lambda f: f["wall_s"])
    figures["one_requirement_wall_s"] = one["wall_s"]
    for pid in ids:
        alone = measure(["--profile", pid])
        figures[f"{pid}_wall_s"] = alone["wall_s"]
        figures[f"{pid}_peak_rss_mib"] = alone["peak_rss_mib"]
    print("== certification targets (issue 13)")
    target(figures, "full certification", everything["wall_s"], 10.0, "s", _COMMAND)
    target(figures, "one requirement / full run", 100 * one["wall_s"] / everything["wall_s"], 15.0, "%",
           f"{_COMMAND} --profile core -k CORE-DISC-001")
    target(figures, "peak RSS of a full run", everything["peak_rss_mib"], 150.0, "MiB", _COMMAND)
    every = [arg for pid in ids for arg in ("--sc-profile", pid)]
    serial, spread = measure(every, _PYTEST), measure([*every, "-n", "2"], _PYTEST)
    figures["pytest_serial_wall_s"], figures["pytest_2_workers_wall_s"] = serial["wall_s"], spread["wall_s"]
    figures["pytest_2_workers_speed_up"] = serial["wall_s"] / spread["wall_s"]
    figures["pytest_2_workers_same_verdicts"] = serial["verdicts"] == spread["verdicts"]
    pytest_command = f"pytest -q --sc-seed 1 {' '.join(every)}"
    print(f"  pytest-xdist: serial {serial['wall_s']:.1f} s, -n 2 {spread['wall_s']:.1f} s, speed-up "
          f"{figures['pytest_2_workers_speed_up']:.2f}x, same verdicts: {figures['pytest_2_workers_same_verdicts']}"
          f"  ← {pytest_command} [-n 2]")
    record("certification", figures)
    return figures


if __name__ == "__main__":
    main()
