"""A client generated from ``sc-conformance openapi`` by openapi-python-client works against the reference platform.

Slow (generation takes seconds and needs openapi-python-client: ``pip install openapi-python-client``).
"""

import importlib
import json
import shutil
import subprocess
import sys

import pytest

from conformance.embedded import embedded_reference
from conformance.fixtures import load_fixture
from conformance.tools.openapi import openapi_document

pytestmark = pytest.mark.slow


def _generator():
    found = shutil.which("openapi-python-client")
    if found is None:
        candidate = __import__("pathlib").Path(sys.executable).with_name("openapi-python-client")
        found = str(candidate) if candidate.exists() else None
    if found is None:
        pytest.skip("openapi-python-client is not installed")
    return found


def generate(tmp_path):
    (tmp_path / "openapi.json").write_text(json.dumps(openapi_document()), encoding="utf-8")
    (tmp_path / "config.yaml").write_text("project_name_override: sc-client\npackage_name_override: sc_client\n"
                                          "post_hooks: []\n", encoding="utf-8")
    done = subprocess.run([_generator(), "generate", "--path", "openapi.json", "--output-path", "client",
                           "--config", "config.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    return done


def test_the_generated_client_has_every_endpoint_and_no_warning(tmp_path):
    done = generate(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    document = openapi_document()
    operations = {op["operationId"] for item in document["paths"].values() for method, op in item.items()
                  if method != "parameters"}
    generated = {path.stem.replace("_", "-") for path in (tmp_path / "client" / "sc_client" / "api").rglob("*.py")
                 if path.stem != "__init__"}
    assert operations == generated


def test_the_generated_client_creates_reads_lists_and_pages_communities(tmp_path, monkeypatch):
    assert generate(tmp_path).returncode == 0
    monkeypatch.syspath_prepend(str(tmp_path / "client"))
    client_module = importlib.import_module("sc_client")
    models = importlib.import_module("sc_client.models")
    create = importlib.import_module("sc_client.api.communities.create_community")
    read = importlib.import_module("sc_client.api.communities.read_community")
    listing = importlib.import_module("sc_client.api.communities.list_communities")
    create_model = models.EntitiesCommunityCreate
    with embedded_reference() as (base_url, token):
        client = client_module.AuthenticatedClient(base_url=base_url, token=token)
        made = []
        for n in range(3):
            payload = {**load_fixture("communities/valid/minimal"), "name": f"生成客户端社区{n}"}
            created = create.sync_detailed(client=client, body=create_model.from_dict(payload))
            assert created.status_code == 201, created.content
            assert created.parsed.name == payload["name"] and created.parsed.id
            made.append(created.parsed.id)
        again = read.sync(made[0], client=client)
        assert again.id == made[0] and again.division_code == load_fixture("communities/valid/minimal")["division_code"]
        seen, cursor = [], None
        for _ in range(50):
            kwargs = {"limit": 1} if cursor is None else {"cursor": cursor}
            page = listing.sync(client=client, **kwargs)
            assert len(page.items) <= 1
            seen += [item.id for item in page.items]
            cursor = page.next_cursor
            if not cursor:
                break
        assert set(made) <= set(seen) and len(seen) == len(set(seen))
