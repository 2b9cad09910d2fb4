"""Helpers for the report tests: run the CLI in a clean environment."""

import os
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "conformance.cli"]
FAULTS = ("content-type-text", "page-ignores-limit")  # break CORE-HTTP-001 and CORE-PAGE-002


def run_cli(*args, cwd, timeout=300, env=None):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SC_")}, **(env or {})}
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def make_runs(root: Path) -> None:
    for name, faults in (("clean", ()), ("faulty", FAULTS)):
        fault_args = [arg for fault in faults for arg in ("--fault", fault)]
        done = run_cli("run", "-q", "--profile", "core", "--seed", "7", "--report-dir", f"{name}", *fault_args, cwd=root)
        assert done.returncode == (1 if faults else 0), done.stdout + done.stderr
