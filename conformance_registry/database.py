"""Engines and sessions for SQLite or PostgreSQL (one code path), and the migrations run at start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .errors import RegistryError

__all__ = ["connect", "migrate"]

MIGRATIONS = Path(__file__).parent / "migrations"


def connect(url: str) -> sessionmaker[Session]:
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_pragmas(connection: object, _record: object) -> None:
    # several worker threads and processes share the file: wait for a lock rather than fail, and let readers
    # go on while one writes
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (the migrations ship inside the package)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise RegistryError(f"database {engine.url.render_as_string(hide_password=True)}: "
                            f"{str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}") from None
