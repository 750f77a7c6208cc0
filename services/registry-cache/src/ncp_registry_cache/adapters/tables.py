"""Database tables (SQLModel); the wire models live in ncp_contracts, never here."""

from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class RegistryVersion(SQLModel, table=True):
    """One accepted document of one source kind; the same content is stored once."""

    __tablename__ = "registry_version"
    __table_args__ = (UniqueConstraint("kind", "sha256", name="uq_registry_version_kind_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    source: str = Field(max_length=2048)
    sha256: str = Field(max_length=64)
    etag: str | None = Field(default=None, max_length=512)
    last_modified: str | None = Field(default=None, max_length=64)
    format: str = Field(max_length=8)
    emps: int
    fetched_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # When this content last became the current one (content can come back after a change).
    accepted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class RegistryState(SQLModel, table=True):
    """What every replica should know about one source: current version, freshness, last error."""

    __tablename__ = "registry_state"

    kind: str = Field(primary_key=True, max_length=16)
    source: str | None = Field(default=None, max_length=2048)
    current_version_id: int | None = Field(default=None, foreign_key="registry_version.id")
    etag: str | None = Field(default=None, max_length=512)
    last_modified: str | None = Field(default=None, max_length=64)
    last_checked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_success_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_error: str | None = Field(default=None, max_length=1024)
    last_error_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    failures: int = 0


class RefreshLease(SQLModel, table=True):
    """One row; the replica whose lease is live is the one that fetches."""

    __tablename__ = "refresh_lease"

    name: str = Field(primary_key=True, max_length=32)
    owner: str | None = Field(default=None, max_length=128)
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
