"""Each tolerated variant of the reference platform really makes its choice (a variant that changed
nothing would pass the tolerance matrix trivially)."""

from __future__ import annotations

import contextlib
import re

import httpx
import pytest

from conformance.fixtures import load_fixture
from conformance.reference import create_app, running

SECRET = "reference-variant-test-secret-of-32-bytes"


@pytest.fixture
def platform():
    """``platform(*variants)`` → (client, base path) of a fresh platform on loopback, with a full-scope token."""
    with contextlib.ExitStack() as stack:

        def start(*variants: str) -> tuple[httpx.Client, str]:
            app = create_app(variants=variants, secret=SECRET)
            base_url = stack.enter_context(running(app))
            token = app.state.platform.issue_token()
            client = stack.enter_context(httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}))
            return client, app.state.platform.prefix

        yield start


def _create(client: httpx.Client, prefix: str = "", **extra) -> httpx.Response:
    return client.post(f"{prefix}/communities", json={**load_fixture("communities/valid/minimal"), **extra})


def test_max_page_50(platform):
    client, _ = platform("max-page-50")
    assert client.get("/.well-known/smart-community").json()["max_page_size"] == 50
    assert client.get("/communities", params={"limit": 51}).status_code == 400
    for _ in range(12):
        _create(client)
    assert len(client.get("/communities").json()["items"]) == 10


def test_no_delete(platform):
    client, _ = platform("no-delete")
    assert "delete" not in client.get("/.well-known/smart-community").json()["capabilities"]
    record = _create(client).json()
    refused = client.delete(f"/communities/{record['id']}")
    assert refused.status_code == 405 and "DELETE" not in refused.headers["allow"]
    assert refused.headers["content-type"] == "application/problem+json"


def test_drop_unknown_members(platform):
    client, _ = platform("drop-unknown-members")
    created = _create(client, population_density=3)
    assert created.status_code == 201 and "population_density" not in created.json()


def test_path_prefix(platform):
    client, prefix = platform("path-prefix")
    assert prefix == "/api"
    discovery = client.get("/api/.well-known/smart-community").json()
    assert {c["href"] for c in discovery["collections"]} >= {"/api/communities", "/api/residents"}
    assert client.get("/communities").status_code == 404
    assert client.get("/api/api/communities").status_code == 404
    assert _create(client, prefix).headers["location"].startswith("/api/communities/")


def test_second_precision(platform):
    client, _ = platform("second-precision")
    record = _create(client).json()
    read = client.get(f"/communities/{record['id']}").json()
    for value in (record["created_at"], read["updated_at"]):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value), value


def test_newest_first(platform):
    client, _ = platform("newest-first")
    made = [_create(client).json()["id"] for _ in range(3)]
    listed = [i["id"] for i in client.get("/communities").json()["items"]]
    assert [i for i in listed if i in made] == made[::-1]
    synced = client.get("/communities", params={"updated_since": "2000-01-01T00:00:00Z"}).json()["items"]
    assert [i["id"] for i in synced if i["id"] in made] == made  # the sync keeps its required order


def test_opaque_tokens(platform):
    client, _ = platform("opaque-tokens")
    assert client.headers["authorization"].count(".") == 0  # not a JWT (header.claims.signature)
    assert client.get("/communities").status_code == 200
    assert client.get("/communities", headers={"Authorization": "Bearer op_forged"}).status_code == 401


def test_relative_location(platform):
    client, _ = platform("relative-location")
    created = _create(client)
    location = created.headers["location"]
    assert location == f"communities/{created.json()['id']}"
    assert client.get(str(httpx.URL(str(client.base_url) + "/communities").join(location))).status_code == 200


def test_numeric_string_ids(platform):
    client, _ = platform("numeric-string-ids")
    ids = [_create(client).json()["id"] for _ in range(2)]
    assert all(isinstance(i, str) and i.isdigit() for i in ids) and ids[0] != ids[1]


def test_pre_existing_data(platform):
    client, _ = platform("pre-existing-data")
    discovery = client.get("/.well-known/smart-community").json()
    empty = [c["name"] for c in discovery["collections"] if not client.get(c["href"]).json()["items"]]
    assert empty == []
    communities = {i["id"] for i in client.get("/communities").json()["items"]}
    assert len(communities) >= 2  # tenants other than any the run will create
