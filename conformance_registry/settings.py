"""Where the service keeps its state and how long things last: one place, read from options and the environment.

The same environment reaches a Celery worker, which is started apart from ``registry serve``:
``SC_REGISTRY_DB``, ``SC_REGISTRY_KEY``, ``SC_REGISTRY_BROKER``, ``SC_REGISTRY_SECRET_KEY``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RegistryError

__all__ = ["Settings", "database_url", "suite_command"]

DEFAULT_DB = "sc-registry.sqlite"
DEFAULT_KEY = "sc-registry.key"


def database_url(value: str | None) -> str:
    """A SQLAlchemy URL: a plain path is a SQLite file; ``postgresql://`` uses psycopg 3."""
    value = value or DEFAULT_DB
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    if value.startswith(("sqlite:", "postgresql+psycopg://")):
        return value
    if "://" in value:
        raise RegistryError(f"--db {value.split('://', 1)[0]}://…: expected a file path, sqlite:/// or postgresql://")
    return f"sqlite:///{Path(value).resolve()}"


def suite_command() -> list[str]:
    """How the worker starts the suite: ``$SC_REGISTRY_SUITE`` (a command line), else the installed ``sc-conformance``."""
    if configured := os.environ.get("SC_REGISTRY_SUITE"):
        return shlex.split(configured)
    beside = Path(sys.executable).parent / "sc-conformance"
    found = str(beside) if beside.exists() else shutil.which("sc-conformance")
    if not found:
        raise RegistryError("cannot find the sc-conformance command (install the suite or set SC_REGISTRY_SUITE)")
    return [found]


def _number(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise RegistryError(f"{name}={text!r}: expected a number of seconds") from None
    if value <= 0:
        raise RegistryError(f"{name}={text!r}: expected a positive number")
    return value


@dataclass(frozen=True)
class Settings:
    db_url: str
    key_path: Path
    broker: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    recertify_every: float = 86400.0  # seconds between scheduled re-runs of a live certificate
    validity: float = 365 * 86400.0  # seconds a certificate is valid from its issue date
    run_timeout: float = 1800.0  # a certification run longer than this is killed and recorded as failed
    output_cap: int = 64 * 1024  # bytes of a run's console output kept (its tail) for the run record
    report_cap: int = 64 * 1024 * 1024  # a report.json beyond this is refused, not read
    workers: int = 2  # threads of the in-process worker (each one waits on its own suite process)
    suite: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls, db: str | None = None, key: str | None = None, broker: str | None = None,
                 public_url: str | None = None) -> Settings:
        return cls(db_url=database_url(db or os.environ.get("SC_REGISTRY_DB")),
                   key_path=Path(key or os.environ.get("SC_REGISTRY_KEY") or DEFAULT_KEY).resolve(),
                   broker=broker or os.environ.get("SC_REGISTRY_BROKER") or None,
                   public_url=(public_url or os.environ.get("SC_REGISTRY_URL") or "http://127.0.0.1:8080").rstrip("/"),
                   recertify_every=_number("SC_REGISTRY_RECERTIFY_EVERY", 86400.0),
                   validity=_number("SC_REGISTRY_VALIDITY", 365 * 86400.0),
                   run_timeout=_number("SC_REGISTRY_RUN_TIMEOUT", 1800.0),
                   workers=int(_number("SC_REGISTRY_WORKERS", 2)))
