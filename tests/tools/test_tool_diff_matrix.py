"""``profiles diff`` and ``profiles matrix`` on the bundled profile and an edited copy of the tree."""

import csv
import io
import json
import shutil
from pathlib import Path

import yaml

from conformance.cli import main
from conformance.profiles import load_profile
from conformance.resources import profiles_dir, schemas_dir
from conformance.tools.diff import diff_profiles
from conformance.tools.matrix import COLUMNS, matrix_rows, to_csv, to_markdown


def edited_tree(tmp_path):
    """A copy of profiles/ and schemas/ with one requirement loosened, one tightened, one removed, one schema changed."""
    shutil.copytree(schemas_dir(), tmp_path / "schemas")
    (tmp_path / "profiles").mkdir()
    data = yaml.safe_load((profiles_dir() / "core.yaml").read_text(encoding="utf-8"))
    data["version"] = "1.1.0"
    by_id = {r["id"]: r for r in data["requirements"]}
    by_id["CORE-DISC-001"]["level"] = "SHOULD"
    should = next(r for r in data["requirements"] if r["level"] == "SHOULD" and r["id"] != "CORE-DISC-001")
    should["level"] = "SHALL"
    removed = data["requirements"].pop(-1)
    (tmp_path / "profiles" / "core.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    community = tmp_path / "schemas" / "entities" / "community.json"
    schema = json.loads(community.read_text(encoding="utf-8"))
    schema.setdefault("properties", {})["motto"] = {"type": "string"}
    community.write_text(json.dumps(schema), encoding="utf-8")
    return tmp_path / "profiles" / "core.yaml", should["id"], removed["id"]


def test_diff_names_each_kind_of_change(tmp_path):
    new, tightened, removed = edited_tree(tmp_path)
    markdown = diff_profiles("core", str(new))
    section = {title: body for title, body in (part.split("\n", 1) for part in markdown.split("## ")[1:])}
    assert "CORE-DISC-001 | SHOULD" in section["Loosened (1)"] and "SHALL → SHOULD" in section["Loosened (1)"]
    assert f"{tightened} | SHALL" in section["Tightened (1)"]
    assert removed in section["Removed (1)"]
    assert "entities/community.json" in section["Schemas changed (1)"] and "motto" in section["Schemas changed (1)"]
    assert "None." in section["Added (0)"]


def test_diff_of_a_profile_with_itself_is_empty():
    markdown = diff_profiles("core", "core")
    assert "(0)" in markdown and "| CORE-" not in markdown


def test_matrix_traces_every_requirement():
    profile = load_profile("core")
    rows = matrix_rows(profile)
    assert [r["requirement"] for r in rows] == [r.id for r in profile.requirements]
    by_id = {r["requirement"]: r for r in rows}
    assert "residents/invalid/bad-check-character" in by_id["CORE-ERR-001"]["fixtures"]
    assert "entities/resident.json" in by_id["CORE-ERR-001"]["schemas"]
    assert all(r["source"] and r["checks"] for r in rows)
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert tuple(parsed[0]) == COLUMNS and len(parsed) == len(rows)
    assert to_markdown(rows).count("\n| CORE-") == len([r for r in rows if r["requirement"].startswith("CORE-")])


def test_cli_diff_and_matrix(tmp_path, capsys):
    new, _, _ = edited_tree(tmp_path)
    assert main(["profiles", "diff", "core", str(new)]) == 0
    assert capsys.readouterr().out.startswith(f"# core: {load_profile('core').version} → 1.1.0")
    assert main(["profiles", "matrix", "core", "--format", "csv", "-o", str(tmp_path / "m.csv")]) == 0
    assert (tmp_path / "m.csv").read_text(encoding="utf-8").startswith(",".join(COLUMNS))


def test_diff_of_core_against_a_city_lists_its_schemas_fixtures_and_reasons():
    """A city profile is read with the national schemas and its standard's own: nothing national is 'removed'."""
    markdown = diff_profiles("core", "harbour-city")
    section = {title: body for title, body in (part.split("\n", 1) for part in markdown.split("## ")[1:])}
    assert "None." in section["Removed (0)"] and "HBC-WO-001" in section["Added (35)"]
    assert section["Schemas changed (1)"].strip() == "- added `harbour-city: harbour-city.json`"
    assert ("`work-orders/valid/harbour-district` (harbour-city/fixtures/work-orders/valid/harbour-district.json)"
            in section["Local fixtures (1)"])
    tightened = section["Tightened (1)"]
    assert "CORE-TRACE-001 | SHALL" in tightened and "SHOULD → SHALL \\(harbour-city\\)\\: the harbour city" in tightened


def test_matrix_marks_local_fixtures_and_schemas_and_every_override():
    rows = {r["requirement"]: r for r in matrix_rows(load_profile("example-city"))}
    local = rows["EXC-WO-001"]
    assert "work-orders/valid/city-street-code (local)" in local["fixtures"].split("; ")
    assert "work-orders/valid/minimal" in local["fixtures"].split("; ")  # the national fixture, unmarked
    assert "example-city.json#/$defs/work-order (local)" in local["schemas"].split("; ")
    assert rows["CORE-VAL-009"]["override"] == ("SHOULD → SHALL (example-city): the city's data exchange drops "
                                                "nothing silently: unknown fields are refused")
    assert rows["CORE-DISC-001"]["override"] == ""
    assert "| SHOULD → SHALL \\(example-city\\)" in to_markdown(list(rows.values()))


def test_matrix_and_lint_of_a_standard_cover_its_own_profiles(capsys):
    harbour = str(Path(__file__).resolve().parents[2] / "examples" / "harbour-city")
    assert main(["profiles", "matrix", "--standard", harbour, "--format", "csv"]) == 0
    parsed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["profile"] for r in parsed} >= {"harbour-city", "core"} and len(parsed) == 80
    assert main(["profiles", "lint", "--strict", "--standard", harbour]) == 0


def test_diff_of_two_versions_of_one_city_standard(tmp_path, capsys):
    """Two folders of the harbour city (one id): each side is read with its own standard's schemas."""
    harbour = Path(__file__).resolve().parents[2] / "examples" / "harbour-city"
    shutil.copytree(harbour, tmp_path / "harbour-city")
    schema = tmp_path / "harbour-city" / "schemas" / "harbour-city.json"
    document = json.loads(schema.read_text(encoding="utf-8"))
    document["$defs"]["district-extension"]["properties"]["berth"] = {"type": "string"}
    schema.write_text(json.dumps(document), encoding="utf-8")
    assert main(["profiles", "diff", str(harbour / "profiles" / "harbour-city.yaml"),
                 str(tmp_path / "harbour-city" / "profiles" / "harbour-city.yaml")]) == 0
    out = capsys.readouterr().out
    assert "## Schemas changed (1)\n\n- changed `harbour-city: harbour-city.json`: + `/$defs/district-extension/berth`" in out
    assert "## Removed (0)" in out and "## Local fixtures (0)" in out
