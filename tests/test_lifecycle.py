"""The reference platform's lifecycles over loopback HTTP: transitions, roles, the event feed, the city rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conformance.catalogue import catalogue
from conformance.checks.lifecycle import _forbidden, _routes, _runs
from conformance.fixtures import load_fixture, resolve
from conformance.reference import create_app, mint_token, running

SECRET = "lifecycle-test-secret-of-at-least-32-bytes"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with running(create_app(secret=SECRET)) as base_url:
        with httpx.Client(base_url=base_url, headers={"Authorization": "Bearer " + mint_token(SECRET)}) as client:
            yield client


def created(http: httpx.Client, collection: str, fixture: str = "minimal", **extra: Any) -> dict[str, Any]:
    def parent(name: str) -> str:
        return created(http, name)["id"]
    payload = resolve(load_fixture(f"{collection}/valid/{fixture}"), parent)
    response = http.post(f"/{collection}", json={**payload, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def move(http: httpx.Client, collection: str, record_id: str, to: str, role: str) -> httpx.Response:
    return http.post(f"/{collection}/{record_id}/transitions", json={"to": to, "role": role})


def test_a_work_order_walks_to_closure_and_its_history_grows(http: httpx.Client) -> None:
    order = created(http, "work-orders", status="closed")  # a client-sent status is ignored
    assert order["status"] == "submitted"
    assert [h["to"] for h in order["status_history"]] == ["submitted"]
    for to, role in [("accepted", "residents-committee"), ("assigned", "service-centre"),
                     ("in-progress", "property-company"), ("resolved", "property-company"), ("closed", "resident")]:
        response = move(http, "work-orders", order["id"], to, role)
        assert response.status_code == 200, response.text
    final = http.get(f"/work-orders/{order['id']}").json()
    assert final["status"] == "closed"
    assert [h["to"] for h in final["status_history"]][-2:] == ["resolved", "closed"]
    assert move(http, "work-orders", order["id"], "in-progress", "resident").json()["code"] == "transition-not-allowed"


@pytest.mark.parametrize(("to", "role", "status", "code"), [
    ("closed", "system", 409, "transition-not-allowed"),
    ("accepted", "resident", 403, "role-not-allowed"),
    ("no-such-state", "system", 422, "validation-failed"),
])
def test_refused_transitions_change_nothing(http: httpx.Client, to: str, role: str, status: int, code: str) -> None:
    order = created(http, "work-orders")
    response = move(http, "work-orders", order["id"], to, role)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert http.get(f"/work-orders/{order['id']}").json()["status"] == "submitted"


def test_satisfaction_waits_for_resolution(http: httpx.Client) -> None:
    order = created(http, "work-orders")
    early = http.patch(f"/work-orders/{order['id']}", json={"satisfaction": {"rating": 5}},
                       headers={"Content-Type": "application/merge-patch+json"})
    assert early.status_code == 409


def test_the_event_feed_publishes_alarms_and_resumes_after_an_event(http: httpx.Client) -> None:
    alarm = created(http, "alarms")
    assert move(http, "alarms", alarm["id"], "acknowledged", "property-company").status_code == 200
    events = http.get("/events", params={"limit": 100}).json()["items"]
    mine = [(e["type"], e["status"]) for e in events if e["resource"]["id"] == alarm["id"]]
    assert mine == [("created", "raised"), ("transitioned", "acknowledged")]
    later = created(http, "alarms")
    resumed = http.get("/events", params={"after": events[-1]["id"]}).json()["items"]
    assert [e["resource"]["id"] for e in resumed] == [later["id"]]
    assert http.get("/events", params={"after": "evt-unknown"}).status_code == 400


def test_the_city_street_code_is_filled_and_checked_only_for_a_city_platform(http: httpx.Client) -> None:
    order = created(http, "work-orders")
    assert order["extensions"]["example-city"]["street_code"] == "340202001000"
    with running(create_app(secret=SECRET, declared_profiles=[("core", "1.0.0")])) as base_url:
        with httpx.Client(base_url=base_url, headers={"Authorization": "Bearer " + mint_token(SECRET)}) as national:
            assert "extensions" not in created(national, "work-orders")


@pytest.mark.parametrize("name", sorted(catalogue().lifecycles))
def test_the_routes_reach_every_reachable_state_and_the_runs_make_every_transition(name: str) -> None:
    lifecycle = catalogue().lifecycles[name]
    reachable = set(lifecycle.paths())
    routes = _routes(lifecycle)
    assert {lifecycle.initial} | {t.target for r in routes for t in r} == reachable
    assert all(r[0].source == lifecycle.initial and all(a.target == b.source for a, b in zip(r, r[1:])) for r in routes)
    runs = _runs(lifecycle)
    assert runs[0] == lifecycle.path_to_final()
    assert {t for r in runs for t in r} == {t for t in lifecycle.transitions if t.source in reachable}


def test_forbidden_targets_include_the_state_itself() -> None:
    alarm = catalogue().lifecycles["alarm"]
    assert _forbidden(alarm, "raised") == ["dispatched", "resolved", "closed", "false-alarm", "raised"]
    assert "acknowledged" not in _forbidden(alarm, "raised")


def test_role_before_state_answers_403_only_where_both_reasons_apply() -> None:
    with running(create_app(secret=SECRET, variants=["role-before-state"])) as base_url:
        with httpx.Client(base_url=base_url, headers={"Authorization": "Bearer " + mint_token(SECRET)}) as client:
            order = created(client, "work-orders")
            # an outsider to every transition out of submitted, asking for an illegal one: 403 (S6 allows it)
            assert move(client, "work-orders", order["id"], "closed", "service-company").status_code == 403
            # a role listed for a transition out of submitted, asking for an illegal one: still 409
            assert move(client, "work-orders", order["id"], "closed", "resident").status_code == 409
            # a listed transition by a role it does not list: 403 either way
            assert move(client, "work-orders", order["id"], "accepted", "resident").status_code == 403
            assert move(client, "work-orders", order["id"], "rejected", "grid-worker").status_code == 200
            assert move(client, "work-orders", order["id"], "submitted", "grid-worker").status_code == 403
