"""A progress line per requirement on long runs: done of total, the requirement, failures so far."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import pytest

from ..escaping import terminal

__all__ = ["Progress"]

_BAD = ("failed", "error")


class Progress:
    """pytest plugin the CLI registers instead of pytest's dots (quiet runs leave it out)."""

    def __init__(self) -> None:
        self.total = self.done = self.failures = 0
        self.started = time.monotonic()
        self.config: pytest.Config | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    @property
    def terminal(self) -> Any:
        return self.config.pluginmanager.get_plugin("terminalreporter") if self.config else None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)
        if self.terminal is not None:
            self.terminal.write_line(f"{self.total} requirements to check")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> Generator[None, Any, None]:
        outcome = yield
        category, _letter, word = outcome.get_result()
        outcome.force_result((category, "", word))  # this plugin's line replaces pytest's letter

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        if self.terminal is not None and self.terminal.isatty:
            self.terminal.write(f"\r[{self.done + 1:>3}/{self.total}] {terminal(location[2], newlines=False)[:70]} …",
                                flush=True)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self._finish(report)

    def _finish(self, report: pytest.TestReport) -> None:
        self.done += 1
        status = report.outcome
        if hasattr(report, "wasxfail"):  # the suite marks waivers and baseline failures as expected
            status = "waived" if report.wasxfail.startswith("waived") else "known"
        # pytest knows passed and failed; the requirement's own verdict (a JUnit property the suite set) says more:
        # an inconclusive or manual requirement is shown as such and is not a failure
        verdict = next((value for name, value in report.user_properties if name == "verdict"), None)
        if report.outcome == "failed" and not hasattr(report, "wasxfail") and verdict not in (None, "fail"):
            status = str(verdict)
        elif report.outcome == "failed" and not hasattr(report, "wasxfail"):
            self.failures += 1
        if self.terminal is None:
            return
        name = terminal(report.head_line or report.nodeid, newlines=False)
        elapsed = time.monotonic() - self.started
        line = (f"[{self.done:>3}/{self.total}] {status.upper():<7} {name[:80]}  "
                f"(failures so far: {self.failures}, {elapsed:.0f}s)")
        colour = {"red": status == "failed", "green": status == "passed",
                  "yellow": status in ("skipped", "waived", "known", "inconclusive", "manual")}
        if self.terminal.isatty:
            self.terminal.write("\r\x1b[2K")
        self.terminal.write_line(line, **colour)
