"""Query parameters of a listing: limit, opaque cursor and ``updated_since``."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .problems import ProblemError
from .store import Record, format_instant

__all__ = ["PageQuery", "encode_cursor", "parse_instant", "parse_page_query"]

_INSTANT = re.compile(
    r"(?P<base>[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# An unencoded "+" in a query string arrives as a space: "…10:00:00 08:00" means "+08:00".
_PLUS_AS_SPACE = re.compile(r"(.*[0-9]) ([0-9]{2}:[0-9]{2})")


@dataclass(frozen=True)
class PageQuery:
    limit: int
    after: tuple[str, int] | None
    since: str | None


def _invalid(name: str, detail: str) -> ProblemError:
    return ProblemError(400, "invalid-parameter", f"query parameter {name!r}: {detail}")


def parse_instant(text: str) -> datetime | None:
    """An RFC 3339 date-time with an offset, or None; fractions beyond microseconds round up."""
    match = _PLUS_AS_SPACE.fullmatch(text)
    text = f"{match[1]}+{match[2]}" if match else text
    match = _INSTANT.fullmatch(text)
    if match is None:
        return None
    fraction = match["fraction"] or ""
    offset = "+00:00" if match["offset"] in "Zz" else match["offset"]
    try:
        moment = datetime.fromisoformat(f"{match['base'].upper()}.{fraction[:6].ljust(6, '0')}{offset}")
        # Rounding up keeps "updated_at >= since" exact when the client is more precise than we store.
        if fraction[6:].strip("0"):
            moment += timedelta(microseconds=1)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def encode_cursor(record: Record, limit: int, *, by_creation: bool = False) -> str:
    """The position after ``record``: its creation order in a plain listing, (updated_at, seq) in a sync."""
    position = {"r": record.row} if by_creation else {"u": record.updated_at, "s": record.seq}
    raw = json.dumps({**position, "l": limit}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(text: str, max_limit: int) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _invalid("cursor", "not a cursor this platform issued") from None
    if isinstance(cursor, dict) and type(cursor.get("r")) is int and 0 <= cursor["r"] < 2**63:
        cursor = {**cursor, "u": "", "s": cursor["r"]}  # a plain listing's position: creation order
    if not (isinstance(cursor, dict) and isinstance(cursor.get("u"), str)
            and type(cursor.get("s")) is int and 0 <= cursor["s"] < 2**63
            and type(cursor.get("l")) is int and 1 <= cursor["l"] <= max_limit):
        raise _invalid("cursor", "not a cursor this platform issued")
    return cursor


def _limit(raw: str | None, cursor: Mapping[str, Any] | None, page: Mapping[str, Any], faults: frozenset[str]) -> int:
    if raw is None:
        return int(cursor["l"]) if cursor else int(page["default_limit"])
    if re.fullmatch(r"[0-9]{1,4}", raw) and 1 <= int(raw) <= page["max_limit"]:
        return int(raw)
    if "page-invalid-limit-accepted" in faults:
        return int(page["default_limit"])
    raise _invalid(page["limit_param"], f"must be an integer from 1 to {page['max_limit']}, got {raw!r}")


def parse_page_query(params: Mapping[str, str], page: Mapping[str, Any], faults: frozenset[str]) -> PageQuery:
    """Validate the listing parameters; the cursor carries the limit of the page that issued it."""
    raw_cursor = params.get(page["cursor_param"])
    cursor = _decode_cursor(raw_cursor, page["max_limit"]) if raw_cursor is not None else None
    limit = _limit(params.get(page["limit_param"]), cursor, page, faults)
    since = None
    raw_since = params.get(page["updated_since_param"])
    if raw_since is not None:
        moment = parse_instant(raw_since)
        if moment is None:
            raise _invalid(page["updated_since_param"], f"must be an RFC 3339 date-time with an offset, got {raw_since!r}")
        since = format_instant(moment)
    after = (cursor["u"], cursor["s"]) if cursor else None
    return PageQuery(limit, after, since)
