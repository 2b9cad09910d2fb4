"""``sc-conformance``: the command-line door to the same pytest items and reports as the plugin.

    sc-conformance run [--base-url URL] [--profile ID ...] [--report-dir D] [--rerun-failed REPORT] …
    sc-conformance serve-reference [--host H] [--port P] [--fault NAME ...] [--variant NAME ...] [--list-faults] [--list-variants]
                                   [--credentials-out FILE] [--attestations-out FILE]
    sc-conformance report keygen|sign|verify|compare|html|earl …
    sc-conformance profiles list|lint|diff|matrix …
    sc-conformance checks list|show NAME
    sc-conformance explain CODE
    sc-conformance openapi [-o FILE] [--schemathesis-config FILE]
    sc-conformance standard build -o DIR

Usage errors are one line on standard error and exit 2; a closed pipe (``| head``) is silent;
Ctrl-C exits 130 with the partial report marked ``interrupted``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pluggy  # what pytest marks hook implementations with (pytest itself is imported only by `run`)

from . import __version__
from .errors import ConformanceError, UsageError
from .options import OPTIONS, add_options, dest

__all__ = ["main"]

EXIT_CONFORMANT, EXIT_NOT_CONFORMANT, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (the usage itself is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sc-conformance", description="Smart-community conformance suite")
    parser.add_argument("--version", action="version", version=f"sc-conformance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="certify a platform (default: the bundled reference platform)")
    add_options(run.add_argument, prefix="")
    run.add_argument("-k", dest="keyword", metavar="EXPR", help="only requirements matching EXPR (as pytest -k)")
    run.add_argument("-q", "--quiet", action="store_true", help="less output")
    run.add_argument("--alluredir", metavar="DIR", help="also write Allure results to DIR")
    run.add_argument("--junitxml", metavar="PATH", help="also write JUnit XML for CI systems to PATH")
    run.add_argument("--rerun-failed", metavar="REPORT",
                     help="re-run only the requirements that failed, were inconclusive or were not run in REPORT "
                          "(a report.json) with its seed, and merge the new results into a new report")

    serve = commands.add_parser("serve-reference", help="run the reference platform by hand")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--fault", action="append", default=[], metavar="NAME",
                       help="break one behaviour (repeatable); see --list-faults")
    serve.add_argument("--list-faults", action="store_true", help="print each fault and the requirement it breaks")
    serve.add_argument("--variant", action="append", default=[], metavar="NAME",
                       help="make one choice the standard allows (repeatable); see --list-variants")
    serve.add_argument("--list-variants", action="store_true",
                       help="print each tolerated variant and the statement that allows it")
    serve.add_argument("--credentials-out", default="reference-credentials.yaml", metavar="FILE",
                       help="where to write a token per role (the --credentials format; default: %(default)s)")
    serve.add_argument("--attestations-out", default="reference-attestations.yaml", metavar="FILE",
                       help="where to write the attestations of the platform's documents (default: %(default)s)")

    _report_parser(commands)
    _profiles_parser(commands)
    _checks_parser(commands)
    openapi = commands.add_parser("openapi", help="publish the interface standard as an OpenAPI 3.1 document")
    openapi.add_argument("-o", "--out", metavar="FILE", help="write to FILE instead of standard output")
    openapi.add_argument("--format", choices=["json", "yaml"], default="json")
    openapi.add_argument("--schemathesis-config", metavar="FILE",
                         help="also write a Schemathesis configuration (and its hooks file beside it)")
    _standard_parser(commands)
    return parser


def _standard_parser(commands: argparse._SubParsersAction) -> None:
    standard = commands.add_parser("standard", help="publish the readable specification").add_subparsers(
        dest="action", required=True)
    build = standard.add_parser("build", help="write the bilingual (zh/en) HTML specification and vendor guide")
    build.add_argument("-o", "--out", required=True, metavar="DIR", help="directory to write the site into")
    _standard_option(build)


def _standard_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--standard", action="append", default=[], metavar="DIR",
                        help="a local standard's folder (or an installed standard's id), searched before the national "
                             "base (repeatable); a profile file inside a standard's profiles/ folder implies it")


def standard(args: argparse.Namespace) -> int:
    from .reference import VARIANTS  # the doors hand the reference platform's tables to tools
    from .standards import activate, resolve_standards, searched
    from .tools.standard import build_site

    activate(resolve_standards(args.standard))  # published with the national base, beside the installed ones
    site = build_site(args.out, variants=VARIANTS.values(), standards=searched())
    print(f"wrote {len(site.pages)} pages ({len(site.requirements)} requirements) to {args.out}; "
          f"open {Path(args.out) / 'index.html'}")
    return 0


def _report_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="sign, verify, compare and export reports").add_subparsers(
        dest="action", required=True)
    keygen = report.add_parser("keygen", help="make an Ed25519 key pair for signing reports")
    keygen.add_argument("--out", default=".", metavar="DIR", help="directory for report-signing.key/.pub")
    sign = report.add_parser("sign", help="sign report.json files (Ed25519 over RFC 8785 canonical JSON)")
    sign.add_argument("reports", nargs="+", metavar="REPORT")
    sign.add_argument("--key", required=True, metavar="KEY", help="private key from `report keygen`")
    verify = report.add_parser("verify", help="check signature and digests; exit 1 with the reason if edited")
    verify.add_argument("reports", nargs="+", metavar="REPORT")
    verify.add_argument("--public-key", metavar="PUB", help="only trust this signer's public key")
    compare = report.add_parser("compare", help="whole bids side by side: every profile of every vendor, evaluated "
                                "on one scheme, differences first with their findings")
    compare.add_argument("reports", nargs="+", metavar="REPORT")
    compare.add_argument("--name", action="append", metavar="VENDOR", help="name of each report's vendor, in order")
    compare.add_argument("--html", metavar="FILE", help="also write the comparison as HTML")
    compare.add_argument("--force", action="store_true", help="compare reports of different profile versions")
    compare.add_argument("--lang", choices=["zh", "en"], default="zh", help="language the HTML opens in")
    compare.add_argument("--weights", metavar="FILE", help="the buyer's evaluation scheme (schemas/suite/evaluation.json): a "
                         "whole scheme, one extending another, or `weights:` alone over the default scheme")
    _standard_option(compare)
    for name, text in (("html", "a self-contained bilingual HTML page"), ("earl", "W3C EARL JSON-LD")):
        export = report.add_parser(name, help=f"export a report.json as {text}")
        export.add_argument("report", metavar="REPORT")
        export.add_argument("-o", "--out", metavar="FILE", help="write to FILE instead of standard output")
        if name == "html":
            export.add_argument("--lang", choices=["zh", "en"], default="zh", help="language the page opens in")


def _profiles_parser(commands: argparse._SubParsersAction) -> None:
    profiles = commands.add_parser("profiles", help="work with profiles").add_subparsers(dest="action", required=True)
    _standard_option(profiles.add_parser("list", help="the bundled profiles and those of the local standards"))
    lint = profiles.add_parser("lint", help="what to fix before publishing a profile (exit 1 if anything)")
    _standard_option(lint)
    lint.add_argument("profiles", nargs="*", metavar="PROFILE", help="ids or YAML files (default: all bundled)")
    lint.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    lint.add_argument("--require-faults", action=argparse.BooleanOptionalAction, default=None,
                      help="a requirement no reference fault breaks is an error (default: only in bundled profiles)")
    diff = profiles.add_parser("diff", help="added, removed, tightened, loosened requirements and schemas (Markdown)")
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("-o", "--out", metavar="FILE")
    _standard_option(diff)
    matrix = profiles.add_parser("matrix", help="traceability: requirement → source → checks → fixtures → schemas")
    matrix.add_argument("profiles", nargs="*", metavar="PROFILE", help="ids or YAML files (default: all bundled)")
    matrix.add_argument("--format", choices=["markdown", "csv"], default="markdown")
    matrix.add_argument("-o", "--out", metavar="FILE")
    _standard_option(matrix)


def _checks_parser(commands: argparse._SubParsersAction) -> None:
    checks = commands.add_parser("checks", help="the catalogue of checks profiles can call").add_subparsers(
        dest="action", required=True)
    checks.add_parser("list", help="every check: name, finding code, what it checks")
    show = checks.add_parser("show", help="one check: doc, parameters with types and defaults, requirements using it")
    show.add_argument("name", metavar="NAME")
    explain = commands.add_parser("explain", help="what a finding code means, which requirements use it, how to fix")
    explain.add_argument("code", metavar="CODE", help="a finding code from a report, such as SC101")


def _deliver_junit(args: argparse.Namespace, scratch: Path) -> None:
    """pytest wrote the JUnit XML into the run's scratch directory (it opens --junitxml and follows a link planted
    there); it reaches the path asked for by an atomic rename that replaces such a link."""
    from .loading import write_file

    written = scratch / "junit.xml"
    if args.junitxml and written.is_file():
        write_file(args.junitxml, written.read_bytes())


def _pytest_args(args: argparse.Namespace, ini: Path, scratch: Path | None = None) -> list[str]:
    # A CLI run loads the plugins it uses by name and nothing else installed (see _only_named_plugins): ours, and
    # allure-pytest with --alluredir. Of pytest's own: no:cacheprovider, so a CLI run leaves no .pytest_cache and
    # never touches the pytest door's lastfailed; no:unraisableexception, no:threadexception, which watch test code
    # the CLI does not run (the first collects garbage five times over the run's whole heap at session end, ~1 s of
    # a full run). --assert=plain: pytest would rewrite every module of our package for assertion messages no
    # requirement uses (~1.3 s a process where bytecode is not cached).
    # No conftest.py is imported, from the working directory, a local profile's folder or anywhere else
    # (--noconftest; --confcutdir bounds the search should a conftest ever be looked for): a delivered bid folder
    # cannot run code on the buyer's machine. The ini file is the run's own (-c), so no pytest.ini, tox.ini,
    # setup.cfg or pyproject.toml of the working directory adds options or plugins.
    argv = ["-c", str(ini), "--rootdir", os.getcwd(), "--noconftest", "--confcutdir", str(ini.parent),
            "-q", "--assert=plain", "-p", "sc_conformance",
            "-p", "no:cacheprovider", "-p", "no:unraisableexception", "-p", "no:threadexception",
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if args.alluredir:
        argv += ["-p", "allure_pytest"]
    if not args.quiet:
        argv += ["-o", "console_output_style=classic"]  # the progress lines replace pytest's percentages
    for option in OPTIONS:
        value = getattr(args, dest(option.name, ""))
        if value in (None, []):
            continue
        for item in value if option.multiple else [value]:
            if option.name == "token":
                continue  # passed through the environment, never on a command line
            argv += [f"--sc-{option.name}", str(item)]
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.alluredir:
        argv += ["--alluredir", args.alluredir]
    if args.junitxml:
        junit = str(scratch / "junit.xml") if scratch is not None else args.junitxml
        argv += ["--junitxml", junit, "-o", "junit_suite_name=sc-conformance"]
    return argv


@contextlib.contextmanager
def _environment(name: str, value: str | None) -> Iterator[None]:
    """``os.environ[name] = value`` (None: unset) while the block runs, then what it was."""
    before = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@contextlib.contextmanager
def _only_named_plugins() -> Iterator[None]:
    """pytest loads no installed plugin by itself while a CLI run is inside it: a certificate does not depend on
    what else shares the environment (Schemathesis', hypothesis' and anyio's plugins import their packages).
    PYTEST_PLUGINS and PYTEST_ADDOPTS are set aside too: they name modules pytest imports (from the working
    directory under ``python -m``), and options that are not the CLI's."""
    with _environment("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"), _environment("PYTEST_PLUGINS", None), \
            _environment("PYTEST_ADDOPTS", None):
        yield


def _hypothesis_storage(scratch: Path) -> contextlib.AbstractContextManager[None]:
    """Hypothesis keeps its caches (the Unicode character map it builds on first use: ~2 s and ~100 MiB) in the
    suite's cache directory, not in a ``.hypothesis/`` left in the directory the run was started from; with
    SC_CONFORMANCE_NO_CACHE in the run's scratch directory. A HYPOTHESIS_STORAGE_DIRECTORY of the user's wins."""
    from .validated import cache_directory

    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return contextlib.nullcontext()
    return _environment("HYPOTHESIS_STORAGE_DIRECTORY", str(cache_directory("hypothesis") or scratch / "hypothesis"))


def _previous(args: argparse.Namespace) -> dict[str, Any] | None:
    """The report ``--rerun-failed`` names; its profile becomes the one run."""
    if not args.rerun_failed:
        return None
    from .reports.consistency import require_consistent
    from .reports.merge import report_digest
    from .reports.signing import check_signature, read_report, trusted_keys

    raw, previous = read_report(Path(args.rerun_failed))
    require_consistent(previous, f"--rerun-failed {args.rerun_failed}")  # its verdicts must follow from its checks
    args.rerun_trust, args.rerun_digest = check_signature(raw, previous, trusted_keys()), report_digest(raw)
    from .escaping import terminal
    from .profiles import ID, is_path

    profile_id = previous["profile"]["id"]
    if not ID.fullmatch(profile_id):  # a report names its profile by id: never a path to load and run
        raise UsageError(f"--rerun-failed {args.rerun_failed}: {terminal(profile_id, newlines=False)[:80]!r} "
                         f"is not a profile id ({ID.pattern})")
    if args.profile and (len(args.profile) > 1 or not is_path(args.profile[0]) and args.profile != [profile_id]):
        raise UsageError(f"--rerun-failed {args.rerun_failed} is a report of profile {profile_id!r}, "
                         f"but --profile asks for {', '.join(args.profile)}; leave --profile out "
                         "(or give the file of that local profile)")
    args.rerun_profile = profile_id
    args.profile = args.profile or [profile_id]  # an id is a bundled profile; a local one is given by its path
    if args.seed is None:
        args.seed = previous["seed"]  # the same generated values, so a re-run tests what failed
    return previous


def _same_target(args: argparse.Namespace, previous: dict[str, Any], binding: Any) -> None:
    """A re-run merges into the earlier report only against the platform it was made against (reports/binding.py):
    the same base URL, declared identity and certificate, or the bundled reference platform again (its faults
    stand for the fixes a re-run checks). Checked after the preflight, before any requirement runs."""
    from .options import resolve_env
    from .reports.binding import allowance, mismatch

    base_url = resolve_env("base-url", args.base_url)
    now = {"base_url": base_url, "reference_platform": not base_url, **(binding.to_json() if binding else {})}
    moved = mismatch(previous.get("target"), now, allowance(lambda name: getattr(args, name.removeprefix("sc_"))))
    if moved:
        raise UsageError(f"--rerun-failed {args.rerun_failed}: {moved}")


def _same_address(args: argparse.Namespace, previous: dict[str, Any]) -> None:
    """Before the preflight: a report of another base URL (or of the bundled platform against one at a URL, or the
    other way round) is refused without contacting anything, unless the platform moved (--allow-moved-target)."""
    from .options import resolve_env
    from .reports.binding import allowance, mismatch

    allow = allowance(lambda name: getattr(args, name.removeprefix("sc_")))
    if allow.moved:
        return  # whether it is the same platform needs its declared identity: after the preflight
    base_url = resolve_env("base-url", args.base_url)
    earlier = previous.get("target") if isinstance(previous.get("target"), dict) else {}
    now = {"base_url": base_url, "reference_platform": not base_url}
    address = {k: earlier.get(k) for k in ("base_url", "reference_platform")}
    if mismatch(address, now, allow) is None:
        return  # the same address: identity and certificate are compared after the preflight
    moved = mismatch(earlier, now, allow)  # said with what the earlier report records of its platform
    raise UsageError(f"--rerun-failed {args.rerun_failed}: {moved or mismatch(address, now, allow)}")


def _verdict_code(report: dict[str, Any]) -> int:
    from .reports.waivers import exit_ok  # waivers and a baseline change the exit status, never the verdict

    return EXIT_CONFORMANT if exit_ok(report) else EXIT_NOT_CONFORMANT


def _has_line(entry: Any) -> bool:
    """Whether pytest can render a traceback entry (its line number is known)."""
    try:
        return isinstance(entry.lineno, int)
    except TypeError:  # pytest computes tb_lineno - 1, and tb_lineno is None
        return False


class _CliDoor:
    """What the CLI adds to the pytest session: its own option spelling, and the merge of a re-run."""

    name = "sc-conformance-cli"

    def __init__(self, previous: dict[str, Any] | None, report_dir: Path, *, binding: Any,
                 digest: str | None = None, trust: Any = None) -> None:
        self.previous = previous
        self.digest, self.trust = digest, trust  # of the previous report: a merge records and weighs them
        self.report_dir = report_dir
        self.binding = binding  # what this door's preflight of an external platform found (None: not made here)
        self.merged: list[dict[str, Any]] = []

    def pytest_configure(self, config: Any) -> None:
        from .suite import OPTION_PREFIX, PREFLIGHTED, TARGET_BINDING

        config.stash[OPTION_PREFIX] = "--"
        config.stash[PREFLIGHTED] = self.binding is not None
        if self.binding is not None:
            config.stash[TARGET_BINDING] = self.binding

    @pluggy.HookimplMarker("pytest")(tryfirst=True)  # before the terminal reporter renders it
    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        """Ctrl-C can land in a frame Python reports without a line number (entering a ``with``, under 3.11), and
        pytest's own rendering of the interrupt then fails with a TypeError: those entries are left out of it."""
        excinfo.traceback = excinfo.traceback.filter(_has_line)

    @pluggy.HookimplMarker("pytest")(tryfirst=True)  # before the progress line counts nothing
    def pytest_collection_finish(self, session: Any) -> None:
        """``-k`` that selects no requirement is a usage error (pytest would end with exit 5, and no report)."""
        keyword = session.config.getoption("keyword")
        if keyword and not session.items:
            import pytest

            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:  # the error is the whole output: no "45 deselected" summary after it
                session.config.pluginmanager.unregister(reporter)
            raise pytest.UsageError(f"-k {keyword!r} selects no requirement of the profile(s) run; requirement ids "
                                    "and words of their titles are matched (`sc-conformance profiles matrix` lists them)")

    def _suite(self, session: Any) -> Any:
        from .suite import ConformancePlugin

        return session.config.pluginmanager.get_plugin(ConformancePlugin.name)

    def pytest_sessionfinish(self, session: Any) -> None:
        """After the suite wrote the re-run's report: merge it into the previous one, so the terminal
        summary (and the files) show only the merged verdict."""
        suite = self._suite(session)
        if self.previous is None or suite is None:
            return
        from .reports import write_reports
        from .reports.binding import allowance
        from .reports.merge import merge_reports
        from .reports.signing import read_report

        written = []
        for _summary, path in getattr(suite, "written", []):  # the suite keeps only summaries: read the re-run back
            _raw, report = read_report(path, validate=False)  # written by this run, validated as it was
            merged = merge_reports(self.previous, report, old_digest=self.digest, old_trust=self.trust,
                                   allow=allowance(session.config.getoption))
            written.append((merged, write_reports(merged, self.report_dir)))
            self.merged.append(merged)
        suite.written = written

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for merged in self.merged:
            terminalreporter.write_line(f"re-ran {len(merged['merged_from']['rerun'])} requirements with the "
                                        f"earlier report's seed {merged['seed']} and merged them into it")


def run(args: argparse.Namespace) -> int:
    import pytest

    from .checks import validate_call
    from .profiles import load_profile, profile_ids
    from .reports.merge import rerun_selection
    from .reports.progress import Progress
    from .standards import activate, resolve_standards

    if (args.fault or args.variant) and args.base_url:
        raise UsageError("--fault and --variant switch behaviours of the bundled reference platform; "
                         "they cannot be used with --base-url")
    _validate_switches(args.fault or [], args.variant or [])
    previous = _previous(args)
    activate(resolve_standards(args.standard or (), args.profile or ()))  # searched first by every profile
    args.profile = args.profile or profile_ids()  # no --profile: the whole standard, every bundled profile
    profiles = [load_profile(name, validate_check=validate_call) for name in args.profile]
    nodes: list[str] = []
    binding = None
    if previous is not None:
        if profiles[0].id != args.rerun_profile:
            raise UsageError(f"--rerun-failed {args.rerun_failed} is a report of profile {args.rerun_profile!r}, "
                             f"but {args.profile[0]} is profile {profiles[0].id!r}")
        if previous["profile"]["digest"] != profiles[0].digest:
            raise UsageError(f"{args.rerun_failed} was run against another version of profile {profiles[0].id!r} "
                             f"(digest {previous['profile']['digest']}, installed {profiles[0].digest}); "
                             "run the whole profile again instead of --rerun-failed")
        # the earlier report must be of this platform before any of it is believed, or a pass of it skips a run;
        # another base URL (unless the platform moved) is refused before the platform is contacted at all
        _same_address(args, previous)
        binding = _preflight(args)
        _same_target(args, previous, binding)
        ids, why = rerun_selection(previous, args.rerun_trust)
        if why:
            print(f"sc-conformance: {args.rerun_failed}: {why}")
        nodes = [f"{profiles[0].path}::{rid}" for rid in ids or []]
        if ids is not None and not nodes:
            print(f"sc-conformance: nothing to re-run: every requirement in {args.rerun_failed} passed")
            return _verdict_code(previous)
    from .loading import remove_file

    report_dir = Path(args.report_dir)
    _writable("--report-dir", report_dir)  # before the run, not after it
    if args.junitxml:
        _writable("--junitxml", Path(args.junitxml).parent)
    for profile in profiles:  # never through a link planted in the report directory (refused, before the run)
        remove_file(report_dir / profile.id / "report.json", root=report_dir)
    if args.token:
        os.environ["SC_TOKEN"] = args.token
    if previous is None:
        binding = _preflight(args)
    door = _CliDoor(previous, report_dir, binding=binding, digest=getattr(args, "rerun_digest", None),
                    trust=getattr(args, "rerun_trust", None))
    plugins: list[Any] = [door] if args.quiet else [door, Progress()]
    with tempfile.TemporaryDirectory() as scratch, _interruptible():
        ini = Path(scratch) / "pytest.ini"
        ini.write_text("[pytest]\naddopts =\n", encoding="utf-8")
        with _only_named_plugins(), _hypothesis_storage(Path(scratch)):
            code = pytest.main(_pytest_args(args, ini, Path(scratch)) + nodes, plugins=plugins)
        _deliver_junit(args, Path(scratch))
    if code == pytest.ExitCode.INTERRUPTED:
        written = [str(report_dir / p.id / "report.json") for p in profiles
                   if (report_dir / p.id / "report.json").is_file()]
        where = f"; partial report marked interrupted: {', '.join(written)}" if written else "; no report was written"
        print(f"sc-conformance: interrupted{where}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if code == pytest.ExitCode.USAGE_ERROR:
        return EXIT_USAGE
    codes = []
    for profile in profiles:
        path = report_dir / profile.id / "report.json"
        if not path.is_file():
            print(f"sc-conformance: no report was written for {profile.id}", file=sys.stderr)
            return EXIT_INTERNAL
        codes.append(_verdict_code(json.loads(path.read_text(encoding="utf-8"))))
    return max(codes)


def _writable(option: str, directory: Path) -> None:
    """A usage error now, not after the whole run, when ``directory`` cannot be made or written (nothing is made)."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{option} {directory}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {directory}: {existing} is not writable")


def _validate_switches(faults: list[str], variants: list[str]) -> None:
    """Unknown --fault/--variant names: one line with the closest name and where the list is."""
    if not (faults or variants):
        return
    from .errors import did_you_mean
    from .reference import FAULTS, VARIANTS

    for kind, names, known in (("fault", faults, FAULTS), ("variant", variants, VARIANTS)):
        for name in names:
            if name not in known:
                raise UsageError(f"unknown {kind} {name!r}{did_you_mean(name, known)}; "
                                 f"`sc-conformance serve-reference --list-{kind}s` lists them")


def _preflight(args: argparse.Namespace) -> Any:
    """Preflight an external platform here, before pytest starts, so a problem is this door's one line.
    (The bundled platform is preflighted where the plugin starts it.) Returns what binds the run's reports to
    the platform (``preflight.TargetBinding``), or ``None`` when it was not done here."""
    from .catalogue import catalogue
    from .inputs import RunInputs
    from .options import resolve_env
    from .preflight import preflight
    from .target import Target

    base_url = resolve_env("base-url", args.base_url)
    if not base_url:
        return None
    inputs = RunInputs.from_options(lambda name: getattr(args, name.removeprefix("sc_")))
    token = resolve_env("token", args.token)
    try:
        target = Target(base_url, token=inputs.token(token), timeout=args.timeout, **inputs.target_kwargs())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with contextlib.closing(target):
        return preflight(target, inputs.credentials, catalogue(), run_token=token)


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """The first Ctrl-C stops the run; further ones are ignored while the partial report is written."""

    def interrupt(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if sys.stdout.isatty():
            sys.stdout.write("\r\x1b[2K")  # clear the progress line the interrupt cut short
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, interrupt)
    except ValueError:  # not the main thread (an embedding program): leave its handler alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def serve_reference(args: argparse.Namespace) -> int:
    from .reference import FAULTS, VARIANTS
    from .reference.faults import validate_faults
    from .reference.variants import validate_variants

    if args.list_faults:
        for fault in FAULTS.values():
            print(f"{fault.name}\t{fault.requirement}\t{fault.description}")
        return 0
    if args.list_variants:
        for variant in VARIANTS.values():
            print(f"{variant.name}\t{variant.description}\t{variant.allowed_by}")
        return 0
    validate_faults(args.fault)
    validate_variants(args.variant)
    import secrets

    import yaml

    from .embedded import _attestations, _credentials, _tenants
    from .loading import write_file
    from .reference.server import serve

    secret = secrets.token_urlsafe(32)
    issued: dict[str, str] = {}
    # absolute for the export lines, but a link at the path itself is not resolved: it is replaced
    credentials_out, attestations_out = (Path(name).parent.resolve() / Path(name).name
                                         for name in (args.credentials_out, args.attestations_out))

    def provision(platform: Any) -> None:
        """Two tenant communities and a token per role, written as a credentials file (never printed
        but the admin's), and the attestations of the platform's documents: what a vendor hands over."""
        credentials = _credentials(platform, _tenants(platform), expires_in=7 * 24 * 3600)
        roles = {name: {"token": role.token, "scopes": sorted(role.scopes),
                        **({"community": role.community} if role.community else {})}
                 for name, role in credentials.roles.items()}
        # atomic, readable by its owner only, and replacing (never following) a link planted at the path
        write_file(credentials_out, yaml.safe_dump({"default": credentials.default, "roles": roles}), mode=0o600)
        attestations = [{"requirement": a.requirement, "attested_by": a.attested_by, "statement": a.statement,
                         "document": {"reference": a.reference, "sha256": a.sha256}}
                        for a in _attestations().values()]
        write_file(attestations_out, yaml.safe_dump({"attestations": attestations}, allow_unicode=True))
        issued["token"] = credentials.token or ""

    def ready(base_url: str) -> None:
        faults = f" with faults: {', '.join(args.fault)}" if args.fault else ""
        variants = f" with variants: {', '.join(args.variant)}" if args.variant else ""
        print(f"reference platform on {base_url}{faults}{variants}", flush=True)
        print(f"export SC_TOKEN={issued['token']}", flush=True)
        print(f"export SC_CREDENTIALS={credentials_out}", flush=True)
        print(f"export SC_ATTESTATIONS={attestations_out}", flush=True)
        print(f"sc-conformance run --base-url {base_url}", flush=True)

    serve(args.host, args.port, faults=args.fault, variants=args.variant, secret=secret, on_ready=ready,
          prepare=provision)
    return 0


def _faults_by_requirement() -> dict[str, list[str]]:
    from .reference import FAULTS

    faults: dict[str, list[str]] = {}
    for fault in FAULTS.values():
        faults.setdefault(fault.requirement, []).append(fault.name)
    return faults


def checks(args: argparse.Namespace) -> int:
    from .tools import commands

    return commands.checks(args)


def explain(args: argparse.Namespace) -> int:
    from .tools import commands

    return commands.explain(args)


def report(args: argparse.Namespace) -> int:
    from .tools import commands

    return commands.report(args)


def profiles(args: argparse.Namespace) -> int:
    from .tools import commands

    return commands.profiles(args, _faults_by_requirement() if args.action == "lint" else {})


def openapi(args: argparse.Namespace) -> int:
    from .tools import commands

    return commands.openapi(args)


# One handler per sub-command, each a function of the parsed arguments returning the exit status.
COMMANDS = {"run": run, "serve-reference": serve_reference, "report": report, "profiles": profiles,
            "checks": checks, "explain": explain, "openapi": openapi, "standard": standard}


def _contributed_command(argv: list[str]) -> int | None:
    """The exit status of a sub-command another installed package contributes, None when argv names none of them.

    Entry points in the group ``sc_conformance.commands`` name a callable taking the remaining arguments and returning
    the exit status (``registry``: the certification service); only the one named is imported.
    """
    if not argv or argv[0].startswith("-") or argv[0] in COMMANDS:
        return None
    from importlib.metadata import entry_points

    for entry in entry_points(group="sc_conformance.commands"):
        if entry.name == argv[0]:
            return int(entry.load()(argv[1:]))
    return None


class _ClosedPipeSafe:
    """Standard output that goes quiet when its reader leaves (``| head``): the command carries on."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.closed_pipe = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._silence()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._silence()

    def _silence(self) -> None:
        self.closed_pipe = True
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())  # what is still buffered, and all that follows, goes nowhere
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    guarded = _ClosedPipeSafe(sys.stdout)
    sys.stdout = guarded
    try:
        contributed = _contributed_command(list(sys.argv[1:] if argv is None else argv))
        if contributed is not None:
            return contributed
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except ConformanceError as exc:
        print(f"sc-conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a file named on the command line cannot be read or written
        if isinstance(exc, BrokenPipeError):
            return EXIT_CONFORMANT
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"sc-conformance: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("sc-conformance: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        guarded.flush()
        sys.stdout = guarded._stream


if __name__ == "__main__":
    # `python -m conformance.cli` puts the working directory first on sys.path, so a yaml.py or httpx.py in a
    # delivered bid folder would be imported in place of the real one by everything imported from here on
    # (what this module imported already cannot be helped: `sc-conformance`, or `python -P -m`, never adds it)
    sys.path[:] = [entry for entry in sys.path if entry not in ("", os.getcwd())]
    sys.exit(main())
