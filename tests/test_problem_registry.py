"""The problem registry (``schemas/interface/problem.json``, ``code``): every code the standard names or the
reference platform answers is registered, with a title in Chinese and in English."""

import ast
import json
import re
from pathlib import Path

import httpx

from conformance.fixtures import load_fixture
from conformance.reference import create_app, mint_token, running
from conformance.reference.problems import _CODE_BY_STATUS, registered_titles
from conformance.resources import schemas_dir

REFERENCE = Path(__file__).resolve().parents[1] / "conformance" / "reference"
SECRET = "problem-registry-test-secret-of-32-bytes"
# Settled by the lead where the published text was silent (SETTLEMENTS S10): a refused DELETE of a referenced record.
SETTLED = {"record-referenced"}


def registry():
    document = json.loads((schemas_dir() / "interface" / "problem.json").read_text(encoding="utf-8"))
    return document["properties"]["code"]


def codes_the_reference_can_answer():
    """Every code literal given to ProblemError in conformance/reference, and the codes of its status fallback."""
    found = set(_CODE_BY_STATUS.values()) | {"internal-error"}
    for path in REFERENCE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ProblemError":
                code = node.args[1] if len(node.args) > 1 else None
                if isinstance(code, ast.Constant):
                    found.add(code.value)
                else:  # only the status fallback of problems.py computes a code; its map is counted above
                    assert path.name == "problems.py", f"{path.name}:{node.lineno}: a problem code must be a literal"
    return found


def codes_the_standard_names():
    """Codes in every `problems` map of the catalogue and the lifecycles."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "problems" and isinstance(value, dict):
                    found.update(value.values())
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for name in ("catalogue.json", "lifecycles.json"):
        walk(json.loads((schemas_dir() / "interface" / name).read_text(encoding="utf-8")))
    return found


def test_every_code_is_registered_with_a_chinese_and_an_english_title():
    code = registry()
    wanted = codes_the_reference_can_answer() | codes_the_standard_names() | SETTLED
    assert {"role-not-allowed", "transition-not-allowed", "validation-failed"} <= wanted  # the sources were read
    assert wanted - set(code["enum"]) == set(), "answered or named but not registered"
    assert set(code["x-titles"]) == set(code["enum"]) == set(code["x-statuses"])
    for name, titles in code["x-titles"].items():
        assert re.search(r"[\u4e00-\u9fff]", titles["zh"]), name
        assert titles["en"] and titles["en"].isascii(), name
        assert 400 <= code["x-statuses"][name] <= 599
    assert registered_titles() == code["x-titles"]


def test_a_gated_member_set_in_the_wrong_state_answers_a_registered_code_and_title():
    app = create_app(secret=SECRET)
    headers = {"Authorization": "Bearer " + mint_token(SECRET)}
    with running(app) as base_url, httpx.Client(base_url=base_url, headers=headers) as client:
        community = client.post("/communities", json=load_fixture("communities/valid/minimal")).json()["id"]
        order = {**load_fixture("work-orders/valid/minimal"), "community_id": community}
        order = {k: v for k, v in order.items() if not (isinstance(v, str) and v.startswith("{{ref:"))}
        created = client.post("/work-orders", json=order)
        assert created.status_code == 201, created.text
        answer = client.patch(f"/work-orders/{created.json()['id']}", json={"satisfaction": {"rating": 5}},
                              headers={"Content-Type": "application/merge-patch+json"})
    assert answer.status_code == 409 and answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] in registry()["enum"]
    assert problem["title"] == registered_titles()[problem["code"]]["en"]
