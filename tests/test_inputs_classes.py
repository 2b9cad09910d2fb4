"""Input classes derived from the schemas: each class is what the schema says it is, per keyword and format."""

import json

import pytest
from jsonschema import Draft202012Validator

from conformance.catalogue import catalogue
from conformance.checks.inputs import _patch_between, _planned, _rounds, _same
from conformance.fixtures import load_fixture
from conformance.generation import resolved_tree
from conformance.generation._classes import (
    MALFORMED,
    RULES,
    derive,
    get,
    member_classes,
    place,
    raw_json,
    rule_table,
    verified,
)
from conformance.schemas import format_checker, schema_store

STORE = schema_store()
WRITABLE = [c for c in catalogue().collections.values() if c.writable]
# Classes the schema judges otherwise than the class table, each for a reason the table cannot know:
# an array whose items must be unique already holds the member; a pattern's example comes from a fuller fixture.
KNOWN_DROPS = {
    ("residents", "/tags maxItems/at-max-items"),
    ("consents", "/data_categories/0 enum/member:contact"),
    ("consents", "/data_categories/0 enum/member:disability"),
    ("service-items", "/channels/0 enum/member:app"),
    ("notices", "/channels/0 enum/member:notice-board"),
    ("work-orders", "/attachments/0/media_type pattern/example"),
}


def _base(name):
    """A collection's minimal fixture with its `{{ref:…}}` placeholders as ids."""
    text = json.dumps(load_fixture(f"{name}/valid/minimal"))
    return json.loads(text.replace('"{{ref:', '"ref-').replace('}}"', '"'))


def _validator(schema):
    return Draft202012Validator(schema, format_checker=format_checker())


@pytest.mark.parametrize("coll", WRITABLE, ids=lambda c: c.name)
def test_every_class_is_what_the_schema_says(coll):
    """Placed alone in a valid payload, each valid class is valid and each invalid one invalid (jsonschema itself)."""
    tree = resolved_tree(STORE, coll.create_schema)
    validator = STORE.validator(coll.create_schema)
    base = _base(coll.name)
    classes = derive(tree, base, skip=frozenset(f"/{m}" for m in coll.references) | {"/extensions"})
    kept, dropped = verified(classes, tree, base, validator.is_valid)
    assert {(coll.name, c.label) for c in dropped} <= KNOWN_DROPS
    assert kept, coll.name
    for cls in kept:
        payload = place(tree, base, cls.pointer, cls.value)
        errors = list(validator.iter_errors(payload))
        if cls.valid is True:
            assert errors == [], (cls.label, cls.value)
        elif cls.valid is False:
            assert errors, (cls.label, cls.value)
            # one violation: every error is at the member or inside it (or, for a changed type, its anyOf)
            pointers = {"/" + "/".join(map(str, e.absolute_path)) for e in errors}
            assert all(p == cls.pointer or p.startswith(cls.pointer + "/") for p in pointers), (cls.label, pointers)


def test_bounds_give_both_sides_of_each_bound():
    schema = {"type": "integer", "minimum": 1, "maximum": 5}
    found = {(c.kind.rule, c.kind.id): c for c in member_classes("/rating", schema, 3)}
    assert (found["minimum", "at-minimum"].value, found["minimum", "below-minimum"].value) == (1, 0)
    assert (found["maximum", "at-maximum"].value, found["maximum", "above-maximum"].value) == (5, 6)
    validator = _validator(schema)
    for cls in found.values():
        if cls.valid is not None:
            assert validator.is_valid(cls.value) is cls.valid, cls.label
    # lax coercions are refused; 5.0 is an integer in 2020-12, so it is an open class, never a failure
    assert found["type", "number-as-text"].value == "3" and found["type", "number-as-text"].valid is False
    assert found["type", "boolean"].value is True and found["type", "fractional"].valid is False
    integral = found["type", "integral-float"]
    assert integral.valid is None and isinstance(integral.value, float) and validator.is_valid(integral.value)


def test_exclusive_bounds_and_numbers():
    schema = {"type": "number", "exclusiveMinimum": 0, "maximum": 90}
    found = {(c.kind.rule, c.kind.id): c for c in member_classes("/lat", schema, 31.5)}
    validator = _validator(schema)
    assert found["exclusiveMinimum", "at-exclusive-minimum"].value == 0
    assert not validator.is_valid(0) and validator.is_valid(found["exclusiveMinimum", "above-exclusive-minimum"].value)
    assert not validator.is_valid(found["maximum", "above-maximum"].value)
    exponent = found["number", "exponent"]
    assert "E" in exponent.raw and json.loads(exponent.raw) == exponent.value


def test_lengths_are_counted_in_code_points():
    schema = {"type": "string", "minLength": 1, "maxLength": 100}
    found = {(c.kind.rule, c.kind.id): c for c in member_classes("/name", schema, "王伟")}
    longest = found["maxLength", "at-max-length"].value
    assert len(longest) == 100 and len(longest.encode("utf-16-le")) // 2 > 100  # non-BMP characters among them
    assert len(found["maxLength", "above-max-length"].value) == 101
    assert found["minLength", "below-min-length"].value == ""
    assert found["type", "text-as-number"].value == 5


def test_enum_members_and_near_misses():
    schema = {"type": "string", "enum": ["low", "medium", "high-risk"]}
    found = member_classes("/severity", schema, "low")
    valid = sorted(c.value for c in found if c.valid)
    assert valid == ["high-risk", "low", "medium"]
    misses = {c.kind.id: c.value for c in found if c.kind.rule == "enum" and not c.valid}
    assert misses == {"upper-case": "LOW", "padded": "low ", "underscored": "high_risk"}


def test_date_time_classes_cover_offsets_fractions_and_each_way_to_be_invalid():
    kinds = {k.id: k for k in dict(rule_table())["format:date-time"]}
    assert {f"fraction-{n}" for n in range(1, 10)} <= set(kinds)
    assert {"offset-plus", "offset-max", "offset-min", "zulu", "lower-case"} <= {i for i, k in kinds.items() if k.valid}
    assert {"no-offset", "month-13", "february-30", "not-leap-year", "hour-24", "short-offset"} <= {
        i for i, k in kinds.items() if k.valid is False}
    assert kinds["leap-second"].valid is None
    schema = resolved_tree(STORE, "common.json#/$defs/date-time")
    validator = _validator(schema)
    for cls in member_classes("/at", schema, None):
        if cls.kind.rule == "format:date-time" and cls.valid is not None:
            assert validator.is_valid(cls.value) is cls.valid, cls.label
    fractions = [c.value for c in member_classes("/at", schema, None)
                 if c.kind.id.startswith("fraction-") and c.kind.id[9:].isdigit()]
    assert [len(v.split(".")[1].split("+")[0]) for v in fractions] == list(range(1, 10))


@pytest.mark.parametrize("rule", [r for r in RULES if r.startswith(("format:", "def:"))])
def test_each_named_format_has_valid_and_invalid_classes_the_schema_agrees_with(rule):
    kind, _, name = rule.partition(":")
    schema = ({"type": "string", "format": name} if kind == "format"
              else resolved_tree(STORE, f"common.json#/$defs/{name}"))
    validator = _validator(schema)
    classes = [c for c in member_classes("/x", schema, None) if c.kind.rule == rule]
    assert any(c.valid for c in classes) and any(c.valid is False for c in classes), rule
    wrong = [(c.kind.id, c.value) for c in classes if c.valid is not None and validator.is_valid(c.value) is not c.valid]
    assert wrong == []


def test_a_new_member_is_covered_without_code():
    """A member the suite never saw gets its definition's, its keywords' and its type's classes."""
    schema = {"type": "object", "properties": {
        "plate": {"type": "string", "pattern": "^x$", "x-ref": "common.json#/$defs/plate-number"},
        "count": {"type": "integer", "minimum": 0, "maximum": 9},
        "tags": {"type": "array", "maxItems": 2, "uniqueItems": True, "items": {"type": "string", "enum": ["a", "b"]}},
        "note": {"type": "string", "maxLength": 8}}}
    rules = {(c.pointer, c.kind.rule) for c in derive(schema)}
    assert {("/plate", "def:plate-number"), ("/count", "maximum"), ("/tags", "maxItems"), ("/tags", "uniqueItems"),
            ("/tags/0", "enum"), ("/note", "maxLength"), ("/note", "string")} <= rules


def test_other_spellings_parse_to_the_same_value():
    escaped = next(k for k in dict(rule_table())["string"] if k.id == "escaped")
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    cls = next(c for c in derive(schema) if c.kind is escaped)
    body = raw_json({"name": cls.value, "other": "x"}, {"/name": cls.raw})
    assert b"\\ud842\\udfb7" in body and json.loads(body) == {"name": "张三𠮷", "other": "x"}
    nfd = next(c.value for c in derive(schema) if c.kind.id == "nfd")
    nfc = next(c.value for c in derive(schema) if c.kind.id == "nfc")
    assert nfd != nfc and len(nfd) == len(nfc) + 1


def test_place_builds_absent_parents_from_the_schema():
    tree = resolved_tree(STORE, "entities/work-order.json#/$defs/create")
    base = _base("work-orders")
    placed = place(tree, base, "/attachments/0/url", "https://files.example/x.jpg")
    assert get(placed, "/attachments/0/url") == "https://files.example/x.jpg"
    assert STORE.validator("entities/work-order.json#/$defs/create").is_valid(placed)
    assert place(tree, base, "/attachments/3/url", "x") is None or len(get(placed, "/attachments")) >= 1


def test_valid_classes_are_packed_into_few_requests_each_still_valid():
    coll = catalogue().collections["residents"]
    tree = resolved_tree(STORE, coll.create_schema)
    validator = STORE.validator(coll.create_schema)
    base = _base("residents")
    classes = [c for c in derive(tree, base, skip=frozenset({"/community_id", "/building_id", "/extensions"}))
               if c.valid is True]
    kept, _ = verified(classes, tree, base, validator.is_valid)
    rounds = _rounds(tree, base, kept, validator.is_valid)
    assert sorted(c.label for r in rounds for c in r) == sorted(c.label for c in kept)
    assert len(rounds) * 2 < len(kept)  # one date-time member alone has 15 valid classes
    for group in rounds:
        payload = base
        for cls in group:
            payload = place(tree, payload, cls.pointer, cls.value)
        assert validator.is_valid(payload)


def test_every_class_of_every_member_fits_the_default_budget_on_both_methods():
    for coll in WRITABLE:
        lifecycle = catalogue().lifecycles.get(coll.lifecycle or "")
        gated = frozenset(f"/{m}" for m in (lifecycle.field_gates if lifecycle else {}))
        skip = frozenset(f"/{m}" for m in coll.references) | {"/extensions"}
        plan = _planned(STORE, coll.name, coll.create_schema, skip, gated, None, "both")
        assert plan.invalid and plan.valid, coll.name
        assert plan.cost(("POST", "PATCH")) <= 700, coll.name  # inputs.classes' default budget


def test_merge_patches_tell_true_from_one():
    assert _patch_between({"units": 1}, {"units": True}) == {"units": True}
    assert _patch_between({"units": 1}, {"units": 1.0}) == {"units": 1.0}
    assert _patch_between({"a": {"b": 1, "c": 2}}, {"a": {"b": 1}}) == {"a": {"c": None}}
    assert _same(5, 5.0) and not _same(True, 1) and _same("2026-11-25T10:00:00Z", "2026-11-25T18:00:00+08:00")


def test_malformed_bodies_are_refused_only_with_what_the_standard_allows():
    by_id = {b.id: b for b in MALFORMED}
    for name in ("truncated", "trailing-garbage", "empty", "invalid-utf8", "nan", "comment"):
        assert by_id[name].statuses == (400,)
        with pytest.raises(ValueError):
            json.loads(by_id[name].body.decode("utf-8"), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    for name in ("array", "null", "string", "number"):
        assert not isinstance(json.loads(by_id[name].body), dict) and set(by_id[name].statuses) == {400, 422}
    assert 415 in by_id["text-plain"].statuses and by_id["text-plain"].content_type == "text/plain"


def test_the_rule_table_is_bilingual():
    for rule, kinds in rule_table():
        assert kinds, rule
        for kind in kinds:
            assert kind.en and kind.zh and kind.rule == rule


def test_the_readable_specification_lists_every_class_from_the_same_table(tmp_path):
    from conformance.tools.standard import build_site

    build_site(tmp_path)
    for lang in ("zh", "en"):
        page = (tmp_path / lang / "inputs.html").read_text(encoding="utf-8")
        for rule, kinds in rule_table():
            anchor = rule.replace(":", "-")
            assert f'id="{anchor}"' in page, (lang, rule)
            for kind in kinds:
                assert f'id="{anchor}-{kind.id}"' in page, (lang, rule, kind.id)
        for body in MALFORMED:
            assert f'id="malformed-{body.id}"' in page
    assert "闰年的 2 月 29 日" in (tmp_path / "zh" / "inputs.html").read_text(encoding="utf-8")
    assert "29 February of a leap year" in (tmp_path / "en" / "inputs.html").read_text(encoding="utf-8")


def test_a_member_or_class_a_profile_names_wrongly_is_an_error_not_a_pass():
    from types import SimpleNamespace

    from conformance.checks.inputs import _known

    ctx = SimpleNamespace(schemas=STORE, collection=catalogue().collection)
    _known(ctx, ["feedback", "work-orders"], ["/rating", "/satisfaction/rating"], ["format:date-time/no-offset"])
    with pytest.raises(ValueError, match="ratting"):
        _known(ctx, ["feedback"], ["/ratting"], None)
    with pytest.raises(ValueError, match="no-ofset"):
        _known(ctx, ["feedback"], None, ["format:date-time/no-ofset"])
