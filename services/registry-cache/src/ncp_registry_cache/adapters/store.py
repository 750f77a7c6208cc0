"""Versions, per-source state and the refresher lease, on any SQLAlchemy async engine."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .tables import RefreshLease, RegistryState, RegistryVersion

_VERSION = RegistryVersion.__table__  # type: ignore[attr-defined]
_STATE = RegistryState.__table__  # type: ignore[attr-defined]
_LEASE = RefreshLease.__table__  # type: ignore[attr-defined]
LEASE_NAME = "refresher"


def utc(value: datetime | None) -> datetime | None:
    # SQLite hands timezone-aware values back naive; everything stored here is UTC.
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SourceState:
    kind: str
    source: str | None
    current_version_id: int | None
    etag: str | None
    last_modified: str | None
    last_checked_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int


@dataclass(frozen=True)
class StoredVersion:
    id: int
    kind: str
    source: str
    sha256: str
    etag: str | None
    format: str
    emps: int
    fetched_at: datetime
    accepted_at: datetime
    body: bytes


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    async def try_acquire_lease(self, owner: str, ttl: float, now: datetime) -> bool:
        """Atomic on both databases: one conditional UPDATE, so two replicas cannot both win."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(_LEASE)
                .where(_LEASE.c.name == LEASE_NAME)
                .where((_LEASE.c.owner == owner) | _LEASE.c.owner.is_(None) | (_LEASE.c.expires_at < now))
                .values(owner=owner, expires_at=now + timedelta(seconds=ttl))
            )
            return bool(result.rowcount == 1)

    async def release_lease(self, owner: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(_LEASE).where(_LEASE.c.name == LEASE_NAME).where(_LEASE.c.owner == owner)
                .values(owner=None, expires_at=None)
            )

    async def states(self) -> dict[str, SourceState]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(_STATE))).mappings().all()
        return {
            row["kind"]: SourceState(
                kind=row["kind"], source=row["source"], current_version_id=row["current_version_id"],
                etag=row["etag"], last_modified=row["last_modified"],
                last_checked_at=utc(row["last_checked_at"]), last_success_at=utc(row["last_success_at"]),
                last_error=row["last_error"], last_error_at=utc(row["last_error_at"]), failures=row["failures"],
            )
            for row in rows
        }

    async def _ensure_state(self, conn: AsyncConnection, kind: str) -> None:
        await conn.execute(self._insert(_STATE).values(kind=kind, failures=0).on_conflict_do_nothing())

    async def record_unchanged(self, kind: str, source: str, now: datetime, *, etag: str | None,
                               last_modified: str | None) -> None:
        """The source confirmed the current copy (304, or the same bytes)."""
        async with self.engine.begin() as conn:
            await self._ensure_state(conn, kind)
            await conn.execute(
                update(_STATE).where(_STATE.c.kind == kind).values(
                    source=source, etag=etag, last_modified=last_modified, last_checked_at=now,
                    last_success_at=now, last_error=None, failures=0,
                )
            )

    async def record_failure(self, kind: str, source: str, reason: str, now: datetime) -> None:
        async with self.engine.begin() as conn:
            await self._ensure_state(conn, kind)
            await conn.execute(
                update(_STATE).where(_STATE.c.kind == kind).values(
                    source=source, last_checked_at=now, last_error=reason[:1024], last_error_at=now,
                    failures=_STATE.c.failures + 1,
                )
            )

    async def accept_version(self, *, kind: str, source: str, sha256: str, body: bytes, etag: str | None,
                             last_modified: str | None, format: str, emps: int, now: datetime) -> int:
        """Store the content once (unique per kind and hash) and make it the current version."""
        async with self.engine.begin() as conn:
            await conn.execute(
                self._insert(_VERSION).values(
                    kind=kind, source=source, sha256=sha256, etag=etag, last_modified=last_modified,
                    format=format, emps=emps, fetched_at=now, accepted_at=now, body=body,
                ).on_conflict_do_nothing(index_elements=["kind", "sha256"])
            )
            version_id: int = (await conn.execute(
                select(_VERSION.c.id).where(_VERSION.c.kind == kind).where(_VERSION.c.sha256 == sha256)
            )).scalar_one()
            await conn.execute(update(_VERSION).where(_VERSION.c.id == version_id).values(accepted_at=now))
            await self._ensure_state(conn, kind)
            await conn.execute(
                update(_STATE).where(_STATE.c.kind == kind).values(
                    source=source, current_version_id=version_id, etag=etag, last_modified=last_modified,
                    last_checked_at=now, last_success_at=now, last_error=None, failures=0,
                )
            )
        return version_id

    async def version(self, version_id: int) -> StoredVersion | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(_VERSION).where(_VERSION.c.id == version_id))).mappings().first()
        if row is None:
            return None
        return StoredVersion(
            id=row["id"], kind=row["kind"], source=row["source"], sha256=row["sha256"], etag=row["etag"],
            format=row["format"], emps=row["emps"], fetched_at=utc(row["fetched_at"]) or datetime.now(UTC),
            accepted_at=utc(row["accepted_at"]) or datetime.now(UTC), body=row["body"],
        )

    async def count_versions(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(_VERSION))).scalar_one())

