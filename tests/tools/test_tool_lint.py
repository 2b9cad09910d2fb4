"""``profiles lint`` finds what a standards body must fix; the bundled core profile is clean."""

from conformance.cli import main
from conformance.profiles import profile_ids
from conformance.reference import FAULTS
from conformance.tools.lint import lint_profile

REQUIREMENT = """\
- id: {id}
  level: SHALL
  subsystem: infrastructure
  title: {{zh: '{zh}', en: Title}}
  statement: {{zh: 陈述, en: Statement}}
  source: [Paper §2]
  checks: [{check}]
"""


def faults():
    by_requirement = {}
    for fault in FAULTS.values():
        by_requirement.setdefault(fault.requirement, []).append(fault.name)
    return by_requirement


def write_profile(tmp_path, name, requirements, extends=()):
    body = "".join(REQUIREMENT.format(**r) for r in requirements)
    text = (f"id: {name}\nversion: 1.0.0\nkind: local\ntitle: {{zh: 测试, en: Test}}\n"
            f"extends: [{', '.join(extends)}]\nrequirements:{chr(10) + body if body else ' []' + chr(10)}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_core_profile_is_clean():
    assert [str(p) for p in lint_profile("core", faults())] == []


def test_problems_are_found_with_file_line_and_requirement(tmp_path):
    path = write_profile(tmp_path, "lintme", [
        {"id": "LINT-A-001", "zh": " ", "check": "{check: discovery.documnt}"},
        {"id": "LINT-B-001", "zh": "标题", "check": "{check: paging.limit, params: {collection: nowhere}}"},
    ], extends=["core"])
    problems = lint_profile(path, faults())
    text = "\n".join(map(str, problems))
    assert "LINT-A-001: title lacks its zh text" in text
    assert "unknown check 'discovery.documnt' (did you mean 'discovery.document'?)" in text
    assert "collection 'nowhere' has no fixtures" in text
    assert text.count("no fault in the reference platform") == 2
    assert all(p.file == str(path) and p.line for p in problems)
    assert not any(p.requirement and p.requirement.startswith("CORE-") for p in problems)  # inherited: not re-linted


def test_extends_cycle_is_reported(tmp_path):
    write_profile(tmp_path, "ping", [], extends=["pong"])
    pong = write_profile(tmp_path, "pong", [], extends=["ping"])
    (problem,) = lint_profile(pong, faults())
    assert "cycle" in problem.message


def test_cli_lint_exit_codes(tmp_path, capsys):
    bad = write_profile(tmp_path, "bad", [{"id": "BAD-X-001", "zh": "标题", "check": "{check: discovery.documnt}"}])
    assert main(["profiles", "lint", "core"]) == 0
    assert main(["profiles", "lint", str(bad)]) == 1
    assert "BAD-X-001: check discovery.documnt: unknown check" in capsys.readouterr().out


def test_a_shall_enforcing_a_should_rule_is_found(tmp_path):
    """generated.rejected without skip_kinds sends unknown-member mutants, a rule CORE-VAL-009 states as a SHOULD."""
    generated = "{check: generated.rejected, params: {collections: [communities]}}"
    path = write_profile(tmp_path, "levels", [{"id": "LVL-GEN-001", "zh": "标题", "check": generated}],
                         extends=["core"])
    text = "\n".join(map(str, lint_profile(path, faults())))
    assert "LVL-GEN-001: check generated.rejected enforces extra-field mutants as a SHALL, but CORE-VAL-009 " \
           "states that rule as a SHOULD" in text
    skipping = "{check: generated.rejected, params: {collections: [communities], skip_kinds: [extra-field]}}"
    path = write_profile(tmp_path, "levels", [{"id": "LVL-GEN-001", "zh": "标题", "check": skipping}],
                         extends=["core"])
    assert "generated.rejected enforces" not in "\n".join(map(str, lint_profile(path, faults())))


def test_every_shipped_profile_lints_clean(capsys):
    assert main(["profiles", "lint", "--strict"]) == 0, capsys.readouterr().out
    for profile_id in profile_ids():
        assert [str(p) for p in lint_profile(profile_id, faults())] == [], profile_id


def test_a_collection_the_platform_writes_needs_no_fixtures(tmp_path):
    path = write_profile(tmp_path, "trail", [
        {"id": "TRAIL-A-001", "zh": "标题", "check": "{check: audit.immutable, params: {collection: audit-records}}"}])
    messages = [p.message for p in lint_profile(path, faults())]
    assert not any("has no fixtures" in m for m in messages), messages


def test_no_fault_rule_is_a_warning_for_local_profiles_and_an_error_for_bundled_ones(tmp_path, capsys):
    local = write_profile(tmp_path, "city", [{"id": "CITY-X-001", "zh": "标题", "check": "{check: discovery.document}"}],
                          extends=["core"])
    (problem,) = lint_profile(local, faults())
    assert problem.severity == "warning" and "no fault in the reference platform" in str(problem)
    assert str(problem).startswith(f"{local}:") and ": warning: CITY-X-001: " in str(problem)
    assert main(["profiles", "lint", str(local)]) == 0
    assert main(["profiles", "lint", "--strict", str(local)]) == 1
    assert main(["profiles", "lint", "--require-faults", str(local)]) == 1
    assert "1 problem(s), 0 warning(s)" in capsys.readouterr().err
    (bundled,) = [p for p in lint_profile("core", {}) if p.requirement == "CORE-DISC-001"]
    assert bundled.severity == "error"
