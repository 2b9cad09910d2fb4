"""Fault switches of the reference platform: each breaks exactly one requirement on purpose."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..errors import UsageError, did_you_mean

__all__ = ["FAULTS", "Fault", "FaultSet", "FaultTrace", "trace_consultations", "validate_faults"]


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
    # generation-only (issue 4): no fixture uses the values these need
    ("address-truncated-64", "CORE-GEN-001", "addresses are stored cut to 64 characters"),
    ("contact-non-bmp-replaced", "CORE-GEN-001", "characters outside the BMP in contact names become U+FFFD"),
    ("fraction-offset-dropped", "CORE-GEN-001", "date-times with a fraction of a second lose their offset (read as UTC)"),
    ("rare-enum-500", "CORE-GEN-001", "an organisation of type social-organisation answers 500"),
    ("negative-stored", "CORE-GEN-002", "buildings over the floors/units maximum are refused with 422 but stored"),
    ("patch-lost-after-first", "CORE-GEN-003", "only a record's first merge patch is applied; later ones change nothing"),
    # issue 22: only the input classes of every member find these (probing_faults.py, payloads.py, validation.py)
    ("name-nfc-normalised", "CORE-GEN-001", "text is stored NFC-normalised (a decomposed accent reads back composed)"),
    ("accept-below-min-length", "CORE-GEN-002", "minLength is not enforced (an empty name is accepted)"),
    ("malformed-json-patch-500", "CORE-VAL-006", "an unparsable merge-patch body answers 500 (POST answers 400)"),
    ("work-order-rating-unbounded", "GOV-VAL-005",
     "a work order's satisfaction rating above 5 is accepted (seen only on PATCH once the order is resolved)"),
    ("observed-at-fraction-truncated", "INF-TIME-001", "observed_at loses its fraction of a second when stored"),
    ("notice-text-trimmed", "GOV-GEN-001", "notice titles and bodies are stored with surrounding spaces trimmed"),
    ("alarm-description-html-escaped", "INF-GEN-001", "alarm descriptions are stored HTML-escaped (<b> reads back &lt;b&gt;)"),
    ("accepts-expired-token", "GUA-AUTHN-001", "expired tokens are accepted (exp is not checked)"),
    ("scope-not-enforced", "GUA-AUTHZ-001", "writes are served without the registry:write scope"),
    ("tenant-object-leak", "GUA-AUTHZ-002", "a record of another community is read, changed or deleted by id"),
    ("tenant-list-leak", "GUA-AUTHZ-003", "listings ignore the token's community"),
    ("pii-mask-4-4", "GUA-PRIV-001", "identity numbers are masked 4+4 instead of the standard's 6+4"),
    ("pii-in-errors", "GUA-PRIV-002", "validation problems quote the rejected identity number and phone"),
    ("sensitive-tags-unscoped", "GUA-PRIV-003", "disability and other sensitive tags are shown without the scope"),
    ("consent-missing-purpose", "GUA-PRIV-004", "consent records are sent without their purpose"),
    ("audit-skips-deletes", "GUA-AUDIT-001", "DELETE leaves no audit record"),
    ("audit-readable-by-all", "GUA-AUDIT-002", "the audit trail is served without the audit:read scope"),
    ("audit-deletable", "GUA-AUDIT-003", "DELETE /audit-records/{id} erases an audit record"),
    ("indicator-rate-percent", "GUA-EVAL-001", "indicator rates are sent as percentages (93, not 0.93)"),
    ("funding-document-changed", "GUA-INST-001", "the funding document differs from the attested one"),
    ("cooperation-document-changed", "GUA-INST-002", "the cooperation charter differs from the attested one"),
    ("accountability-document-changed", "GUA-INST-003", "the accountability document differs from the attested one"),
    # governance-service (issue 3)
    ("discovery-missing-work-orders", "GOV-DISC-001", "discovery omits the work-orders collection"),
    ("household-member-count-string", "GOV-ENT-HOUSEHOLD-001", "household member_count is sent as a string"),
    ("service-category-localised", "GOV-ENT-SERVICE-001", "service item category is sent in Chinese"),
    ("work-order-internal-member", "GOV-ENT-WO-001", "work orders leak an internal wo_seq member"),
    ("grid-event-severity-number", "GOV-ENT-GE-001", "grid event severity is sent as a number 1-4"),
    ("notice-internal-member", "GOV-ENT-NOTICE-001", "notices leak an internal notice_seq member"),
    ("feedback-rating-string", "GOV-ENT-FEEDBACK-001", "feedback rating is sent as a string"),
    ("accept-negative-member-count", "GOV-VAL-001", "household member_count minimum is not checked"),
    ("accept-unknown-service-category", "GOV-VAL-002", "service item category is not checked against the list"),
    ("accept-work-order-without-description", "GOV-VAL-003", "a work order without description is accepted"),
    ("accept-http-attachment", "GOV-VAL-004", "attachment URLs over plain http are accepted"),
    ("accept-rating-out-of-range", "GOV-VAL-005", "ratings above 5 are accepted"),
    ("accept-unknown-severity", "GOV-VAL-006", "grid event severity is not checked against the list"),
    ("accept-notice-without-audience", "GOV-VAL-007", "a notice without audience is accepted"),
    ("work-order-attachments-dropped", "GOV-CRUD-001", "work orders are sent without their attachments"),
    ("notice-english-dropped", "GOV-CRUD-002", "the English title of a notice is lost"),
    ("due-at-offset-dropped", "GOV-TIME-001", "work-order due_at keeps its wall-clock time but claims +08:00"),
    ("work-order-sync-ignores-filter", "GOV-SYNC-001", "updated_since is ignored on work orders"),
    ("work-order-history-empty", "GOV-WO-001", "new work orders have an empty status history"),
    ("work-order-history-not-appended", "GOV-WO-002", "work-order transitions do not append to the history"),
    ("work-order-any-transition", "GOV-WO-003", "work orders accept transitions the lifecycle does not list"),
    ("work-order-role-unchecked", "GOV-WO-004", "any role may make any listed work-order transition"),
    ("work-order-status-patchable", "GOV-WO-005", "PATCH sets a work order's status directly"),
    ("work-order-final-reopenable", "GOV-WO-006", "closed work orders accept further transitions"),
    ("rating-before-resolution-accepted", "GOV-WO-007", "a satisfaction rating is accepted before resolution"),
    ("transition-unknown-state-500", "GOV-WO-008", "a transition to an unknown state answers 500"),
    ("grid-event-history-not-appended", "GOV-GE-001", "grid-event transitions do not append to the history"),
    ("grid-event-any-transition", "GOV-GE-002", "grid events accept transitions the lifecycle does not list"),
    ("grid-event-role-unchecked", "GOV-GE-003", "any role may make any listed grid-event transition"),
    ("event-feed-misses-transitions", "GOV-EVT-001", "work-order transitions are not published in the event feed"),
    ("event-feed-after-ignored", "GOV-EVT-002", "the event feed ignores after= and replays from the start"),
    # infrastructure (issue 3)
    ("discovery-missing-alarms", "INF-DISC-001", "discovery omits the alarms collection"),
    ("facility-status-localised", "INF-ENT-FACILITY-001", "facility status is sent in Chinese"),
    ("device-internal-member", "INF-ENT-DEVICE-001", "devices leak an internal device_seq member"),
    ("observation-value-object", "INF-ENT-OBSERVATION-001", "observation values are wrapped in an object"),
    ("passage-direction-localised", "INF-ENT-PASSAGE-001", "passage direction is sent as 进/出"),
    ("parking-space-internal-member", "INF-ENT-PARKING-SPACE-001", "parking spaces leak an internal space_seq"),
    ("parking-session-internal-member", "INF-ENT-PARKING-SESSION-001", "parking sessions leak an internal session_seq"),
    ("alarm-severity-number", "INF-ENT-ALARM-001", "alarm severity is sent as a number 1-4"),
    ("accept-unknown-facility-type", "INF-VAL-001", "facility type is not checked against the list"),
    ("accept-device-without-protocol", "INF-VAL-002", "a device without protocol is accepted"),
    ("accept-naive-observed-at", "INF-VAL-003", "observed_at without an offset is accepted"),
    ("accept-identity-person-ref", "INF-VAL-004", "an identity number is accepted as a passage's person_ref"),
    ("accept-unknown-alarm-type", "INF-VAL-005", "alarm type is not checked against the list"),
    ("accept-bad-plate-number", "INF-VAL-006", "plate numbers are not checked"),
    ("facility-antimeridian-flipped", "INF-CRUD-001", "longitude 180 reads back as -180"),
    ("device-last-seen-dropped", "INF-CRUD-002", "devices are sent without last_seen_at"),
    ("observed-at-offset-dropped", "INF-TIME-001", "observed_at keeps its wall-clock time but claims +08:00"),
    ("observation-sync-ignores-filter", "INF-SYNC-001", "updated_since is ignored on observations"),
    ("device-page-of-one-ignored", "INF-PAGE-001", "limit=1 on devices returns pages of two"),
    ("alarms-future-since-rejected", "INF-PAGE-002", "updated_since in the future answers 400 on alarms"),
    ("alarm-history-not-appended", "INF-ALARM-001", "alarm transitions do not append to the history"),
    ("alarm-any-transition", "INF-ALARM-002", "alarms accept transitions the lifecycle does not list"),
    ("alarm-role-unchecked", "INF-ALARM-003", "any role may make any listed alarm transition"),
    ("alarm-final-reopenable", "INF-ALARM-004", "closed alarms accept further transitions"),
    ("event-feed-misses-alarms", "INF-EVT-001", "alarms are not published in the event feed"),
    ("parking-session-end-dropped", "INF-PARK-001", "parking sessions are sent without ended_at"),
    # example-city (issue 3)
    ("city-street-code-missing", "EXC-WO-001", "work orders are sent without the city's street code"),
    ("city-street-code-unchecked", "EXC-WO-002", "a street code of another street is accepted"),
    # issue 10: second places (core, guarantee)
    ("created-at-local-as-utc", "CORE-TIME-001", "created_at is China's wall-clock time labelled Z (8 hours off)"),
    ("patch-name-bmp-only", "CORE-CRUD-003", "on PATCH, characters outside the BMP are stored as '?'"),
    ("patch-replaces-nested", "CORE-CRUD-005", "a merge patch replaces nested objects instead of merging them"),
    ("patch-skips-identity-check", "CORE-VAL-002", "a merge patch's identity number is not checked (create is)"),
    ("pii-unmasked-after-first-page", "GUA-PRIV-001", "listing pages after the first show personal data unmasked"),
    ("pii-unmasked-in-sync", "GUA-PRIV-001", "updated_since results show personal data unmasked"),
    ("sensitive-tags-in-listings", "GUA-PRIV-003", "listings show sensitive tags to tokens without the scope"),
    ("consent-withdrawn-dropped", "GUA-PRIV-004", "consents are sent without withdrawn_at"),
    ("audit-skips-refused-patch", "GUA-AUDIT-001", "a PATCH refused for want of the write scope leaves no audit record"),
    ("unsupported-media-type-plain", "CORE-ERR-001", "415 is answered as application/json {\"error\": title}"),
    ("method-not-allowed-plain", "CORE-ERR-001", "405 is answered as application/json {\"error\": title}"),
    ("challenge-missing-on-items", "CORE-AUTH-001", "401 without a token on item paths carries no WWW-Authenticate"),
    ("expired-token-accepted-on-writes", "GUA-AUTHN-001", "expired tokens are refused on reads but accepted on writes"),
    ("scope-not-enforced-on-transitions", "GUA-AUTHZ-001", "transitions are served without the registry:write scope"),
    ("tenant-transition-leak", "GUA-AUTHZ-002", "a transition on another community's record is applied by id"),
    # issue 10: second places (lifecycle, events, audit)
    ("work-order-later-any-transition", "GOV-WO-003",
     "work orders past submitted accept transitions the lifecycle does not list"),
    ("grid-event-self-transition", "GOV-GE-002", "a grid event accepts a transition to the state it is in"),
    ("alarm-conflict-as-400", "INF-ALARM-002", "an alarm transition the lifecycle does not list answers 400, not 409"),
    ("alarm-role-first-only", "INF-ALARM-003", "alarm roles are checked only on transitions out of raised"),
    ("work-order-role-first-only", "GOV-WO-004", "work-order roles are checked only on transitions out of submitted"),
    ("work-order-history-at-frozen", "GOV-WO-002", "every work-order history entry carries the creation time as `at`"),
    ("work-order-updated-at-frozen", "GOV-WO-002", "a work-order transition answers with the previous updated_at"),
    ("alarm-history-at-local-time", "INF-ALARM-001",
     "alarm history `at` is Beijing wall-clock time labelled as UTC (8 h off the Date header)"),
    ("work-order-history-patchable", "GOV-WO-005", "a merge patch replaces a work order's status_history"),
    ("rating-accepted-when-cancelled", "GOV-WO-007",
     "the satisfaction gate compares states by enum order, so cancelled and rejected work orders take a rating"),
    ("alarm-false-alarm-reopenable", "INF-ALARM-004", "alarms marked false-alarm accept further transitions"),
    ("grid-event-final-reopenable", "GOV-GE-004", "archived and dismissed grid events accept further transitions"),
    ("event-feed-newest-first", "GOV-EVT-001", "event feed pages holding several events list the newest first"),
    ("event-feed-misses-grid-events", "GOV-EVT-001", "grid events are not published in the event feed"),
    ("alarm-events-first-transition-only", "INF-EVT-001", "only an alarm's first transition is published"),
    ("event-feed-after-repeats", "GOV-EVT-002", "after=<id> returns the event it names again (>= instead of >)"),
    ("audit-skips-transitions", "GOV-AUDIT-001", "transitions leave no audit record"),
    ("audit-refused-transition-success", "INF-AUDIT-001", "refused transitions are audited with outcome success"),
)

FAULTS: dict[str, Fault] = {name: Fault(name, req, text) for name, req, text in _TABLE}


EVERY = "*"  # what iterating the switched-on faults consults: the behaviour may depend on any of them
STARTUP = ""  # consultations while the platform is built, before any requirement runs


@dataclass
class FaultTrace:
    """Which fault switches the platform asked about while each requirement ran (see :func:`trace_consultations`)."""

    consulted: dict[str, set[str]] = field(default_factory=dict)
    current: str = STARTUP

    @contextlib.contextmanager
    def during(self, requirement_id: str) -> Iterator[None]:
        self.current = requirement_id
        try:
            yield
        finally:
            self.current = STARTUP

    def note(self, names: Iterable[str]) -> None:
        self.consulted.setdefault(self.current, set()).update(names)


_TRACE: FaultTrace | None = None


class FaultSet(frozenset[str]):
    """The switched-on faults. Under :func:`trace_consultations` every question the platform asks of it is noted:
    a fault never asked about while a requirement ran cannot change what that requirement saw, except through
    data stored by an earlier one."""

    def __contains__(self, name: object) -> bool:
        if _TRACE is not None and isinstance(name, str):
            _TRACE.note((name,))
        return frozenset.__contains__(self, name)

    def __and__(self, other: Iterable[object]) -> frozenset[str]:
        asked = frozenset(other)
        if _TRACE is not None:
            _TRACE.note(n for n in asked if isinstance(n, str))
        return frozenset.__and__(self, asked)

    __rand__ = __and__

    def __or__(self, other: Iterable[str]) -> FaultSet:  # type: ignore[override]
        return FaultSet(frozenset.__or__(self, frozenset(other)))

    def __iter__(self) -> Iterator[str]:
        if _TRACE is not None:
            _TRACE.note((EVERY,))
        return frozenset.__iter__(self)


@contextlib.contextmanager
def trace_consultations() -> Iterator[FaultTrace]:
    """Note, per requirement (``trace.during(id)``), the fault names the reference platforms of this process
    ask about; the fault matrix runs a fault against the requirements that asked about it."""
    global _TRACE
    _TRACE = FaultTrace()
    try:
        yield _TRACE
    finally:
        _TRACE = None


def validate_faults(names: Iterable[str]) -> FaultSet:
    """Return the fault names as a set, raising :class:`UsageError` for an unknown one."""
    chosen = FaultSet([names] if isinstance(names, str) else names)
    for name in sorted(frozenset.__iter__(chosen)):
        if name not in FAULTS:
            raise UsageError(
                f"unknown fault {name!r}{did_you_mean(name, FAULTS)}; "
                f"known faults: {', '.join(FAULTS)}"
            )
    return chosen
