"""The command line behaves like a good one: one-line usage errors, silent closed pipes, Ctrl-C, hints."""

import json
import os
import signal
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "conformance.cli"]


def _env(**extra):
    return {k: v for k, v in os.environ.items() if not k.startswith("SC_")} | extra


def cli(*args, cwd, timeout=300):
    return subprocess.run([*CLI, *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def one_line_usage_error(result):
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sc-conformance")
    return lines[0]


@pytest.mark.parametrize("args, says", [
    (("run", "--fault", "nope"), "unknown fault 'nope'"),
    (("run", "--fault", "page-cursor-overlp"), "did you mean 'page-cursor-overlap'?"),
    (("serve-reference", "--fault", "nope"), "unknown fault 'nope'"),
    (("report", "sign", "r.json", "--key", "nokey"), "--key nokey: no such file"),
    (("run", "--no-such-option"), "unrecognized arguments: --no-such-option"),
    (("checks", "show", "paging.limt"), "did you mean 'paging.limit'?"),
    (("explain", "SC999"), "unknown finding code 'SC999'"),
])
def test_usage_errors_are_one_line_and_exit_2(tmp_path, args, says):
    line = one_line_usage_error(cli(*args, cwd=tmp_path))
    assert says in line
    assert not (tmp_path / "reports").exists()


def _first_line_then_close(args, cwd):
    """Like ``sc-conformance ARGS | head -1``: read one line, close the pipe, let the command finish."""
    process = subprocess.Popen([*CLI, *args], cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True)
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    return first, process.wait(timeout=300), stderr


@pytest.mark.parametrize("args", [("profiles", "list"), ("serve-reference", "--list-faults"), ("checks", "list")])
def test_a_closed_pipe_is_silent(tmp_path, args):
    first, code, stderr = _first_line_then_close(args, tmp_path)
    assert first.strip()
    assert code == 0
    assert stderr == ""


def test_a_run_whose_reader_leaves_goes_on_silently_and_writes_its_report(tmp_path):
    first, code, stderr = _first_line_then_close(("run", "--profile", "core", "-k", "CORE-DISC-001"), tmp_path)
    assert "requirements to check" in first
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert code == 1  # a selection is incomplete, never conformant
    assert json.loads((tmp_path / "reports" / "core" / "report.json").read_text(encoding="utf-8"))["selection"]["run"]
    assert not (tmp_path / ".pytest_cache").exists()  # the CLI keeps no pytest cache in the working directory


def test_ctrl_c_exits_130_and_marks_the_partial_report_interrupted(tmp_path):
    process = subprocess.Popen([*CLI, "run", "--profile", "core"], cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    for line in process.stdout:
        if line.startswith("[  2/"):  # two requirements done: interrupt the third
            process.send_signal(signal.SIGINT)
            break
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr.splitlines()[-1]
    # one line of ours, not pytest's banner with a path inside the suite, and no "score None" (issue 18)
    assert "interrupted (Ctrl-C)" in stdout and "KeyboardInterrupt" not in stdout and "full traceback" not in stdout
    assert "score None" not in stdout and "(;" not in stdout
    report = json.loads((tmp_path / "reports" / "core" / "report.json").read_text(encoding="utf-8"))
    assert report["interrupted"] is True
    assert report["verdict"] == "incomplete"
    assert report["selection"]["not_run"]
    assert "Interrupted" in (tmp_path / "reports" / "core" / "summary.md").read_text(encoding="utf-8")


def test_each_door_prints_its_own_seed_hint(tmp_path):
    run = cli("run", "--profile", "core", "-k", "CORE-DISC-001", "--seed", "11", cwd=tmp_path)
    assert "re-run with --seed 11" in run.stdout and "--sc-seed" not in run.stdout, run.stdout
    plain = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--sc-profile", "core",
                            "-k", "CORE-DISC-001", "--sc-seed", "11", "--sc-report-dir", "plain"], cwd=tmp_path,
                           env=_env(), capture_output=True, text=True, timeout=300)
    assert "re-run with --sc-seed 11" in plain.stdout, plain.stdout


def test_a_cli_run_loads_no_other_installed_pytest_plugin(tmp_path):
    """What else shares the environment cannot slow a certification down or change it; the pytest door, as any
    pytest run, loads the environment's plugins (which shows the stand-in plugin is really installed)."""
    site = tmp_path / "site"
    info = site / "standin_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: standin-plugin\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[pytest11]\nstandin = standin_plugin\n", encoding="utf-8")
    (site / "standin_plugin.py").write_text(
        "import os, pathlib\npathlib.Path(os.environ['STANDIN_MARK']).write_text('loaded')\n", encoding="utf-8")
    mark = tmp_path / "loaded"
    env = _env(PYTHONPATH=os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])]),
               STANDIN_MARK=str(mark))
    run = subprocess.run([*CLI, "run", "-q", "--profile", "core", "-k", "CORE-DISC-001", "--junitxml", "j.xml"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert run.returncode == 1, run.stdout + run.stderr  # one requirement of core: incomplete, not conformant
    assert "core 1.0.0: INCOMPLETE" in run.stdout and (tmp_path / "j.xml").is_file()
    assert not mark.exists()
    plain = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--sc-profile", "core",
                            "-k", "CORE-DISC-001", "--sc-report-dir", "plain"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert mark.read_text() == "loaded"


def test_the_cli_switches_plugin_autoload_off_only_while_pytest_runs(monkeypatch):
    from conformance.cli import _only_named_plugins

    for before in (None, "0"):
        if before is None:
            monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        else:
            monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", before)
        with _only_named_plugins():
            assert os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1"
        assert os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") == before


def test_a_cli_run_leaves_no_hypothesis_directory_where_it_was_started(tmp_path):
    """Hypothesis' caches go to the suite's cache directory, or to the run's scratch directory without a cache."""
    work = tmp_path / "work"
    work.mkdir()
    for extra in ({"XDG_CACHE_HOME": str(tmp_path / "cache")}, {"SC_CONFORMANCE_NO_CACHE": "1"}):
        env = {k: v for k, v in _env(**extra).items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
        run = subprocess.run([*CLI, "run", "-q", "--profile", "core", "-k", "CORE-GEN-001", "--max-examples", "3"],
                             cwd=work, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert "core 1.0.0: INCOMPLETE" in run.stdout, run.stdout + run.stderr
        assert sorted(p.name for p in work.iterdir()) == ["reports"]
    assert (tmp_path / "cache" / "sc-conformance" / "hypothesis").is_dir()


def test_an_interrupt_in_a_frame_without_a_line_number_is_still_rendered():
    """Python 3.11 can report an interrupted ``with`` entry without a line number; pytest fails rendering it."""
    from conformance.cli import _has_line

    class Entry:
        def __init__(self, lineno):
            self._lineno = lineno

        @property
        def lineno(self):
            return self._lineno - 1  # as pytest's TracebackEntry computes it

    assert _has_line(Entry(12)) and not _has_line(Entry(None))
