"""CI: `.ci/run` is the README's test command; the GitHub action and GitLab template certify as documented."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ARGS = "-k CORE-PAGE-002 --fault page-ignores-limit --seed 3"  # one requirement, failing on purpose


def readme_test_command():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^Install, lint, type-check and run the tests.*:\n\n    (.+)$", text, flags=re.M)
    assert match, "the README's first lines name the test command"
    return match.group(1)


def test_ci_runs_exactly_the_readme_test_command_with_lint_and_types_before_the_tests():
    command = readme_test_command()
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert command in lines
    order = [command.index(step) for step in (".venv/bin/ruff check .", ".venv/bin/mypy", ".venv/bin/pytest -n auto")]
    assert order == sorted(order)
    ci = "\n".join(lines)
    assert re.search(r'if \[ "\$\(id -u\)" = 0 \]', ci)
    assert all(package in ci for package in ("chromium", "chromium-driver", "fonts-wqy-zenhei"))


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SC_", "GITHUB_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # this checkout's sc-conformance
    return env | {"GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")} | extra


def _bash(script, cwd, env):
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


def action_steps():
    action = yaml.safe_load((ROOT / ".github/actions/sc-conformance/action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    return {step.get("id") or step.get("name"): step for step in action["runs"]["steps"]}


def test_the_github_action_certifies_uploads_summarises_and_fails_only_on_regressions(tmp_path):
    steps = action_steps()
    upload = next(s for s in steps.values() if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "${{ inputs.report-dir }}"
    certify = steps["certify"]
    assert all("${{" not in line for line in certify["run"].splitlines()), "inputs only through env"
    (tmp_path / "baseline.txt").write_text("CORE-PAGE-002\n", encoding="utf-8")
    inputs = {"SC_ACTION_PROFILES": "core", "SC_ACTION_ARGS": ARGS, "SC_ACTION_REPORT_DIR": "reports",
              "SC_ACTION_BASELINE": "baseline.txt", "SC_BASE_URL": "", "SC_TOKEN": "", "SC_CREDENTIALS": ""}
    done = _bash(certify["run"], tmp_path, _env(tmp_path, **inputs))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "output").read_text(encoding="utf-8").strip() == "exit-code=0"  # a known failure only
    summary = (tmp_path / "summary").read_text(encoding="utf-8")
    assert "(`core` 1.0.0)" in summary and "CORE-PAGE-002" in summary
    assert (tmp_path / "reports" / "junit.xml").is_file()
    fail = next(s for s in steps.values() if "SC_ACTION_STATUS" in s.get("env", {}))
    assert _bash(fail["run"], tmp_path, _env(tmp_path, SC_ACTION_STATUS="1")).returncode == 1
    assert _bash(fail["run"], tmp_path, _env(tmp_path, SC_ACTION_STATUS="0")).returncode == 0


def test_the_gitlab_template_certifies_keeps_the_reports_and_fails_on_a_regression(tmp_path):
    template = yaml.safe_load((ROOT / "ci/gitlab/sc-conformance.yml").read_text(encoding="utf-8"))
    job = template[".sc-conformance"]
    assert job["artifacts"]["when"] == "always" and job["artifacts"]["paths"] == ["reports/"]
    assert job["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    script = "\n".join(line for line in job["script"] if "pip install" not in line)  # installed here already
    variables = {k: str(v) for k, v in job["variables"].items()} | {"SC_PROFILES": "core", "SC_ARGS": ARGS}
    done = _bash(script, tmp_path, _env(tmp_path, **variables))
    assert done.returncode == 1, done.stdout + done.stderr  # no baseline: the failure fails the job
    assert "(`core` 1.0.0)" in done.stdout  # summary.md in the job log
    assert (tmp_path / "reports" / "core" / "report.json").is_file()
