"""Local standards (issue 20): a city's folder beside the suite lints, certifies and publishes with ``--standard``."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from conformance import resources
from conformance.cli import main
from conformance.errors import ProfileError, SchemaError, UsageError
from conformance.fixtures import fixture_names, load_fixture, resolve
from conformance.profiles import load_profile, profile_ids
from conformance.resources import examples_dir, set_local_roots
from conformance.schemas import SchemaStore, schema_store, schemas_dir
from conformance.standards import (
    activate,
    evaluation_dirs,
    installed,
    load_standard,
    resolve_standards,
    standard_of,
)

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NATIONAL = "https://smart-community.example/schemas/v1/"

STANDARD = """\
id: river-town
version: 1.2.0
title: {zh: 河镇地方标准, en: River town local standard}
national: 1.0.0
faults:
- requirement: RVT-WO-001
  fault: work-order-attachments-dropped
  reason: the town's work order requires its attachments
prose:
- id: ferry
  title: {zh: 渡口, en: The ferry}
  text: {zh: 工单带渡口编号。, en: Work orders carry the `ferry` number.}
"""

PROFILE = """\
id: river-town
version: 1.2.0
kind: local
title: {zh: 河镇配置, en: River town profile}
extends: [core]
overrides:
  CORE-PAGE-005:
    level: SHALL
    reason: the town's dashboards read empty pages
requirements:
- id: RVT-WO-001
  level: SHALL
  subsystem: governance-service
  title: {zh: 工单带渡口编号, en: Work orders carry the ferry number}
  statement: {zh: 工单带渡口编号与附件。, en: Every work order SHALL carry its ferry number and an attachment.}
  source: [River town standard §ferry]
  checks:
  - check: local.conforms
    params:
      collection: work-orders
      fixtures:
      - work-orders/valid/river-ferry
      schema: river-town.json#/$defs/work-order
"""

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://river-town.example/schemas/river-town.json",
    "title": "River town work order",
    "$defs": {
        "work-order": {
            "allOf": [
                {"$ref": NATIONAL + "entities/work-order.json"},
                {"type": "object", "required": ["attachments", "extensions"],
                 "properties": {"attachments": {"type": "array", "minItems": 1},
                                "extensions": {"type": "object", "required": ["river-town"],
                                               "properties": {"river-town": {
                                                   "type": "object", "required": ["ferry"],
                                                   "properties": {"ferry": {"type": "string",
                                                                            "pattern": "^F[0-9]+$",
                                                                            "description": "ferry number"}}}}}}},
            ]
        }
    },
}

FIXTURE = {
    "community_id": "{{ref:communities}}", "category": "repair", "description": "渡口栏杆松动",
    "submitter": {"role": "resident", "name": "江河"},
    "attachments": [{"name": "栏杆.jpg", "media_type": "image/jpeg", "url": "https://files.example.cn/f/1.jpg"}],
    "extensions": {"river-town": {"ferry": "F7"}},
}

SCHEME = """\
id: river-town
version: 1.0.0
title: {zh: 河镇评价方案, en: River town evaluation scheme}
extends: national
weights: {service: 30}
"""


def write_city(root: Path) -> Path:
    """A whole local standard in a folder: standard.yaml, a profile, a schema, a fixture and a scheme."""
    (root / "profiles").mkdir(parents=True)
    (root / "schemas").mkdir()
    (root / "fixtures" / "work-orders" / "valid").mkdir(parents=True)
    (root / "evaluation").mkdir()
    (root / "standard.yaml").write_text(STANDARD, encoding="utf-8")
    (root / "profiles" / "river-town.yaml").write_text(PROFILE, encoding="utf-8")
    (root / "schemas" / "river-town.json").write_text(json.dumps(SCHEMA, ensure_ascii=False), encoding="utf-8")
    (root / "fixtures" / "work-orders" / "valid" / "river-ferry.json").write_text(
        json.dumps(FIXTURE, ensure_ascii=False), encoding="utf-8")
    (root / "evaluation" / "river-town.yaml").write_text(SCHEME, encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def _no_standard_outlives_its_test():
    yield
    set_local_roots([])


@pytest.fixture
def city(tmp_path: Path) -> Path:
    return write_city(tmp_path / "river-town")


def test_a_standard_loads_with_its_folders(city):
    standard = load_standard(city)
    assert (standard.id, standard.version, standard.national) == ("river-town", "1.2.0", "1.0.0")
    assert standard.profile_ids() == ["river-town"]
    assert standard.evaluation_dir == city / "evaluation"
    (fault,) = standard.faults
    assert (fault.requirement, fault.fault, fault.line) == ("RVT-WO-001", "work-order-attachments-dropped", 6)


def test_a_broken_standard_yaml_names_file_line_and_field(city, capsys):
    (city / "standard.yaml").write_text(STANDARD.replace("national: 1.0.0", "national: one"), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_standard(city)
    assert str(caught.value).startswith(f"{city / 'standard.yaml'}:4: national: 'one' does not match")
    assert main(["profiles", "lint", "--standard", str(city), "river-town"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{city / 'standard.yaml'}:4: national:" in err


def test_a_folder_without_standard_yaml_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(UsageError, match="not a standard folder"):
        load_standard(tmp_path)
    assert main(["run", "--standard", str(tmp_path), "--profile", "core"]) == 2
    assert "not a standard folder (no standard.yaml)" in capsys.readouterr().err


def test_references_resolve_in_the_standard_first_then_in_the_national_base(city):
    activate(resolve_standards([str(city)]))
    assert "work-orders/valid/river-ferry" in fixture_names() and "work-orders/valid/minimal" in fixture_names()
    assert load_fixture("work-orders/valid/river-ferry")["extensions"] == {"river-town": {"ferry": "F7"}}
    profile = load_profile("river-town")  # by id: the given standard's profiles/ is searched first
    assert profile.path == city / "profiles" / "river-town.yaml"
    assert profile.requirement("CORE-PAGE-005").level == "SHALL"  # extends: core, from the national base
    store = schema_store()
    assert store.uri("river-town.json#/$defs/work-order") == SCHEMA["$id"] + "#/$defs/work-order"
    record = {**resolve(FIXTURE, lambda _: "c-1"), "id": "wo-1", "status": "submitted",
              "created_at": "2026-12-01T08:00:00+08:00", "updated_at": "2026-12-01T08:00:00+08:00",
              "status_history": []}
    assert store.errors("river-town.json#/$defs/work-order", record) == []
    # the national work order's own rules apply through its $id: a work order without a description fails both
    broken = {k: v for k, v in record.items() if k != "description"}
    assert any("description" in e.message for e in store.errors("river-town.json#/$defs/work-order", broken))
    lacking = {**record, "extensions": {}}
    assert store.errors("river-town.json#/$defs/work-order", lacking)
    assert store.errors("entities/work-order.json", lacking) == []  # the national base is untouched


def test_a_local_schema_may_not_redefine_a_national_id(tmp_path):
    local = tmp_path / "schemas"
    local.mkdir()
    (local / "x.json").write_text(json.dumps({"$id": NATIONAL + "entities/work-order.json", "type": "object"}))
    with pytest.raises(SchemaError, match="never redefines it"):
        SchemaStore(schemas_dir(), (local,))


def test_a_profile_file_inside_a_standard_implies_it(city):
    path = city / "profiles" / "river-town.yaml"
    assert standard_of(path).root == city.resolve()
    assert [s.id for s in resolve_standards([], [str(path)])] == ["river-town"]
    assert resolve_standards([], ["core"]) == []
    assert evaluation_dirs(path) == [city.resolve() / "evaluation"]


def test_standard_is_repeatable_and_the_first_is_searched_first(city, tmp_path):
    other = write_city(tmp_path / "copy")
    (other / "standard.yaml").write_text(STANDARD.replace("id: river-town", "id: river-copy"), encoding="utf-8")
    activate(resolve_standards([str(other), str(city)]))
    assert load_profile("river-town").path == other / "profiles" / "river-town.yaml"
    with pytest.raises(UsageError, match="two standards have the id"):
        resolve_standards([str(city), str(write_city(tmp_path / "twin"))])


def test_the_examples_are_installed_standards_known_by_id():
    # the repository's examples/ in a source tree, their copy in conformance/_data/examples in a wheel (CI)
    shipped = examples_dir()
    assert (shipped / "harbour-city" / "standard.yaml").read_bytes() == (
        EXAMPLES / "harbour-city" / "standard.yaml").read_bytes()
    assert {s.id for s in installed()} >= {"example-city", "harbour-city"}
    assert {"example-city", "harbour-city"} <= set(profile_ids())
    assert load_profile("example-city").path == shipped / "example-city" / "profiles" / "example-city.yaml"
    # nothing of the example city is left in the national base
    assert not (schemas_dir() / "local").exists()
    assert not list(resources.fixtures_dir().rglob("city-street-code.json"))


def test_a_distribution_registers_a_standard_through_the_entry_point(city, tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "rivertown_standard-1.0.dist-info").mkdir(parents=True)
    (site / "rivertown_standard-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: rivertown-standard\nVersion: 1.0\n")
    (site / "rivertown_standard-1.0.dist-info" / "entry_points.txt").write_text(
        "[sc_conformance.standards]\nriver-town = rivertown_standard:FOLDER\n")
    (site / "rivertown_standard.py").write_text(f"FOLDER = {str(city)!r}\n")
    monkeypatch.syspath_prepend(str(site))
    resources.installed_standards.cache_clear()
    try:
        assert "river-town" in [s.id for s in installed()]
        assert "river-town" in profile_ids()
        assert [s.root for s in resolve_standards(["river-town"])] == [city.resolve()]  # --standard ID
    finally:
        monkeypatch.delitem(sys.modules, "rivertown_standard", raising=False)
        monkeypatch.undo()
        resources.installed_standards.cache_clear()


def test_the_city_lints_clean_certifies_the_reference_platform_and_is_published(city, tmp_path, capsys):
    assert main(["profiles", "lint", "--strict", "--standard", str(city), "river-town"]) == 0, capsys.readouterr()
    reports = tmp_path / "reports"
    assert main(["run", "-q", "--standard", str(city), "--profile", "river-town", "--report-dir", str(reports),
                 "--seed", "7"]) == 0, capsys.readouterr().out[-3000:]
    report = json.loads((reports / "river-town" / "report.json").read_text(encoding="utf-8"))
    verdicts = {r["id"]: (r["level"], r["verdict"]) for r in report["requirements"]}
    assert verdicts["RVT-WO-001"] == ("SHALL", "pass") and verdicts["CORE-PAGE-005"] == ("SHALL", "pass")
    assert report["verdict"] == "conformant"
    assert report["evaluation"]["scheme"]["id"] == "river-town"  # the standard's own scheme
    assert "total" in report["evaluation"] and "grade" in report["evaluation"]
    site = tmp_path / "site"
    assert main(["standard", "build", "--standard", str(city), "-o", str(site)]) == 0
    for lang in ("zh", "en"):
        page = (site / lang / "local" / "river-town" / "index.html").read_text(encoding="utf-8")
        assert "RVT-WO-001" in page and "CORE-PAGE-005" in page and "the town&#39;s dashboards read empty pages" in page
        assert ("<code>ferry</code>" if lang == "en" else "工单带渡口编号") in page  # its prose, inline code set
        extensions = (site / lang / "local" / "river-town" / "extensions.html").read_text(encoding="utf-8")
        assert "extensions.river-town.ferry" in extensions and "^F[0-9]+$" in extensions
        assert "entities/work-order.html" in extensions  # the national entity it extends, linked
        evaluation = (site / lang / "local" / "river-town" / "evaluation.html").read_text(encoding="utf-8")
        assert "national" in evaluation and "<td>service</td><td>30</td>" in evaluation
        assert (site / lang / "req" / "RVT-WO-001.html").is_file()
    assert (site / "schemas" / "local" / "river-town" / "river-town.json").is_file()


def test_a_missing_fixture_or_schema_is_a_lint_error_naming_file_line_and_field(city, capsys):
    profile = city / "profiles" / "river-town.yaml"
    profile.write_text(PROFILE.replace("river-ferry", "river-fery").replace("river-town.json#", "river-twn.json#"),
                       encoding="utf-8")
    assert main(["profiles", "lint", "--standard", str(city), "river-town"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert (f"{profile}:22: RVT-WO-001: requirements[0] (RVT-WO-001).checks[0].params.fixtures[0]: no fixture "
            "'work-orders/valid/river-fery' (did you mean 'work-orders/valid/river-ferry'?)") in "\n".join(out)
    assert any(line.startswith(f"{profile}:23: RVT-WO-001: requirements[0] (RVT-WO-001).checks[0].params.schema: "
                               "no schema 'river-twn.json#/$defs/work-order'") for line in out), out


def test_lint_checks_declared_faults_and_says_how_a_city_proves_a_requirement(city, capsys):
    text = STANDARD.replace("work-order-attachments-dropped", "work-order-attachments-droped")
    (city / "standard.yaml").write_text(text, encoding="utf-8")
    assert main(["profiles", "lint", "--standard", str(city), "river-town"]) == 1
    out = capsys.readouterr().out
    assert (f"{city / 'standard.yaml'}:6: RVT-WO-001: faults[0].fault: no reference fault "
            "'work-order-attachments-droped' (did you mean 'work-order-attachments-dropped'?)") in out
    (city / "standard.yaml").write_text(STANDARD.split("faults:")[0] + "prose:" + STANDARD.split("prose:")[1])
    assert main(["profiles", "lint", "--standard", str(city), "river-town"]) == 0  # a warning only
    out = capsys.readouterr().out
    assert "warning: RVT-WO-001: no fault in the reference platform breaks this requirement" in out
    assert f"declaring in {city.resolve() / 'standard.yaml'} `faults:`" in out
    assert "conformance/reference/faults.py" not in out


def test_lint_finds_a_local_fixture_shadowing_the_national_one(city, capsys):
    shadow = city / "fixtures" / "work-orders" / "valid" / "minimal.json"
    shadow.write_text(json.dumps(FIXTURE), encoding="utf-8")
    assert main(["profiles", "lint", "--standard", str(city), "river-town"]) == 1
    assert f"{shadow}: shadows the national base's fixtures/work-orders/valid/minimal.json" in capsys.readouterr().out


def test_the_declared_fault_makes_the_local_requirement_fail(tmp_path, capsys):
    """The harbour city proves HBC-WO-001 with a reference fault it names as data, and passes without it."""
    reports = tmp_path / "reports"
    harbour = str(EXAMPLES / "harbour-city")
    assert main(["run", "-q", "--standard", harbour, "--profile", "harbour-city", "--report-dir", str(reports),
                 "--seed", "3"]) == 0, capsys.readouterr().out[-3000:]
    report = json.loads((reports / "harbour-city" / "report.json").read_text(encoding="utf-8"))
    assert {r["id"]: r["verdict"] for r in report["requirements"]}["HBC-WO-001"] == "pass"
    assert report["evaluation"]["scheme"]["id"] == "harbour-city"
    main(["run", "-q", "--standard", harbour, "--profile", "harbour-city", "--report-dir", str(reports),
          "-k", "HBC", "--fault", "work-order-attachments-dropped"])
    report = json.loads((reports / "harbour-city" / "report.json").read_text(encoding="utf-8"))
    (checked,) = [r for r in report["requirements"] if r["id"] == "HBC-WO-001"]
    assert checked["verdict"] == "fail" and "'attachments' is a required property" in checked["checks"][0]["message"]


def test_the_pytest_door_takes_sc_standard(city, pytester):
    result = pytester.runpytest_inprocess("-p", "sc_conformance", "--sc-standard", str(city), "--sc-profile",
                                          "river-town", "-k", "RVT", "--sc-report-dir",
                                          str(pytester.path / "reports"), "-q")
    result.assert_outcomes(passed=1)


def test_a_broken_local_schema_file_is_one_line(city):
    (city / "schemas" / "river-town.json").write_text("{not json", encoding="utf-8")
    activate(resolve_standards([str(city)]))
    with pytest.raises(SchemaError, match=r"river-town.json:1: not valid JSON"):
        schema_store()


def test_text_of_the_doc_examples_holds():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for command in ("profiles lint --standard examples/harbour-city harbour-city",
                    "run --standard examples/harbour-city --profile harbour-city",
                    "standard build --standard examples/harbour-city -o"):
        assert command in readme, textwrap.shorten(command, 60)


def test_run_refuses_a_missing_local_fixture_before_it_starts(city, capsys):
    profile = city / "profiles" / "river-town.yaml"
    profile.write_text(PROFILE.replace("river-ferry", "river-fery"), encoding="utf-8")
    assert main(["run", "--standard", str(city), "--profile", "river-town"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{profile}:22: requirements[0] (RVT-WO-001).checks[0].params.fixtures[0]: " \
                                   "no fixture 'work-orders/valid/river-fery'" in err


def test_lint_reads_the_local_fixtures_and_the_national_version(city, capsys):
    valid = city / "fixtures" / "work-orders" / "valid"
    (valid / "deep.json").write_text("[" * 100_000, encoding="utf-8")
    (valid / "no-description.json").write_text(json.dumps({k: v for k, v in FIXTURE.items() if k != "description"}),
                                               encoding="utf-8")
    (city / "fixtures" / "work-order" / "valid").mkdir(parents=True)
    (city / "fixtures" / "work-order" / "valid" / "x.json").write_text("{}", encoding="utf-8")
    (city / "standard.yaml").write_text(STANDARD.replace("national: 1.0.0", "national: 1.1.0"), encoding="utf-8")
    assert main(["profiles", "lint", "--standard", str(city), "river-town"]) == 1
    out = capsys.readouterr().out
    assert f"{valid / 'deep.json'}: the JSON is nested too deeply to be a fixture file" in out
    assert f"{valid / 'no-description.json'}: a valid fixture the national create schema refuses at /: " in out
    assert "did you mean 'work-orders'?" in out
    assert f"{city / 'standard.yaml'}:4: warning: national: extends national 1.1.0, but the suite holds" in out


def test_the_profile_digest_covers_the_standards_files(city, tmp_path):
    """An edited city fixture is another version of the profile: a report names what it ran against."""
    other = write_city(tmp_path / "edited")
    fixture = other / "fixtures" / "work-orders" / "valid" / "river-ferry.json"
    fixture.write_text(json.dumps({**FIXTURE, "description": "渡口栏杆断裂"}, ensure_ascii=False), encoding="utf-8")
    first = load_profile(city / "profiles" / "river-town.yaml")
    second = load_profile(other / "profiles" / "river-town.yaml")
    assert first.to_json() == second.to_json() and first.digest != second.digest
    assert load_profile(city / "profiles" / "river-town.yaml").digest == first.digest


def test_a_citys_words_are_escaped_on_every_page(city, tmp_path, capsys):
    """standard.yaml, a schema's title and description, a scheme's title: input, never markup."""
    hostile = "<script>alert(1)</script>"
    (city / "standard.yaml").write_text(STANDARD.replace("工单带渡口编号。", f"渡口 {hostile} `<b>x</b>`"), encoding="utf-8")
    schema = {**SCHEMA, "title": hostile, "description": f"<img src=x onerror=alert(1)> {hostile}"}
    (city / "schemas" / "river-town.json").write_text(json.dumps(schema), encoding="utf-8")
    (city / "evaluation" / "river-town.yaml").write_text(SCHEME.replace("河镇评价方案", f"评价 {hostile}"),
                                                         encoding="utf-8")
    site = tmp_path / "site"
    assert main(["standard", "build", "--standard", str(city), "-o", str(site)]) == 0
    pages = [p.read_text(encoding="utf-8") for p in (site / "zh" / "local" / "river-town").glob("*.html")]
    assert len(pages) == 3 and all("<script>alert" not in page and "<img src=x" not in page for page in pages)
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in page for page in pages)
    assert any("<code>&lt;b&gt;x&lt;/b&gt;</code>" in page for page in pages)  # inline code, still escaped
    assert main(["profiles", "list", "--standard", str(city)]) == 0
    assert "river-town\t1.2.0\t46 requirements\tRiver town profile" in capsys.readouterr().out
