"""The reference platform over real loopback HTTP: the interface standard, and faults that break it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from conformance.catalogue import catalogue
from conformance.errors import UsageError
from conformance.reference import FAULTS, create_app, mint_token, running
from conformance.reference.faults import validate_faults
from conformance.schemas import schema_store

SECRET = "reference-platform-test-secret-of-32-bytes"
IDENTITY = "11010519491231002X"
CREDIT_CODE = "91350100M000100Y43"
NAME = "阿卜杜𠮷·买买提"  # a CJK Extension B character and the middle dot U+00B7
COMMUNITY = {
    "name": "镜湖社区",
    "division_code": "340202",
    "statistical_code": "340202001001",
    "crs": "WGS84",
    "location": {"type": "Point", "coordinates": [118.38, 31.33]},
}


def auth(**claims: Any) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(SECRET, **claims)}


def resident(community_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "community_id": community_id,
        "name": NAME,
        "gender": "female",
        "identity": {"type": "resident-identity-card", "number": IDENTITY},
        "phone": "13912345678",
        "moved_in_at": "2020-12-31T18:06:40+08:00",
        **extra,
    }


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert schema_store().errors("interface/problem.json", body) == []
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"].endswith("/" + code)
    return body


class Client:
    """An httpx client on one running platform, with a full-access token and entity helpers."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers=auth(), timeout=5)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.http.close()

    def create(self, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        response = self.http.post(path, json=body, **kwargs)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def community(self, **extra: Any) -> str:
        return str(self.create("/communities", {**COMMUNITY, **extra})["id"])


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with running(create_app(secret=SECRET)) as base_url, Client(base_url) as client:
        yield client


@pytest.fixture
def faulty(request: pytest.FixtureRequest) -> Iterator[Client]:
    with running(create_app(secret=SECRET, faults=[request.param])) as base_url, Client(base_url) as client:
        yield client


def test_discovery_and_conformance_are_public_and_valid(client: Client) -> None:
    response = httpx.get(str(client.http.base_url) + "/.well-known/smart-community")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert schema_store().errors("interface/discovery.json", document) == []
    assert [c["name"] for c in document["collections"]] == list(catalogue().collections)
    assert document["max_page_size"] == 100
    declared = httpx.get(str(client.http.base_url) + "/conformance").json()
    assert schema_store().errors("interface/conformance.json", declared) == []
    # The default declaration claims every bundled profile (reference/declaration.py), core among them.
    assert {"id": "core", "version": "1.0.0"} in declared["profiles"]


def test_create_then_read_keeps_rare_characters_and_client_instants(client: Client) -> None:
    community_id = client.community()
    response = client.http.post("/residents", json=resident(community_id, moved_in_at="2020-12-31T10:06:40.5Z"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/residents/{created['id']}"
    assert created["name"] == NAME
    assert created["moved_in_at"] == "2020-12-31T10:06:40.5Z"
    assert created["id"] != IDENTITY
    assert schema_store().errors(catalogue().collection("residents").schema, created) == []
    assert datetime.fromisoformat(created["created_at"]).tzinfo is not None
    read = client.http.get(response.headers["location"])
    assert read.status_code == 200
    assert read.json() == created
    assert NAME.encode() in read.content  # sent as UTF-8, not as \u escapes


def test_read_only_members_are_ignored_on_create(client: Client) -> None:
    created = client.create("/communities", {**COMMUNITY, "id": "mine", "created_at": "2000-01-01T00:00:00Z"})
    assert created["id"] != "mine" and not created["created_at"].startswith("2000")


def test_paging_walk_visits_every_record_once(client: Client) -> None:
    community_id = client.community()
    first = client.http.get("/grids", params={"limit": 100}).json()
    assert first["next_cursor"] is None
    before = {g["id"] for g in first["items"]}
    made = {client.create("/grids", {"community_id": community_id, "name": f"第{i}网格", "code": f"G{i}"})["id"]
            for i in range(5)}
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = client.http.get("/grids", params=params)
        assert page.status_code == 200
        body = page.json()
        assert schema_store().errors("interface/page.json", body) == []
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        params = {"cursor": body["next_cursor"]}  # the cursor carries the limit
    assert len(seen) == len(set(seen)) == len(made | before)
    assert set(seen) == made | before


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "abc"}, {"limit": "-1"}, {"limit": "101"},
                                    {"limit": "2.5"}, {"cursor": "not-a-cursor"},
                                    {"updated_since": "2020-12-31 18:06:40"}])
def test_invalid_listing_parameters_are_400(client: Client, params: dict[str, str]) -> None:
    assert_problem(client.http.get("/residents", params=params), 400, "invalid-parameter")


def test_updated_since_returns_later_changes_in_order(client: Client) -> None:
    community_id = client.community()
    old = client.create("/organisations", {"community_id": community_id, "name": "物业", "type": "property-company",
                                           "credit_code": CREDIT_CODE})
    new = client.create("/organisations", {"community_id": community_id, "name": "业委会",
                                           "type": "owners-committee", "credit_code": CREDIT_CODE})
    since = datetime.fromisoformat(new["updated_at"]).astimezone().isoformat()  # another offset, same instant
    items = client.http.get("/organisations", params={"updated_since": since}).json()["items"]
    assert [item["id"] for item in items] == [new["id"]]
    patched = client.http.patch(f"/organisations/{old['id']}", json={"name": "物业公司"}).json()
    items = client.http.get("/organisations", params={"updated_since": since}).json()["items"]
    assert [item["id"] for item in items] == [new["id"], old["id"]]
    later = client.http.get("/organisations", params={"updated_since": "2999-01-01T00:00:00+08:00"})
    assert later.json() == {"items": [], "next_cursor": None, "limit": 20}
    assert patched["updated_at"] > old["updated_at"]


def test_unknown_ids_and_paths_are_404_problems(client: Client) -> None:
    assert_problem(client.http.get("/residents/nobody"), 404, "not-found")
    assert_problem(client.http.patch("/residents/nobody", json={}), 404, "not-found")
    assert_problem(client.http.delete("/residents/nobody"), 404, "not-found")
    assert_problem(client.http.get("/no-such-collection"), 404, "not-found")
    problem = assert_problem(client.http.put("/residents"), 405, "method-not-allowed")
    assert problem["request_id"]


def test_authentication_and_scopes(client: Client) -> None:
    url = str(client.http.base_url) + "/residents"
    missing = httpx.get(url)
    assert_problem(missing, 401, "unauthenticated")
    assert missing.headers["www-authenticate"] == 'Bearer realm="smart-community"'
    for headers in ({"Authorization": "Bearer nonsense"}, auth(expires_in=-60),
                    {"Authorization": "Bearer " + mint_token("another-secret-of-at-least-32-bytes!")}):
        bad = httpx.get(url, headers=headers)
        assert_problem(bad, 401, "unauthenticated")
        assert 'error="invalid_token"' in bad.headers["www-authenticate"]
    assert_problem(httpx.get(url, headers=auth(scopes=["pii"])), 403, "forbidden")
    read_only = auth(scopes=["registry:read"])
    assert httpx.get(url, headers=read_only).status_code == 200
    assert_problem(httpx.post(url, headers=read_only, json={}), 403, "forbidden")


def test_community_bound_token_sees_only_its_community(client: Client) -> None:
    mine, theirs = client.community(), client.community()
    kept = client.create("/residents", resident(mine))
    hidden = client.create("/residents", resident(theirs))
    bound = auth(community=mine)
    assert client.http.get(f"/residents/{kept['id']}", headers=bound).status_code == 200
    assert_problem(client.http.get(f"/residents/{hidden['id']}", headers=bound), 404, "not-found")
    assert_problem(client.http.get(f"/communities/{theirs}", headers=bound), 404, "not-found")
    listed = client.http.get("/residents", params={"limit": 100}, headers=bound).json()["items"]
    assert {item["community_id"] for item in listed} == {mine}
    assert_problem(client.http.post("/residents", json=resident(theirs), headers=bound), 403, "forbidden")


def test_personal_data_is_masked_without_pii_scope(client: Client) -> None:
    created = client.create("/residents", resident(client.community()))
    masked = client.http.get(f"/residents/{created['id']}", headers=auth(scopes=["registry:read"])).json()
    assert masked["identity"]["number"] == "110105********002X"
    assert masked["phone"] == "139****5678"
    assert schema_store().errors(catalogue().collection("residents").schema, masked) == []
    listed = client.http.get("/residents", params={"limit": 100}, headers=auth(scopes=["registry:read"])).json()
    assert all("*" in item["identity"]["number"] for item in listed["items"])
    assert client.http.get(f"/residents/{created['id']}").json()["identity"]["number"] == IDENTITY


def test_merge_patch_removes_null_members_and_merges_objects(client: Client) -> None:
    created = client.create("/residents", resident(client.community(), tags=["elderly"]))
    response = client.http.patch(f"/residents/{created['id']}", json={"phone": None, "identity": {"type": "resident-identity-card"}},
                                 headers={"Content-Type": "application/merge-patch+json"})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert "phone" not in patched and patched["identity"]["number"] == IDENTITY and patched["tags"] == ["elderly"]
    assert datetime.fromisoformat(patched["updated_at"]) > datetime.fromisoformat(created["updated_at"])
    assert client.http.get(f"/residents/{created['id']}").json() == patched
    invalid = client.http.patch(f"/residents/{created['id']}", json={"gender": "other"})
    assert assert_problem(invalid, 422, "validation-failed")["errors"][0]["pointer"] == "/gender"


def test_delete_then_404(client: Client) -> None:
    community_id = client.community()
    path = f"/communities/{community_id}"
    assert client.http.delete(path).status_code == 204
    for method in ("GET", "PATCH", "DELETE"):
        assert_problem(client.http.request(method, path, json={}), 404, "not-found")


def test_bodies_are_checked(client: Client) -> None:
    http = client.http
    assert_problem(http.post("/communities", content=b'{"name": ', headers={"Content-Type": "application/json"}),
                   400, "malformed-json")
    assert_problem(http.post("/communities", content=b"name=x", headers={"Content-Type": "text/plain"}),
                   415, "unsupported-media-type")
    assert_problem(http.post("/communities", content=b" " * (1024 * 1024 + 1),
                             headers={"Content-Type": "application/json"}), 413, "payload-too-large")
    problem = assert_problem(http.post("/communities", json={**COMMUNITY, "division_code": "000000", "x": 1}),
                             422, "validation-failed")
    assert {e["pointer"] for e in problem["errors"]} == {"/division_code", "/x"}
    missing = assert_problem(http.post("/communities", json={"name": "x"}), 422, "validation-failed")
    assert "/crs" in {e["pointer"] for e in missing["errors"]}
    dangling = assert_problem(http.post("/residents", json=resident("no-such-community")), 422, "reference-not-found")
    assert dangling["errors"] == [{"pointer": "/community_id", "message": "no record 'no-such-community' in communities"}]


def test_request_id_is_echoed_or_made(client: Client) -> None:
    assert client.http.get("/residents", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert client.http.get("/residents/nobody").headers["x-request-id"]


def test_unknown_fault_names_suggest_the_closest() -> None:
    with pytest.raises(UsageError, match="did you mean 'delete-noop'"):
        validate_faults(["delete-nop"])


def test_faults_target_exactly_the_bundled_requirements() -> None:
    from conformance.profiles import load_profile, profile_ids
    from conformance.standards import installed

    bundled = {r.id for pid in profile_ids() for r in load_profile(pid).requirements}
    # a local standard cannot add a fault: it names an existing one that breaks its requirement (standard.yaml)
    declared = {d.requirement for standard in installed() for d in standard.faults if d.fault in FAULTS}
    assert declared and {f.requirement for f in FAULTS.values()} == bundled - declared


@pytest.mark.parametrize("faulty", ["problem-plain-json"], indirect=True)
def test_fault_problem_plain_json(faulty: Client) -> None:
    response = faulty.http.get("/residents/nobody")
    assert (response.status_code, response.headers["content-type"]) == (404, "application/json")
    assert response.json() == {"error": "Not found"}


@pytest.mark.parametrize("faulty", ["page-no-next-cursor"], indirect=True)
def test_fault_page_no_next_cursor(faulty: Client) -> None:
    assert faulty.http.get("/residents").json() == {"items": [], "limit": 20}


@pytest.mark.parametrize("faulty", ["page-cursor-overlap"], indirect=True)
def test_fault_page_cursor_overlap(faulty: Client) -> None:
    community_id = faulty.community()
    for _ in range(2):
        faulty.community()
    first = faulty.http.get("/communities", params={"limit": 2}).json()
    second = faulty.http.get("/communities", params={"cursor": first["next_cursor"]}).json()
    assert first["items"][0]["id"] == community_id
    assert second["items"][0] == first["items"][-1]


@pytest.mark.parametrize("faulty", ["name-bmp-only"], indirect=True)
def test_fault_name_bmp_only(faulty: Client) -> None:
    created = faulty.create("/residents", resident(faulty.community()))
    assert created["name"] == NAME.replace("𠮷", "?")


@pytest.mark.parametrize("faulty", ["length-utf16"], indirect=True)
def test_fault_length_utf16(faulty: Client) -> None:
    response = faulty.http.post("/residents", json=resident(faulty.community(), name="𠮷" * 60))
    assert_problem(response, 422, "validation-failed")


def test_name_of_100_code_points_outside_the_bmp_is_accepted(client: Client) -> None:
    assert client.create("/residents", resident(client.community(), name="𠮷" * 100))["name"] == "𠮷" * 100


@pytest.mark.parametrize("faulty", ["id-is-identity-number"], indirect=True)
def test_fault_id_is_identity_number(faulty: Client) -> None:
    assert faulty.create("/residents", resident(faulty.community()))["id"] == IDENTITY


@pytest.mark.parametrize("faulty", ["delete-noop"], indirect=True)
def test_fault_delete_noop(faulty: Client) -> None:
    community_id = faulty.community()
    assert faulty.http.delete(f"/communities/{community_id}").status_code == 204
    assert faulty.http.get(f"/communities/{community_id}").status_code == 200


@pytest.mark.parametrize("faulty", ["accept-bad-identity"], indirect=True)
def test_fault_accept_bad_identity(faulty: Client) -> None:
    bad = resident(faulty.community(), identity={"type": "resident-identity-card", "number": "110105194912310021"})
    assert faulty.http.post("/residents", json=bad).status_code == 201


@pytest.mark.parametrize("faulty", ["accept-naive-time"], indirect=True)
def test_fault_accept_naive_time(faulty: Client) -> None:
    created = faulty.create("/residents", resident(faulty.community(), moved_in_at="2020-12-31 18:06:40"))
    assert created["moved_in_at"] == "2020-12-31 18:06:40"


@pytest.mark.parametrize("faulty", ["time-no-offset"], indirect=True)
def test_fault_time_no_offset(faulty: Client) -> None:
    created = faulty.create("/communities", COMMUNITY)
    assert len(created["created_at"]) == 19 and created["created_at"][10] == " "


@pytest.mark.parametrize("faulty", ["time-offset-dropped"], indirect=True)
def test_fault_time_offset_dropped(faulty: Client) -> None:
    created = faulty.create("/residents", resident(faulty.community(), moved_in_at="2020-12-31T10:06:40Z"))
    assert created["moved_in_at"] == "2020-12-31T10:06:40+08:00"


@pytest.mark.parametrize("faulty", ["unknown-path-200"], indirect=True)
def test_fault_unknown_path_200(faulty: Client) -> None:
    response = faulty.http.get("/no-such-collection")
    assert (response.status_code, response.json()) == (200, {"code": "not-found"})


@pytest.mark.parametrize("faulty", ["auth-optional"], indirect=True)
def test_fault_auth_optional(faulty: Client) -> None:
    url = str(faulty.http.base_url) + "/residents"
    assert httpx.get(url).status_code == 200
    assert httpx.get(url, headers={"Authorization": "Bearer nonsense"}).status_code == 401


@pytest.mark.parametrize("faulty", ["discovery-requires-auth"], indirect=True)
def test_fault_discovery_requires_auth(faulty: Client) -> None:
    url = str(faulty.http.base_url) + "/.well-known/smart-community"
    assert httpx.get(url).status_code == 401
    assert faulty.http.get("/.well-known/smart-community").status_code == 200


@pytest.mark.parametrize("faulty", ["no-request-id"], indirect=True)
def test_fault_no_request_id(faulty: Client) -> None:
    assert "x-request-id" not in faulty.http.get("/residents", headers={"X-Request-Id": "abc"}).headers
    assert "x-request-id" not in faulty.http.get("/residents/nobody").headers


@pytest.mark.parametrize("faulty", ["content-type-text"], indirect=True)
def test_fault_content_type_text(faulty: Client) -> None:
    response = faulty.http.get("/residents")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.json()["items"] == []


@pytest.mark.parametrize("faulty", ["discovery-invalid"], indirect=True)
def test_fault_discovery_invalid(faulty: Client) -> None:
    document = faulty.http.get("/.well-known/smart-community").json()
    assert schema_store().errors("interface/discovery.json", document) != []


@pytest.mark.parametrize("faulty", ["patch-null-ignored"], indirect=True)
def test_fault_patch_null_ignored(faulty: Client) -> None:
    created = faulty.create("/residents", resident(faulty.community()))
    assert faulty.http.patch(f"/residents/{created['id']}", json={"phone": None}).json()["phone"] == "13912345678"


@pytest.mark.parametrize("faulty", ["sync-ignores-filter"], indirect=True)
def test_fault_sync_ignores_filter(faulty: Client) -> None:
    faulty.community()
    page = faulty.http.get("/communities", params={"updated_since": "2999-01-01T00:00:00Z"}).json()
    assert len(page["items"]) == 1
