"""SQLite store of the reference platform: one table of JSON entities with a stable order."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["Conflict", "Record", "Store", "format_instant"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    collection TEXT NOT NULL,
    id         TEXT NOT NULL,
    community  TEXT,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    seq        INTEGER NOT NULL UNIQUE,
    PRIMARY KEY (collection, id)
);
CREATE INDEX IF NOT EXISTS entities_order ON entities (collection, updated_at, seq);
"""
_COLUMNS = "id, community, body, created_at, updated_at, seq"
_SELECTED = _COLUMNS + ", rowid"  # rowid: creation order, which a change does not move (plain listings, S8)


class Conflict(Exception):
    """A record with that id already exists in the collection."""


@dataclass(frozen=True)
class Record:
    id: str
    community: str | None
    body: dict[str, Any]
    created_at: str
    updated_at: str
    seq: int
    row: int = 0  # creation order

    def entity(self) -> dict[str, Any]:
        return {"id": self.id, **self.body, "created_at": self.created_at, "updated_at": self.updated_at}


def format_instant(moment: datetime) -> str:
    """UTC with six fraction digits and ``Z``: fixed width, so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(row: tuple[Any, ...]) -> Record:
    return Record(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5], row[6])


class Store:
    """Entities by collection and id; every write takes a fresh, strictly increasing time and seq."""

    def __init__(self, path: str = ":memory:") -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            if path == ":memory:":
                # Nothing outlives the process, so durability buys nothing: no journal, no syncs.
                self._db.execute("PRAGMA journal_mode = OFF")
                self._db.execute("PRAGMA synchronous = OFF")
            self._db.executescript(_SCHEMA)
            seq, last = self._db.execute("SELECT MAX(seq), MAX(updated_at) FROM entities").fetchone()
        self._seq = seq or 0
        self._last = datetime.fromisoformat(last.replace("Z", "+00:00")) if last else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tick(self) -> tuple[str, int]:
        # Strictly increasing even if the wall clock stalls or steps back, so updated_at never
        # goes backwards and two writes never share an instant.
        now = datetime.now(UTC)
        if self._last is not None and now <= self._last:
            now = self._last + timedelta(microseconds=1)
        self._last = now
        self._seq += 1
        return format_instant(now), self._seq

    @staticmethod
    def _dump(body: dict[str, Any]) -> str:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    def insert(self, collection: str, id: str, body: dict[str, Any], community: str | None) -> Record:
        text = self._dump(body)
        with self._lock:
            stamp, seq = self._tick()
            try:
                inserted = self._db.execute(
                    f"INSERT INTO entities (collection, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (collection, id, community, text, stamp, stamp, seq),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"{collection}/{id} exists") from exc
        return Record(id, community, json.loads(text), stamp, stamp, seq, inserted.lastrowid or 0)

    def get(self, collection: str, id: str) -> Record | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_SELECTED} FROM entities WHERE collection = ? AND id = ?", (collection, id)
            ).fetchone()
        return _record(row) if row else None

    def update(self, collection: str, id: str, body: dict[str, Any], community: str | None) -> Record | None:
        text = self._dump(body)
        with self._lock:
            stamp, seq = self._tick()
            self._db.execute(
                "UPDATE entities SET body = ?, community = ?, updated_at = ?, seq = ? "
                "WHERE collection = ? AND id = ?",
                (text, community, stamp, seq, collection, id),
            )
            row = self._db.execute(
                f"SELECT {_SELECTED} FROM entities WHERE collection = ? AND id = ?", (collection, id)
            ).fetchone()
        return _record(row) if row else None

    def delete(self, collection: str, id: str) -> bool:
        with self._lock:
            cursor = self._db.execute("DELETE FROM entities WHERE collection = ? AND id = ?", (collection, id))
        return cursor.rowcount > 0

    def page(
        self,
        collection: str,
        *,
        limit: int,
        after: tuple[str, int] | None = None,
        include_after: bool = False,
        since: str | None = None,
        community: str | None = None,
        newest_first: bool = False,
        by_creation: bool = False,
    ) -> list[Record]:
        """Up to ``limit`` records in (updated_at, seq) order (or its reverse), after a position and from an
        instant; ``by_creation`` orders by creation instead, so a record changed during a walk keeps its place
        (S8: a walk lists it at most once). ``after`` is then ``("", row)``."""
        where, args = ["collection = ?"], [collection]
        later = "<" if newest_first else ">"
        op = later + "=" if include_after else later
        if after is not None and by_creation:
            where.append(f"rowid {op} ?")
            args.append(after[1])
        elif after is not None:
            where.append(f"(updated_at {later} ? OR (updated_at = ? AND seq {op} ?))")
            args += [after[0], after[0], after[1]]
        if since is not None:
            where.append("updated_at >= ?")
            args.append(since)
        if community is not None:
            where.append("community = ?")
            args.append(community)
        order = "updated_at DESC, seq DESC" if newest_first else "updated_at, seq"
        if by_creation:
            order = "rowid DESC" if newest_first else "rowid"
        sql = f"SELECT {_SELECTED} FROM entities WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [_record(row) for row in rows]
