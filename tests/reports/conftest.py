"""Reports of real runs against the reference platform, made once per test session (shared by xdist workers)."""

import fcntl
import os

import pytest
from report_runs import make_runs


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """``{"clean": Path, "faulty": Path}`` of report.json files; the faulty run fails CORE-HTTP-001 and CORE-PAGE-002."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # workers' temp dirs share this session's parent
        base = base.parent
    root = base / "sc-report-runs"
    root.mkdir(exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            make_runs(root)
            (root / "done").write_text("ok")
    return {name: root / name / "core" / "report.json" for name in ("clean", "faulty")}


@pytest.fixture
def report_copy(runs, tmp_path):
    """A writable copy of a run's report.json: ``report_copy("faulty")``."""

    def copy(name):
        target = tmp_path / name / "core" / "report.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(runs[name].read_bytes())
        return target

    return copy
