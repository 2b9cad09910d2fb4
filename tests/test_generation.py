"""Generation from our own schemas: every payload valid, every mutant invalid once, same seed same bytes."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import generation
from conformance.catalogue import catalogue
from conformance.formats import is_credit_code, is_identity_number
from conformance.generation import KINDS, mutate, mutation_sites, payloads, probe
from conformance.generation._formats import boundaries, credit_codes, date_times, identity_numbers, person_names
from conformance.schemas import schema_store

CORE = ["communities", "grids", "buildings", "residents", "organisations"]
FAST = settings(max_examples=10, database=None, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=1000, database=None, deadline=None, suppress_health_check=list(HealthCheck))


def create_schema(name):
    return catalogue().collection(name).create_schema


def assert_valid_payloads(name, full, budget):
    store, ref = schema_store(), create_schema(name)

    @budget
    @given(payloads(store, ref, full=full))
    def valid(payload):
        assert store.errors(ref, payload) == []

    valid()


@pytest.mark.parametrize("name", CORE)
@pytest.mark.parametrize("full", [False, True])
def test_generated_payloads_validate(name, full):
    assert_valid_payloads(name, full, FAST)


@pytest.mark.slow
@pytest.mark.parametrize("name", CORE)
@pytest.mark.parametrize("full", [False, True])
def test_thousands_of_generated_payloads_validate(name, full):
    assert_valid_payloads(name, full, SLOW)


@pytest.mark.parametrize("name", CORE)
def test_every_mutant_breaks_the_schema(name):
    store, ref = schema_store(), create_schema(name)
    sites = mutation_sites(store, ref)

    @settings(max_examples=8, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(payloads(store, ref, full=True))
    def invalid(payload):
        for site in sites:
            assert store.errors(ref, mutate(payload, site)), site.label

    invalid()


def test_mutation_sites_cover_every_kind():
    kinds = {site.kind for name in CORE for site in mutation_sites(schema_store(), create_schema(name))}
    assert kinds == set(KINDS)


def test_mutation_leaves_the_original_alone():
    store, ref = schema_store(), create_schema("buildings")

    @settings(max_examples=5, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(payloads(store, ref, full=True))
    def untouched(payload):
        before = json.dumps(payload)
        for site in mutation_sites(store, ref):
            mutate(payload, site)
        assert json.dumps(payload) == before

    untouched()


def draws(seed, count=8):
    """The payloads a seeded probe draws, as the bytes a request would carry."""
    seen = []
    probe(payloads(schema_store(), create_schema("residents")),
          lambda value: seen.append(json.dumps(value, ensure_ascii=False)), seed=seed, max_examples=count)
    return seen


def test_same_seed_same_bytes():
    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_probe_shrinks_to_a_minimal_failure():
    found, tried = probe(st.integers(0, 10_000), lambda n: "too big" if n >= 1000 else None, seed=1,
                         max_examples=200)
    assert found is not None and found.value == 1000 and found.failure == "too big"
    assert tried >= found.examples


def test_probe_returns_none_when_the_property_holds():
    found, tried = probe(st.integers(), lambda n: None, seed=1, max_examples=30)
    assert found is None and tried == 30


def test_probe_stops_shrinking_at_its_budget():
    calls = []

    def expensive(text):
        calls.append(text)
        return "long" if len(text) > 20 else None

    found, _ = probe(st.text(min_size=0, max_size=400), expensive, seed=3, max_examples=100, shrink_budget=5)
    assert found is not None and len(found.value) > 20
    assert len(calls) <= found.examples + 5 + 1


@FAST
@given(identity_numbers())
def test_identity_numbers_include_permits_and_foreigners_and_validate(number):
    assert is_identity_number(number)


def test_identity_number_families_all_appear():
    seen = set()

    @FAST
    @given(identity_numbers())
    def family(number):
        seen.add("permit" if number.startswith(("81", "82", "83")) else "foreign" if number[0] == "9" else "citizen")

    family()
    assert seen == {"permit", "foreign", "citizen"}


@FAST
@given(credit_codes())
def test_credit_codes_carry_a_valid_check_character(code):
    assert is_credit_code(code)


@FAST
@given(date_times())
def test_offsets_stay_between_minus_12_and_plus_14(value):
    offset = value[-6:]
    if value.endswith("Z"):
        return
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    signed = (hours * 60 + minutes) * (-1 if offset[0] == "-" else 1)
    assert -12 * 60 <= signed <= 14 * 60


@FAST
@given(person_names({"maxLength": 100}), boundaries({}))
def test_names_and_boundaries(name, boundary):
    assert 1 <= len(name) <= 100
    ring = boundary["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5


def test_names_reach_outside_the_bmp_and_use_the_middle_dot():
    seen = []

    @settings(max_examples=60, database=None, deadline=None)
    @given(person_names({"maxLength": 100}))
    def collect(name):
        seen.append(name)

    collect()
    assert any(max(map(ord, name)) > 0xFFFF for name in seen)
    assert any("·" in name for name in seen)


def test_every_format_the_schemas_use_has_a_generator():
    used = {"gb11643", "gb32100", "date-time", "date", "email", "uri-reference", "json-pointer"}
    assert used <= set(generation.FORMATS)


def test_all_is_sorted():
    assert generation.__all__ == sorted(generation.__all__)
