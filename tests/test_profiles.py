import textwrap

import pytest

from conformance.checks import validate_call
from conformance.errors import ProfileError
from conformance.profiles import load_profile

REQ = """\
  - id: {id}
    level: {level}
    subsystem: infrastructure
    title: {{zh: 标题, en: Title}}
    statement: {{zh: 陈述, en: Statement}}
    source: [DESIGN §3]
    checks:
      - check: {check}
"""


def write(tmp_path, name, body):
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def profile_text(pid, requirements, extra=""):
    head = f"id: {pid}\nversion: 1.0.0\nkind: local\ntitle: {{zh: 测试, en: Test}}\n{extra}requirements:\n"
    return head + "".join(REQ.format(**r) for r in requirements)


def load(path, **kw):
    return load_profile(str(path), search=(path.parent,), validate_check=validate_call, **kw)


def test_core_profile_is_complete():
    core = load_profile("core", validate_check=validate_call)
    assert len(core.requirements) >= 25
    assert {r.level for r in core.requirements} == {"SHALL", "SHOULD", "MAY"}
    assert {r.subsystem for r in core.requirements} == {"infrastructure", "governance-service", "guarantee"}
    ids = [r.id for r in core.requirements]
    assert len(ids) == len(set(ids))
    assert all(r.title["zh"] and r.title["en"] and r.statement["zh"] and r.source for r in core.requirements)


def test_a_typo_in_a_level_names_file_line_and_field(tmp_path):
    path = write(tmp_path, "typo", profile_text("typo", [
        {"id": "T-A-001", "level": "SHALL", "check": "problems.http_status"},
        {"id": "T-A-002", "level": "SHAL", "check": "problems.http_status"},
    ]))
    with pytest.raises(ProfileError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}:15: requirements[1] (T-A-002).level: 'SHAL' is not one of")
    assert "did you mean 'SHALL'?" in message
    assert "\n" not in message


def test_an_unknown_field_suggests_the_right_one(tmp_path):
    text = profile_text("typo", [{"id": "T-A-001", "level": "SHALL", "check": "problems.http_status"}])
    path = write(tmp_path, "typo", text.replace("    source:", "    sorce:"))
    with pytest.raises(ProfileError, match=r"typo.yaml:\d+: requirements\[0\] \(T-A-001\).*'sorce'.*did you mean 'source'"):
        load(path)


def test_an_unknown_check_suggests_the_right_one(tmp_path):
    path = write(tmp_path, "typo", profile_text("typo", [{"id": "T-A-001", "level": "SHALL", "check": "problems.http_statu"}]))
    with pytest.raises(ProfileError, match=r"typo.yaml:13: requirements\[0\] \(T-A-001\).checks\[0\].check: "
                                           r"unknown check 'problems.http_statu' \(did you mean 'problems.http_status'\?\)"):
        load(path)


def test_an_unknown_parameter_and_a_missing_fixture_are_errors(tmp_path):
    text = profile_text("typo", [{"id": "T-A-001", "level": "SHALL", "check": "validation.rejects"}])
    bad_param = text + "        params: {collection: residents, fixture: residents/invalid/naive-time, because: x, colour: red}\n"
    with pytest.raises(ProfileError, match="has no parameter 'colour'"):
        load(write(tmp_path, "typo", bad_param))
    bad_fixture = text + "        params: {collection: residents, fixture: residents/invalid/naive-tme, because: x}\n"
    with pytest.raises(ProfileError, match="no fixture 'residents/invalid/naive-tme'.*did you mean 'residents/invalid/naive-time'"):
        load(write(tmp_path, "typo", bad_fixture))


def test_yaml_syntax_errors_name_the_line(tmp_path):
    path = write(tmp_path, "broken", "id: broken\nversion: 1.0.0\ntitle: {zh: x\nrequirements: []\n")
    with pytest.raises(ProfileError, match=r"broken.yaml:\d+: invalid YAML"):
        load(path)


def test_extends_adds_and_tightens_without_copying(tmp_path):
    write(tmp_path, "base", profile_text("base", [
        {"id": "B-A-001", "level": "SHOULD", "check": "problems.http_status"},
        {"id": "B-A-002", "level": "MAY", "check": "problems.http_status"},
    ]))
    city = write(tmp_path, "city", profile_text(
        "city", [{"id": "C-A-001", "level": "SHALL", "check": "problems.http_status"}],
        extra="extends: [base]\noverrides:\n  B-A-001: {level: SHALL, reason: the city requires it}\n"))
    profile = load(city)
    assert [(r.id, r.level, r.profile) for r in profile.requirements] == [
        ("B-A-001", "SHALL", "base"), ("B-A-002", "MAY", "base"), ("C-A-001", "SHALL", "city")]
    assert profile.digest != load(tmp_path / "base.yaml").digest


def test_a_local_profile_cannot_loosen(tmp_path):
    write(tmp_path, "base", profile_text("base", [{"id": "B-A-001", "level": "SHALL", "check": "problems.http_status"}]))
    city = write(tmp_path, "city", profile_text("city", [], extra="extends: [base]\noverrides:\n"
                                                "  B-A-001: {level: MAY, reason: cheaper}\n").replace("requirements:\n", "requirements: []\n"))
    with pytest.raises(ProfileError, match=r"city.yaml:\d+: overrides.B-A-001.level: a profile may only tighten"):
        load(city)


def test_extends_cycles_and_unknown_parents_are_errors(tmp_path):
    write(tmp_path, "a", profile_text("a", [], extra="extends: [b]\n").replace("requirements:\n", "requirements: []\n"))
    write(tmp_path, "b", profile_text("b", [], extra="extends: [a]\n").replace("requirements:\n", "requirements: []\n"))
    with pytest.raises(ProfileError, match="extends forms a cycle: a → b → a"):
        load(tmp_path / "a.yaml")
    orphan = write(tmp_path, "c", profile_text("c", [], extra="extends: [cor]\n").replace("requirements:\n", "requirements: []\n"))
    with pytest.raises(ProfileError, match=r"c.yaml:5: extends\[0\]: unknown profile 'cor' \(did you mean 'core'\?\)"):
        load(orphan)


def test_duplicate_requirement_ids_are_errors(tmp_path):
    path = write(tmp_path, "dup", profile_text("dup", [
        {"id": "D-A-001", "level": "SHALL", "check": "problems.http_status"},
        {"id": "D-A-001", "level": "SHALL", "check": "problems.http_status"},
    ]))
    with pytest.raises(ProfileError, match=r"dup.yaml:14: requirements\[1\] \(D-A-001\).id: duplicate requirement id"):
        load(path)
