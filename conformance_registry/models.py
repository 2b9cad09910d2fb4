"""The service's records (SQLAlchemy 2 typed ORM); the schema itself is made by the Alembic migrations."""

from __future__ import annotations

import gzip
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import DateTime, TypeDecorator

__all__ = ["Base", "Certificate", "Platform", "RegistryState", "Report", "Run", "StatusReport"]


class UTCDateTime(TypeDecorator[datetime]):
    """Instants stored with their offset on PostgreSQL and read back aware on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        from datetime import UTC

        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class Platform(Base):
    __tablename__ = "platforms"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    vendor: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(2000))
    profiles: Mapped[list[str]] = mapped_column(JSON)
    sealed_secrets: Mapped[bytes] = mapped_column(LargeBinary)  # Fernet: {"token": …, "credentials": …}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    certificates: Mapped[list[Certificate]] = relationship(back_populates="platform", order_by="Certificate.issued_at")


class Certificate(Base):
    __tablename__ = "certificates"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"), index=True)
    profile_id: Mapped[str] = mapped_column(String(100))
    profile_version: Mapped[str] = mapped_column(String(100))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)  # the signed certificate, as published
    status: Mapped[str] = mapped_column(String(20), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    platform: Mapped[Platform] = relationship(back_populates="certificates")
    history: Mapped[list[StatusReport]] = relationship(order_by="StatusReport.id")


class StatusReport(Base):
    """One change of a certificate's status (or a run that confirmed it), with the run and report that caused it."""

    __tablename__ = "status_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    certificate_id: Mapped[str] = mapped_column(ForeignKey("certificates.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), nullable=True)
    report_digest: Mapped[str | None] = mapped_column(String(80), nullable=True)


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"), index=True)
    profile_id: Mapped[str] = mapped_column(String(100))
    certificate_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the one it re-certifies
    trigger: Mapped[str] = mapped_column(String(20))  # certify | recertify | schedule
    state: Mapped[str] = mapped_column(String(20), index=True)  # queued | running | finished | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(40), nullable=True)
    report_digest: Mapped[str | None] = mapped_column(String(80), nullable=True)
    outcome_certificate_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Report(Base):
    """A report.json as the suite wrote it (the SHA-256 of its UTF-8 bytes is the digest certificates cite), gzipped:
    a run of one profile writes megabytes of evidence that compress about fifteenfold."""

    __tablename__ = "reports"
    digest: Mapped[str] = mapped_column(String(80), primary_key=True)
    gzipped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def text(self) -> str:
        return gzip.decompress(self.gzipped).decode("utf-8")

    @classmethod
    def of(cls, digest: str, text: str, created_at: datetime) -> Report:
        return cls(digest=digest, gzipped=gzip.compress(text.encode("utf-8"), compresslevel=6), created_at=created_at)


class RegistryState(Base):
    """The registry document's serial number (``no``): raised whenever what it lists changes."""

    __tablename__ = "registry_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[int] = mapped_column(Integer)
    content_digest: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
