"""Profiles as pytest items: one item per requirement, reports written when the session ends.

Results travel on ``report.user_properties`` (as junitxml does) so they reach the controller
under pytest-xdist; the reporter builds one report per profile from them.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from .catalogue import catalogue
from .checks import validate_call
from .errors import ConformanceError, ProfileError, UsageError
from .escaping import terminal
from .inputs import RunInputs
from .options import DEFAULT_CONCURRENCY, resolve_env
from .preflight import PreflightError, TargetBinding, preflight
from .profiles import Profile, Requirement, load_profile, profile_ids
from .redaction import redact, redact_value, register_secrets
from .reports import write_reports
from .reports.allure import describe_for_allure
from .reports.binding import allowance
from .reports.evidence import headers_about, shown_exchanges
from .reports.junit import compact_properties, result_properties
from .reports.signing import trusted_keys
from .reports.waivers import Exemptions, waiver_lines
from .results import RequirementResult
from .runner import Runner, judges_traffic
from .schemas import schema_store
from .session import RunSession
from .target import Target, TargetError
from .verdicts import Verdict

__all__ = ["OPTION_PREFIX", "PREFLIGHTED", "TARGET_BINDING", "ConformancePlugin", "ProfileFile", "RequirementItem"]

RESULT_PROPERTY = "sc_conformance_result"
TARGET_PROPERTY = "sc_conformance_target"  # what a worker knows of the target, sent once to the controller
# How the door that started the run spells its options (the CLI sets "--"), for hints such as the seed's.
OPTION_PREFIX = pytest.StashKey[str]()
PREFLIGHTED = pytest.StashKey[bool]()  # the door already preflighted the external target (the CLI does)
TARGET_BINDING = pytest.StashKey[TargetBinding]()  # what that preflight found: identity, certificate
_MARKER_OF_SUBSYSTEM = {"infrastructure": "infrastructure", "governance-service": "governance_service",
                        "guarantee": "guarantee"}


def fails_the_run(report: dict[str, Any]) -> bool:
    """Whether a report makes the run exit 1: not conformant, or with a baseline, a regression."""
    if "baseline" in report:
        return bool(report["baseline"]["regressions"])
    return report["verdict"] != "conformant"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RequirementFailed(AssertionError):
    """Raised by an item whose requirement failed or was inconclusive; rendered without a traceback.

    An AssertionError so Allure reports the requirement as failed, not as a broken test.
    """

    def __init__(self, result: RequirementResult) -> None:
        super().__init__(result.id)
        self.result = result


def describe(result: RequirementResult) -> str:
    """The failure text a vendor reads: the rule, each non-passing check, its findings and evidence."""
    req = result.requirement
    lines = [f"{req['id']} [{req['level']}] {req['title']['en']}: {result.verdict.value.upper()}",
             f"  rule: {req['statement']['en']}"]
    for check in result.checks:
        if check.verdict is Verdict.PASS:
            continue
        lines.append(f"  check {check.name}: {check.verdict.value}")
        for finding in check.findings[:8]:
            lines.append(f"    - {finding.code + ' ' if finding.code else ''}{finding}")
        findings = [f.to_json() for f in check.findings]
        for exchange in shown_exchanges(check.evidence):  # the proving exchange first, then the last one
            request, response = exchange["request"], exchange["response"]
            lines.append("    the exchange that shows it:" if exchange.get("proves") else "    the last exchange:")
            lines.append(f"    > {request['method']} {request['url']}")
            if request.get("body"):
                lines.append(f"    > {request['body'][:300]}")
            lines.append(f"    < {response['status']}")
            lines += [f"    < {name}: {value}" for name, value in headers_about(exchange, findings)]
            lines.append(f"    < {response['body'][:300]}")
            lines.append(f"    reproduce: {exchange['curl'][:500]}")
    return "\n".join(lines)


class RequirementItem(pytest.Item):
    def __init__(self, *, requirement: Requirement, profile: Profile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requirement = requirement
        self.profile = profile
        self.add_marker(pytest.mark.requirement(requirement.id, requirement.level, requirement.subsystem))
        self.add_marker(requirement.level.lower())
        self.add_marker(_MARKER_OF_SUBSYSTEM[requirement.subsystem])

    def runtest(self) -> None:
        plugin: Any = self.config.pluginmanager.get_plugin(ConformancePlugin.name)
        result = plugin.runner().run_requirement(self.requirement, self.profile.id)
        result = RequirementResult.from_transport(redact_value(result.to_transport()))  # before anything renders it
        result, expected = plugin.exemptions.apply(result)
        transport = result.to_transport()
        self.user_properties.append((RESULT_PROPERTY, json.dumps(transport, ensure_ascii=False)))
        self.compact = result_properties(transport)  # what the teardown report shows JUnit instead
        if plugin.worker and not plugin.target_sent:  # under xdist only the workers talk to the target
            self.user_properties.append((TARGET_PROPERTY, json.dumps(plugin.target_record(), ensure_ascii=False)))
            plugin.target_sent = True
        describe_for_allure(result)
        if expected:
            pytest.xfail(expected)
        if result.verdict in (Verdict.FAIL, Verdict.INCONCLUSIVE):
            raise RequirementFailed(result)
        if result.verdict in (Verdict.NOT_APPLICABLE, Verdict.MANUAL):
            pytest.skip(f"{result.verdict.value}: {result.checks[0].message}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, RequirementFailed):
            return terminal(redact(describe(excinfo.value.result)))
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(self.requirement.file), self.requirement.line - 1, (
            f"{self.profile.id}::{self.requirement.id} {self.requirement.title['en']}")


class ProfileFile(pytest.File):
    def __init__(self, *, profile: Profile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.profile = profile

    def collect(self) -> Any:
        for requirement in self.profile.requirements:
            yield RequirementItem.from_parent(self, name=requirement.id, requirement=requirement, profile=self.profile)


class ConformancePlugin:
    """Loads the profiles, owns the run session, and writes a report per profile."""

    name = "sc-conformance-suite"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        names = config.getoption("sc_profile") or profile_ids()  # the whole standard by default
        try:
            self.profiles = [load_profile(name, validate_check=validate_call) for name in names]
        except ProfileError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.by_path = {p.path.resolve(): p for p in self.profiles}
        self.base_url: str | None = resolve_env("base-url", config.getoption("sc_base_url"))
        self.token: str | None = resolve_env("token", config.getoption("sc_token"))
        register_secrets([self.token])
        seed = resolve_env("seed", config.getoption("sc_seed"))
        workerinput = getattr(config, "workerinput", None)
        if seed is None and workerinput is not None:
            seed = workerinput.get("sc_seed")
        self.seed: int = seed if seed is not None else secrets.randbelow(2**32)
        self.faults: list[str] = config.getoption("sc_fault") or []
        self.variants: list[str] = config.getoption("sc_variant") or []
        if (self.faults or self.variants) and self.base_url:
            raise pytest.UsageError("--sc-fault and --sc-variant switch behaviours of the bundled reference "
                                    "platform; they cannot be used with --sc-base-url")
        if self.faults or self.variants:
            from .reference.faults import validate_faults
            from .reference.variants import validate_variants

            try:  # once, here: not once per requirement when the platform starts
                validate_faults(self.faults)
                validate_variants(self.variants)
            except ConformanceError as exc:
                raise pytest.UsageError(str(exc)) from None
        self.report_dir = Path(config.getoption("sc_report_dir"))
        try:
            self.inputs = RunInputs.from_options(config.getoption)
        except ConformanceError as exc:
            raise pytest.UsageError(str(exc)) from None
        try:
            self.exemptions = Exemptions.load(config.getoption("sc_waivers"), config.getoption("sc_baseline"),
                                              trusted_keys())
            self.exemptions.check_scope({p.id: [r.id for r in p.requirements] for p in self.profiles})
            self.allow = allowance(config.getoption)
        except ConformanceError as exc:
            raise pytest.UsageError(str(exc)) from None
        self._binding: TargetBinding | None = None  # set by the preflight this process makes
        self.results: dict[str, dict[str, RequirementResult]] = {p.id: {} for p in self.profiles}
        self.started_at = _now()
        # The bundled platform runs in a process of its own (embedded_reference(apart=True)), like any other.
        chosen = config.getoption("sc_concurrency")
        self.concurrency = chosen if chosen is not None else DEFAULT_CONCURRENCY
        if self.concurrency < 1:
            raise pytest.UsageError(f"--concurrency must be at least 1, got {self.concurrency}")
        self._runner: Runner | None = None
        self._stack = contextlib.ExitStack()
        self.worker = getattr(config, "workerinput", None) is not None
        self.target_sent = False  # a worker's target record went to the controller
        self._received_target: dict[str, Any] | None = None  # the controller's copy of a worker's record
        self._declared: list[dict[str, Any]] | None = None
        self._cleanups: list[dict[str, Any]] = []  # --cleanup outcomes: this process's, then each xdist worker's
        self._worker_created: list[str] = []
        if config.args_source is not pytest.Config.ArgsSource.ARGS:
            config.args = [str(p.path) for p in self.profiles]

    # -- pytest-xdist (optional): one seed for all workers
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["sc_seed"] = self.seed

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """What a worker created and cleaned up travels back on its workeroutput."""
        output = getattr(node, "workeroutput", {})
        self._worker_created.extend(json.loads(output.get("sc_created", "[]")))
        if "sc_cleanup" in output:
            self._cleanups.append(json.loads(output["sc_cleanup"]))

    def _clean_up(self) -> None:
        """--cleanup, while the target is still open: delete what this process's session created."""
        if self._runner is None:
            return
        if self.inputs.cleanup:
            from .cleanup import clean_up

            self._cleanups.append(clean_up(self._runner.session))
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["sc_created"] = json.dumps(self._runner.session.created)
            if self._cleanups:
                workeroutput["sc_cleanup"] = json.dumps(self._cleanups[-1])

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Requirements that name an oracle run after every other: they judge the traffic of the whole run."""
        def late(item: pytest.Item) -> bool:
            return isinstance(item, RequirementItem) and judges_traffic(item.requirement)

        items[:] = [i for i in items if not late(i)] + [i for i in items if late(i)]
        # what the oracles will judge: the own checks of every late requirement run before the first is judged
        # (a worker of pytest-xdist runs only some items, so there each oracle judges what its worker sent)
        self._planned = [] if self.worker else [i.requirement for i in items if isinstance(i, RequirementItem)]

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> ProfileFile | None:
        profile = self.by_path.get(file_path.resolve())
        if profile is None:
            return None
        # The node id is the profile id (``core::CORE-DISC-001``), not the path: a bundled or vendor profile
        # lies outside the rootdir, where pytest would give every profile the same empty id (``::CORE-DISC-001``)
        # and JUnit, Allure and --lf would take the same requirement in two profiles for one test.
        return ProfileFile.from_parent(parent, path=file_path, nodeid=profile.id, profile=profile)

    def runner(self) -> Runner:
        if self._runner is None:
            base_url, token = self.base_url, self.inputs.token(self.token)
            if base_url is None:
                from .embedded import embedded_reference

                try:
                    base_url, token = self._stack.enter_context(
                        embedded_reference(self.faults, variants=self.variants, apart=True))
                except ConformanceError as exc:
                    raise pytest.UsageError(str(exc)) from None
            target = self._target(base_url, token)
            self._stack.callback(target.close)
            self._runner = Runner(RunSession(target, seed=self.seed, **self.inputs.session_kwargs()),
                                  concurrency=self.concurrency)
            self._runner.plan(getattr(self, "_planned", []))
            self._runner.on_progress = self._show_progress
        return self._runner

    _shown_quarter = 0

    def _show_progress(self, done: int, total: int) -> None:
        """While check calls run ahead (--concurrency), no requirement has reported yet: say how far they are."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        shown = self.config.option.verbose >= 0 or any(  # the CLI runs pytest quietly and shows its own lines
            type(p).__name__ == "Progress" for p in self.config.pluginmanager.get_plugins())
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None or not shown or capture is None:
            return
        with capture.global_and_fixture_disabled():  # the first requirement's run is under way: its output is captured
            if reporter.isatty:
                reporter.write(f"\rchecks run ahead: {done}/{total} …" + ("\n" if done == total else ""), flush=True)
            elif done == total or done * 4 // total != self._shown_quarter:  # a line at each quarter
                self._shown_quarter = done * 4 // total
                reporter.write_line(f"checks run ahead: {done}/{total}")

    def _target(self, base_url: str, token: str | None) -> Target:
        try:
            return Target(base_url, token=token, timeout=self.config.getoption("sc_timeout"),
                          retry_budget=self.config.getoption("sc_retry_budget"),
                          run_id=f"sc-{self.seed}", connections=max(8, self.concurrency),
                          **self.inputs.target_kwargs())
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """Preflight before any requirement runs: where the target lives (an external URL: the controller;
        the bundled platform: wherever it is started), so a wrong token or URL stops the run with one line."""
        if session.config.option.collectonly or not session.items:
            return
        worker = getattr(self.config, "workerinput", None) is not None
        try:
            if self.base_url is not None and not worker and not self.config.stash.get(PREFLIGHTED, False):
                with contextlib.closing(self._target(self.base_url, self.inputs.token(self.token))) as target:
                    self._binding = preflight(target, self.inputs.credentials, catalogue(), run_token=self.token)
            elif self.base_url is None and (worker or not self.config.pluginmanager.has_plugin("dsession")):
                runner = self.runner()
                self._binding = preflight(runner.session.target, runner.session.credentials,
                                          runner.session.catalogue)
            if not worker:
                self._refuse_reports_of_another_target()
        except (PreflightError, UsageError) as exc:
            raise pytest.UsageError(str(exc)) from None

    def _binding_record(self) -> dict[str, Any]:
        """The report's ``target`` members the preflight found (this process's, or the door's that made it)."""
        binding = self._binding or self.config.stash.get(TARGET_BINDING, None)
        return binding.to_json() if binding is not None else {}

    def _refuse_reports_of_another_target(self) -> None:
        """--lf and --baseline read earlier reports: one made against another platform, or one that contradicts
        itself, is refused here, after the preflight and before any requirement runs."""
        from .reports.binding import mismatch
        from .reports.consistency import require_consistent

        now = {"base_url": self.base_url, "reference_platform": self.base_url is None, **self._binding_record()}
        baseline = self.exemptions.baseline
        if baseline is not None and baseline.target is not None:
            moved = mismatch(baseline.target, now, self.allow)
            if moved:
                raise UsageError(f"--baseline {baseline.path}: {moved}")
        if not self.config.getoption("lf", False):
            return
        for profile in self.profiles:
            previous = self._previous_report(profile)
            if previous is None:
                continue
            path = self.report_dir / profile.id / "report.json"
            require_consistent(previous, f"--lf: {path}")
            moved = mismatch(previous.get("target"), now, self.allow)
            if moved:
                raise UsageError(f"--lf: {path}: {moved} (or use another {self.config.stash.get(OPTION_PREFIX, '--sc-')}"
                                 "report-dir)")

    def _previous_report(self, profile: Profile) -> dict[str, Any] | None:
        """The report --lf merges into: the one of this profile version in the report directory, if readable."""
        from .reports.signing import read_report

        try:
            _raw, previous = read_report(self.report_dir / profile.id / "report.json")
        except (OSError, ValueError, ConformanceError):
            return None
        return previous if previous.get("profile", {}).get("digest") == profile.digest else None

    def _declared_profiles(self) -> list[dict[str, Any]] | None:
        if self._runner is None:
            return None
        try:
            exchange = self._runner.session.target.request("GET", self._runner.session.catalogue.conformance_path)
            document = exchange.json() if exchange.status == 200 else None
        except (TargetError, ValueError):
            return None
        profiles = document.get("profiles") if isinstance(document, dict) else None
        return [p for p in profiles if isinstance(p, dict)] if isinstance(profiles, list) else None

    def target_record(self) -> dict[str, Any]:
        """The report's ``target``: the platform this process talked to and the profiles it declares."""
        target = {
            "base_url": self.base_url or (self._runner.session.target.base_url if self._runner else "reference"),
            "declared_profiles": self._declared_profiles(),
            "reference_platform": self.base_url is None,
            "faults": list(self.faults),
            "variants": list(self.variants),
            "transport": self.inputs.transport_record(),
            **self._binding_record(),
        }
        if self._runner is not None:  # waits on 429/503 Retry-After (S5); under xdist, of this process only
            target["rate_limits"] = self._runner.session.target.rate_limits.to_json()
            target["exchanges"] = self._runner.session.traffic.count
            target["judgements"] = self._runner.session.traffic.judgements
            # check calls in flight at once, and the longest run of requests that had to follow one another
            target["concurrency"] = {"in_flight": self._runner.concurrency,  # one at a time: every request waits
                                     "critical_path": self._runner.critical_path if self._runner.concurrency > 1
                                     else self._runner.session.target.requests}
        return target

    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        if isinstance(item, RequirementItem):  # the call report carried the result; keep JUnit XML readable
            item.user_properties = compact_properties(item.user_properties, {RESULT_PROPERTY, TARGET_PROPERTY},
                                                      getattr(item, "compact", []))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        compact: list[tuple[str, Any]] | None = None
        for name, value in report.user_properties:
            if name == RESULT_PROPERTY:
                transport = json.loads(value)
                result = RequirementResult.from_transport(transport)
                self.results.setdefault(result.profile, {})[result.id] = result
                self._junit_classname(report, result)
                compact = result_properties(transport)
            elif name == TARGET_PROPERTY and self._received_target is None:
                self._received_target = json.loads(value)
        if compact is not None and not self.worker:  # arrived: pytest keeps every report to the end, not the JSON
            report.user_properties = compact_properties(report.user_properties, {RESULT_PROPERTY, TARGET_PROPERTY},
                                                        compact)

    def _junit_classname(self, report: pytest.TestReport, result: RequirementResult) -> None:
        """JUnit's classname is ``<profile>.<sub-system>``: CI systems group by it, and (classname, name) is unique.

        pytest derives it from the node id (``core``); the attribute set before junitxml sees the call report
        survives, as ``record_xml_attribute`` does it.
        """
        junitxml = self.config.pluginmanager.get_plugin("junitxml")
        xml = self.config.stash.get(junitxml.xml_key, None) if junitxml is not None else None
        if xml is not None:
            xml.node_reporter(report).add_attribute("classname", f"{result.profile}.{result.requirement['subsystem']}")

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.worker:
            self._clean_up()
            self._stack.close()
            return  # the controller writes the reports
        if exitstatus == pytest.ExitCode.USAGE_ERROR:
            self._stack.close()
            return  # nothing was certified: a preflight or option problem writes no report
        target = self.target_record() if self._runner or self._received_target is None else self._received_target
        target = {**target, **self._binding_record()}  # under xdist the controller made the external preflight
        created = (list(self._runner.session.created) if self._runner else []) + self._worker_created
        self._clean_up()
        self._stack.close()
        finished = _now()
        self.written: list[tuple[dict[str, Any], Path]] = []
        self.notes: list[str] = []  # lines for the terminal summary (an untrusted report under --lf)
        if not any(self.results.values()):
            return
        for profile in self.profiles:
            from .reports import build_report

            report = build_report(
                profile, self.results.get(profile.id, {}), schemas_digest=schema_store().digest,
                target=target, seed=self.seed, started_at=self.started_at, finished_at=finished,
                created_records=created, interrupted=exitstatus == pytest.ExitCode.INTERRUPTED,
            )
            if self.inputs.cleanup:
                from .cleanup import merge_cleanups

                report["cleanup"] = merge_cleanups(self._cleanups)
            self.exemptions.annotate(report, [r.id for r in profile.requirements])
            report = self._merged_into_previous(report)
            path = write_reports(report, self.report_dir)
            # what the summary and the exit status read; the requirements (evidence and all) are in the file
            self.written.append(({k: v for k, v in report.items() if k != "requirements"}, path))
        if session.exitstatus == pytest.ExitCode.OK and any(fails_the_run(report) for report, _ in self.written):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # as the CLI: incomplete is not conformant

    def _merged_into_previous(self, report: dict[str, Any]) -> dict[str, Any]:
        """Under ``--lf``, the re-run merged into the report it re-runs, as the CLI's ``--rerun-failed`` does.

        Without a previous report of the same profile version in the report directory the re-run stands alone
        (and says which requirements it did not run, like any partial run). As for ``--rerun-failed``, the
        earlier verdicts are kept only when a trusted key ($SC_TRUSTED_KEYS) signed that report; pytest chose
        what to re-run, so from an untrusted one the requirements not re-run become ``not_run`` (incomplete).
        """
        if not self.config.getoption("lf", False):
            return report
        from .reports.merge import merge_reports, report_digest
        from .reports.signing import check_signature, read_report

        path = self.report_dir / report["profile"]["id"] / "report.json"
        try:
            raw, previous = read_report(path)
        except (OSError, ValueError, ConformanceError):
            return report
        if previous.get("profile", {}).get("digest") != report["profile"]["digest"]:
            return report
        trust = check_signature(raw, previous, trusted_keys())
        if trust.state != "trusted":
            self.notes.append(f"--lf: the earlier report {path} is {trust.label}; its verdicts cannot be trusted, "
                              "so the requirements not re-run are listed as not run (sign reports with `report "
                              "sign` and trust the key with $SC_TRUSTED_KEYS to keep them)")
        return merge_reports(previous, report, old_digest=report_digest(raw), old_trust=trust, allow=self.allow)

    def _summarise_leftovers(self, terminalreporter: Any, report: dict[str, Any], prefix: str) -> None:
        """What the run leaves on the platform: the records it created, less what --cleanup removed."""
        created = report.get("created_records", [])
        cleanup = report.get("cleanup")
        if cleanup is not None:
            reasons = sorted({k["reason"] for k in cleanup["kept"]})
            stays = f"; {len(cleanup['kept'])} stay ({'; '.join(reasons)})" if cleanup["kept"] else "; none stay"
            terminalreporter.write_line(f"cleanup: removed {len(cleanup['removed'])} records the run created "
                                        f"({len(cleanup['already_gone'])} were already gone){stays}")
        elif created and self.base_url is not None:
            terminalreporter.write_line(f"{len(created)} records the run created stay on the platform "
                                        f"(created_records in the report; {prefix}cleanup deletes them where "
                                        "the platform offers DELETE)")

    @pytest.hookimpl(trylast=True)
    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        """In the CLI door Ctrl-C is one line of ours (exit 130, the partial report marked), not pytest's banner with
        a path inside the suite; the pytest door keeps pytest's own."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and self.config.stash.get(OPTION_PREFIX, "--sc-") == "--":
            reporter._report_keyboardinterrupt = lambda: reporter.write_sep(
                "!", "interrupted (Ctrl-C): what finished is in the partial report, marked interrupted")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        written = getattr(self, "written", [])
        if not written:
            return
        terminalreporter.section("smart-community conformance")
        for report, path in written:
            counts = report["summary"]["by_verdict"]
            shown = ", ".join(f"{n} {v}" for v, n in counts.items() if n) or "no requirement finished"
            verdict = report["verdict"]
            markup = {"green": verdict == "conformant", "red": verdict == "not-conformant",
                      "yellow": verdict == "incomplete", "bold": True}
            terminalreporter.write(f"{report['profile']['id']} {report['profile']['version']}: ")
            terminalreporter.write(verdict.upper(), **markup)
            unique = report["summary"].get("unique_failures", {}).get("count", 0)
            shown += f"; {unique} unique failure{'s' if unique != 1 else ''}" if unique else ""
            score = report["summary"]["score"]
            terminalreporter.write_line(f"  ({shown}; {'no score' if score is None else f'score {score}'}) → {path}")
            for line in waiver_lines(report):
                terminalreporter.write_line("  " + terminal(redact(line), newlines=False), yellow=True)
        prefix = self.config.stash.get(OPTION_PREFIX, "--sc-")
        self._summarise_leftovers(terminalreporter, written[0][0], prefix)
        terminalreporter.write_line(f"seed {self.seed} (re-run with {prefix}seed {self.seed})")
        for note in self.notes:
            terminalreporter.write_line(terminal(redact(note), newlines=False), yellow=True)
        if self.inputs.insecure:
            terminalreporter.write_line(self.inputs.transport_record()["warning"], red=True, bold=True)
