"""The redactor: no 12 characters of any spelling of a registered secret survive, whatever surrounds them."""

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.redaction import FRAGMENT, REDACTED, Redactor, forms_of

SECRET = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzYy1hZG1pbiJ9.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw"


def _leaks(redactor, text):
    """Every 12-character piece of a (case-folded) form of a registered secret still in ``text``."""
    out = redactor.redact(text).lower().replace(REDACTED.lower(), "\0")
    return sorted({form.lower()[i:i + FRAGMENT] for secret in redactor.secrets for form in forms_of(secret)
                   for i in range(len(form) - FRAGMENT + 1) if form.lower()[i:i + FRAGMENT] in out})


def test_every_spelling_of_the_secret_is_redacted():
    redactor = Redactor([SECRET])
    for spelling in (SECRET, SECRET.upper(), SECRET[::-1], SECRET.encode().hex(),
                     base64.b64encode(b"?" + SECRET.encode()).decode(), SECRET.replace(".", "\\u002e")):
        assert _leaks(redactor, f"before {spelling} after") == [], spelling


def test_a_fragment_of_twelve_is_redacted_and_eleven_is_not():
    redactor = Redactor([SECRET])
    assert redactor.redact("x" + SECRET[20:32] + "y") == "x" + REDACTED + "y"
    assert redactor.redact("x" + SECRET[20:31] + "y") == "x" + SECRET[20:31] + "y"


def test_overlapping_short_secrets_are_both_redacted():
    redactor = Redactor(["abcdefg", "efghijk"])
    assert redactor.redact("<abcdefghijk>") == "<" + REDACTED + ">"
    assert redactor.redact("abcdef") == "abcdef"  # a part of a short secret is not the secret


def test_a_secret_added_later_is_redacted_in_a_text_seen_before():
    redactor = Redactor(["an-earlier-secret-of-length"])
    text = "Authorization: Bearer " + SECRET
    assert redactor.redact(text) == text
    redactor.add([SECRET])
    assert redactor.redact(text) == "Authorization: Bearer " + REDACTED


def test_many_tokens_sharing_a_jwt_header_each_stay_redacted():
    tokens = [f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ{n:04d}sInNjb3BlIjoiYSJ9.sig{n:08d}nature" for n in range(300)]
    redactor = Redactor(tokens)
    text = " ".join(tokens[::37])
    assert _leaks(redactor, text) == []


pieces = st.sampled_from([SECRET, SECRET.upper(), SECRET[::-1], SECRET.encode().hex(), "%2E", "\\u0065", "&#101;",
                          "a", "Bearer ", "=", "\"", "\\", " ", "é", "令牌"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(pieces, st.text(max_size=8), st.integers(0, len(SECRET) - 1)), max_size=12))
def test_no_fragment_survives_any_mixture(parts):
    """Whole spellings, escapes and random slices of the secret glued to arbitrary text."""
    redactor = Redactor([SECRET])
    text = "".join(SECRET[p:p + 14] if isinstance(p, int) else p for p in parts)
    assert _leaks(redactor, text) == []


def test_a_secret_cut_over_several_values_is_redacted_in_each():
    redactor = Redactor([SECRET])
    pieces = [SECRET[i:i + 11] for i in range(0, len(SECRET), 11)]
    as_list = redactor.redact_value({"ids": pieces})
    as_records = redactor.redact_value({"items": [{"id": p, "version": "1.0.0"} for p in pieces]})
    for value in (as_list, as_records):
        text = str(value)
        assert not any(p in text for p in pieces if len(p) == 11), text
        assert REDACTED in text
    assert as_records["items"][0]["version"] == "1.0.0"  # what lies between the pieces is not the secret


def test_values_that_hold_no_secret_are_left_alone_when_read_together():
    redactor = Redactor([SECRET])
    value = {"items": [{"id": "eyJhbGciOi", "name": "a header"}, {"id": "res-0001", "name": "Bearer of news"}]}
    assert redactor.redact_value(value) == value
