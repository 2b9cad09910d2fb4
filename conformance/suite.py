"""Profiles as pytest items: one item per requirement, reports written when the session ends.

Results travel on ``report.user_properties`` (as junitxml does) so they reach the controller
under pytest-xdist; the reporter builds one report per profile from them.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from .checks import validate_call
from .errors import ConformanceError, ProfileError
from .escaping import terminal
from .inputs import RunInputs
from .options import resolve_env
from .profiles import Profile, Requirement, load_profile, profile_ids
from .redaction import redact, redact_value, register_secrets
from .reports import write_reports
from .reports.allure import describe_for_allure
from .reports.junit import compact_properties
from .reports.signing import trusted_keys
from .reports.waivers import Exemptions, waiver_lines
from .results import RequirementResult
from .runner import Runner
from .schemas import schema_store
from .session import RunSession
from .target import Target, TargetError
from .verdicts import Verdict

__all__ = ["ConformancePlugin", "ProfileFile", "RequirementItem"]

RESULT_PROPERTY = "sc_conformance_result"
_MARKER_OF_SUBSYSTEM = {"infrastructure": "infrastructure", "governance-service": "governance_service",
                        "guarantee": "guarantee"}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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
            lines.append(f"    - {finding}")
        for exchange in check.evidence[-2:]:
            if "request" in exchange:
                request, response = exchange["request"], exchange["response"]
                lines.append(f"    > {request['method']} {request['url']}")
                lines.append(f"    < {response['status']} {response['body'][:300]}")
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
        plugin: ConformancePlugin = self.config.pluginmanager.get_plugin(ConformancePlugin.name)
        result = plugin.runner().run_requirement(self.requirement, self.profile.id)
        result = RequirementResult.from_transport(redact_value(result.to_transport()))  # before anything renders it
        result, expected = plugin.exemptions.apply(result)
        self.user_properties.append((RESULT_PROPERTY, json.dumps(result.to_transport(), ensure_ascii=False)))
        describe_for_allure(result)
        if expected:
            pytest.xfail(expected)
        if result.verdict in (Verdict.FAIL, Verdict.INCONCLUSIVE):
            raise RequirementFailed(result)
        if result.verdict in (Verdict.NOT_APPLICABLE, Verdict.MANUAL):
            pytest.skip(f"{result.verdict.value}: {result.checks[0].message}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
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
        self.report_dir = Path(config.getoption("sc_report_dir"))
        try:
            self.inputs = RunInputs.from_options(config.getoption)
        except ConformanceError as exc:
            raise pytest.UsageError(str(exc)) from None
        try:
            self.exemptions = Exemptions.load(config.getoption("sc_waivers"), config.getoption("sc_baseline"),
                                              trusted_keys())
            self.exemptions.check_scope({p.id: [r.id for r in p.requirements] for p in self.profiles})
        except ConformanceError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.results: dict[str, dict[str, RequirementResult]] = {p.id: {} for p in self.profiles}
        self.started_at = _now()
        self._runner: Runner | None = None
        self._stack = contextlib.ExitStack()
        self._declared: list[dict[str, Any]] | None = None
        if config.args_source is not pytest.Config.ArgsSource.ARGS:
            config.args = [str(p.path) for p in self.profiles]

    # -- pytest-xdist (optional): one seed for all workers
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["sc_seed"] = self.seed

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> ProfileFile | None:
        profile = self.by_path.get(file_path.resolve())
        if profile is None:
            return None
        return ProfileFile.from_parent(parent, path=file_path, profile=profile)

    def runner(self) -> Runner:
        if self._runner is None:
            base_url, token = self.base_url, self.inputs.token(self.token)
            if base_url is None:
                from .embedded import embedded_reference

                try:
                    base_url, token = self._stack.enter_context(embedded_reference(self.faults, variants=self.variants))
                except ConformanceError as exc:
                    raise pytest.UsageError(str(exc)) from None
            try:
                target = Target(base_url, token=token, timeout=self.config.getoption("sc_timeout"),
                                run_id=f"sc-{self.seed}", **self.inputs.target_kwargs())
            except ValueError as exc:
                raise pytest.UsageError(str(exc)) from None
            self._stack.callback(target.close)
            self._runner = Runner(RunSession(target, seed=self.seed, **self.inputs.session_kwargs()))
        return self._runner

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

    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        if isinstance(item, RequirementItem):  # the call report carried the result; keep JUnit XML readable
            item.user_properties = compact_properties(item.user_properties, RESULT_PROPERTY)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == RESULT_PROPERTY:
                result = RequirementResult.from_transport(json.loads(value))
                self.results.setdefault(result.profile, {})[result.id] = result

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if getattr(self.config, "workerinput", None) is not None:
            self._stack.close()
            return  # the controller writes the reports
        target = {
            "base_url": self.base_url or (self._runner.session.target.base_url if self._runner else "reference"),
            "declared_profiles": self._declared_profiles(),
            "reference_platform": self.base_url is None,
            "faults": list(self.faults),
            "variants": list(self.variants),
            "transport": self.inputs.transport_record(),
        }
        created = list(self._runner.session.created) if self._runner else []
        self._stack.close()
        finished = _now()
        self.written: list[tuple[dict[str, Any], Path]] = []
        if not any(self.results.values()):
            return
        for profile in self.profiles:
            from .reports import build_report

            report = build_report(
                profile, self.results.get(profile.id, {}), schemas_digest=schema_store().digest,
                target=target, seed=self.seed, started_at=self.started_at, finished_at=finished,
                created_records=created,
            )
            self.exemptions.annotate(report, [r.id for r in profile.requirements])
            self.written.append((report, write_reports(report, self.report_dir)))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        written = getattr(self, "written", [])
        if not written:
            return
        terminalreporter.section("smart-community conformance")
        for report, path in written:
            counts = report["summary"]["by_verdict"]
            shown = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
            verdict = report["verdict"]
            markup = {"green": verdict == "conformant", "red": verdict == "not-conformant",
                      "yellow": verdict == "incomplete", "bold": True}
            terminalreporter.write(f"{report['profile']['id']} {report['profile']['version']}: ")
            terminalreporter.write(verdict.upper(), **markup)
            terminalreporter.write_line(f"  ({shown}; score {report['summary']['score']}) → {path}")
            for line in waiver_lines(report):
                terminalreporter.write_line("  " + terminal(redact(line), newlines=False), yellow=True)
        terminalreporter.write_line(f"seed {self.seed} (re-run with --sc-seed {self.seed})")
        if self.inputs.insecure:
            terminalreporter.write_line(self.inputs.transport_record()["warning"], red=True, bold=True)
