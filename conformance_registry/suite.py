"""One certification run: ``sc-conformance run`` in its own process, and its ``report.json`` read as the contract says.

The platform's token reaches the suite through ``SC_TOKEN`` (never argv); role credentials through a file written
0600 in a private temporary folder that is removed afterwards. The run is bounded in time (its whole process group
is killed past the limit) and in the output kept; whatever happens becomes a ``RunOutcome``, never an exception.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["RunOutcome", "run_suite", "stop_all"]

EXIT_CONFORMANT, EXIT_NOT_CONFORMANT = 0, 1
_running: set[subprocess.Popen[bytes]] = set()
_stopped: set[int] = set()  # pids stop_all killed
_running_lock = threading.Lock()


def stop_all() -> int:
    """Kill every suite process this process started and still waits on (the service is stopping); how many.

    Each run's thread then sees its process end, removes its private folder (credentials included) and records the
    run as failed.
    """
    with _running_lock:
        processes = list(_running)
        _stopped.update(process.pid for process in processes)
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return len(processes)


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int | None
    report_text: str | None  # report.json's text as the suite wrote it
    report: dict[str, Any] | None
    error: str | None  # why there is no usable report (one line), else None
    aborted: bool = False  # the service stopped the run (says nothing of the platform)

    @property
    def digest(self) -> str | None:
        if self.report_text is None:
            return None
        return "sha256:" + hashlib.sha256(self.report_text.encode("utf-8")).hexdigest()

    @property
    def conformant(self) -> bool:
        """Conformant only when the suite's exit status and the report's verdict agree on it."""
        return self.report is not None and self.exit_code == EXIT_CONFORMANT and self.report.get("verdict") == "conformant"


def _tail(path: Path, cap: int) -> str:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - cap))
        return handle.read().decode("utf-8", "replace")


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "$SC_TOKEN")
    return text


def _secrets_in(secrets: dict[str, Any]) -> list[str]:
    """Every token the run was given: the main one and each role's in the credentials file."""
    found = [str(secrets.get("token") or "")]
    try:
        parsed = yaml.safe_load(str(secrets.get("credentials") or "")) or {}
    except yaml.YAMLError:
        parsed = {}
    roles = parsed.get("roles") if isinstance(parsed, dict) else None
    if isinstance(roles, dict):
        found += [str(role["token"]) for role in roles.values() if isinstance(role, dict) and role.get("token")]
    return sorted({token for token in found if len(token) >= 8}, key=len, reverse=True)


def _problem(report: Any, profile: str, base_url: str) -> str | None:
    """What makes ``report`` unusable as the basis of a certificate (the fields schemas/suite/report.json requires)."""
    if not isinstance(report, dict):
        return "report.json is not a JSON object"
    for name, kind in (("suite", dict), ("profile", dict), ("target", dict), ("verdict", str), ("summary", dict),
                       ("requirements", list), ("started_at", str), ("finished_at", str), ("schemas_digest", str)):
        if not isinstance(report.get(name), kind):
            return f"report.json: `{name}` is missing or not a {kind.__name__}"
    if report["profile"].get("id") != profile:
        return f"report.json is of profile {str(report['profile'].get('id'))[:80]!r}, expected {profile!r}"
    for name in ("version", "digest"):
        if not isinstance(report["profile"].get(name), str):
            return f"report.json: `profile.{name}` is missing"
    if str(report["target"].get("base_url", "")).rstrip("/") != base_url.rstrip("/"):
        return "report.json is of another target than the registered base URL"
    if report.get("interrupted"):
        return "the run was interrupted"
    return None


def run_suite(command: list[str], base_url: str, profile: str, secrets: dict[str, Any], timeout: float,
              output_cap: int, report_cap: int) -> RunOutcome:
    token = str(secrets.get("token") or "")
    with tempfile.TemporaryDirectory(prefix="sc-registry-run-") as private:  # 0700: mkdtemp's own mode
        folder = Path(private)
        argv = [*command, "run", "--base-url", base_url, "--profile", profile, "--report-dir",
                str(folder / "reports"), "-q"]
        if credentials := secrets.get("credentials"):
            path = folder / "credentials.yaml"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(str(credentials))
            argv += ["--credentials", str(path)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SC_", "PYTEST_"))}
        env["SC_TOKEN"] = token  # the suite's own caches (validated digests, hypothesis' maps) stay where they are
        console = folder / "console.log"
        with console.open("wb") as sink:
            process = subprocess.Popen(argv, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            with _running_lock:
                _running.add(process)
            try:
                exit_code: int | None = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                exit_code = None
            finally:
                with _running_lock:
                    _running.discard(process)
                    aborted = process.pid in _stopped
                    _stopped.discard(process.pid)
        if aborted:
            return RunOutcome(None, None, None, "the service stopped during the run", aborted=True)
        output = _scrub(_tail(console, output_cap), _secrets_in(secrets))
        last = next((line for line in reversed(output.splitlines()) if line.strip()), "")
        if exit_code is None:
            return RunOutcome(None, None, None, f"the run passed its time limit of {timeout:g} s and was stopped")
        report_path = folder / "reports" / profile / "report.json"
        if not report_path.is_file() or report_path.is_symlink():
            return RunOutcome(exit_code, None, None, f"the suite exited {exit_code} without a report: {last[:500]}")
        if report_path.stat().st_size > report_cap:
            return RunOutcome(exit_code, None, None, f"report.json is larger than {report_cap} bytes")
        text = _scrub(report_path.read_text(encoding="utf-8", errors="replace"), _secrets_in(secrets))
        try:
            report = json.loads(text)
        except (ValueError, RecursionError):
            return RunOutcome(exit_code, None, None, "report.json is not JSON")
        if problem := _problem(report, profile, base_url):
            return RunOutcome(exit_code, None, None, problem)
        return RunOutcome(exit_code, text, report, None)
