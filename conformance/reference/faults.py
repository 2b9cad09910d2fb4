"""Fault switches of the reference platform: each breaks exactly one requirement on purpose."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import UsageError, did_you_mean

__all__ = ["FAULTS", "Fault", "validate_faults"]


@dataclass(frozen=True)
class Fault:
    name: str
    requirement: str
    description: str


_TABLE: tuple[tuple[str, str, str], ...] = (
    ("discovery-invalid", "CORE-DISC-001", "the discovery document omits max_page_size"),
    ("discovery-missing-collection", "CORE-DISC-002", "discovery omits the organisations collection"),
    ("discovery-requires-auth", "CORE-DISC-003", "discovery and /conformance answer 401 without a token"),
    ("conformance-invalid", "CORE-CONF-001", "/conformance declares versions as x.y, not x.y.z"),
    ("conformance-missing-profile", "CORE-CONF-002", "/conformance declares an empty profile list"),
    ("content-type-text", "CORE-HTTP-001", "collection listings are sent as text/plain"),
    ("auth-optional", "CORE-AUTH-001", "requests without Authorization are served as fully authorised"),
    ("page-no-next-cursor", "CORE-PAGE-001", "the page envelope omits next_cursor when it would be null"),
    ("page-ignores-limit", "CORE-PAGE-002", "limit is validated but pages always hold up to 100 items"),
    ("page-cursor-overlap", "CORE-PAGE-003", "each next page repeats the last item of the previous page"),
    ("page-invalid-limit-accepted", "CORE-PAGE-004", "an invalid limit is silently replaced by 20"),
    ("empty-page-404", "CORE-PAGE-005", "an empty listing answers 404"),
    ("problem-plain-json", "CORE-ERR-001", "errors are application/json {\"error\": title}"),
    ("unknown-path-200", "CORE-ERR-002", "an unknown path answers 200 {\"code\": \"not-found\"}"),
    ("problem-wrong-code", "CORE-ERR-003", "404 problems carry code internal-error"),
    ("time-no-offset", "CORE-TIME-001", "created_at/updated_at are sent without an offset"),
    ("time-offset-dropped", "CORE-TIME-002", "client date-times are stored with their offset replaced by +08:00"),
    ("create-no-location", "CORE-CRUD-001", "201 responses lack the Location header"),
    ("read-drops-field", "CORE-CRUD-002", "GET of a single resident omits its gender"),
    ("name-bmp-only", "CORE-CRUD-003", "characters outside the BMP are stored as '?'"),
    ("length-utf16", "CORE-CRUD-004", "maxLength is counted in UTF-16 units"),
    ("patch-null-ignored", "CORE-CRUD-005", "null members of a merge patch are ignored"),
    ("id-is-identity-number", "CORE-CRUD-006", "residents get their identity number as id"),
    ("delete-noop", "CORE-CRUD-007", "DELETE answers 204 but the record stays"),
    ("unknown-id-500", "CORE-NF-001", "GET of an unknown id answers 500"),
    ("patch-unknown-creates", "CORE-NF-002", "PATCH of an unknown id creates the record"),
    ("accept-missing-required", "CORE-VAL-001", "required is not enforced"),
    ("accept-bad-identity", "CORE-VAL-002", "the gb11643 format is not checked"),
    ("accept-bad-credit-code", "CORE-VAL-003", "the gb32100 format is not checked"),
    ("accept-naive-time", "CORE-VAL-004", "date-times without an offset are accepted and stored as sent"),
    ("accept-bad-division", "CORE-VAL-005", "division_code and statistical_code patterns are not checked"),
    ("malformed-json-500", "CORE-VAL-006", "an unparsable JSON body answers 500"),
    ("accept-swapped-coordinates", "CORE-VAL-007", "longitude/latitude ranges are not checked"),
    ("accept-dangling-reference", "CORE-VAL-008", "references to missing records are accepted"),
    ("accept-unknown-field", "CORE-VAL-009", "unknown fields are dropped and the create succeeds"),
    ("community-missing-crs", "CORE-ENT-COMMUNITY-001", "community responses omit crs"),
    ("grid-code-number", "CORE-ENT-GRID-001", "grid code is sent as a JSON number"),
    ("building-floors-string", "CORE-ENT-BUILDING-001", "building floors is sent as a string"),
    ("resident-gender-localised", "CORE-ENT-RESIDENT-001", "resident gender is sent as 男/女/未说明"),
    ("organisation-type-localised", "CORE-ENT-ORGANISATION-001", "organisation type is sent in Chinese"),
    ("sync-ignores-filter", "CORE-SYNC-001", "updated_since is validated but ignored"),
    ("no-request-id", "CORE-TRACE-001", "responses carry no X-Request-Id"),
)

FAULTS: dict[str, Fault] = {name: Fault(name, req, text) for name, req, text in _TABLE}


def validate_faults(names: Iterable[str]) -> frozenset[str]:
    """Return the fault names as a set, raising :class:`UsageError` for an unknown one."""
    chosen = frozenset([names] if isinstance(names, str) else names)
    for name in sorted(chosen):
        if name not in FAULTS:
            raise UsageError(
                f"unknown fault {name!r}{did_you_mean(name, FAULTS)}; "
                f"known faults: {', '.join(FAULTS)}"
            )
    return chosen
