"""EMREX 2.0 state shared by every replica: consents, the results they release, authorization codes, access
tokens and the client-assertion `jti`s already seen. Codes and tokens are stored under their SHA-256 only."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Boolean, Column, Connection, DateTime, Text, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel, col


class ConsentRow(SQLModel, table=True):
    """emrex2.md step 2: kept for the audit period; names no learner (a pseudonym) and holds no results."""

    __tablename__ = "emrex2_consent"

    ref_id: str = Field(primary_key=True, max_length=64)
    learner_pseudonym: str | None = Field(default=None, max_length=64)
    selected: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of result ids
    client_id: str = Field(max_length=512)
    consented_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    wording_version: str = Field(max_length=32)


class ReleaseRow(SQLModel, table=True):
    """The consented document (unsigned ELMO), readable by the tokens of its ref_id until it expires."""

    __tablename__ = "emrex2_release"

    ref_id: str = Field(primary_key=True, max_length=64)
    document: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # None: no results
    expires_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class CodeRow(SQLModel, table=True):
    __tablename__ = "emrex2_code"

    id: str = Field(primary_key=True, max_length=64)  # sha256 of the code
    ref_id: str = Field(max_length=64)
    client_id: str = Field(max_length=512)
    redirect_uri: str = Field(sa_column=Column(Text, nullable=False))
    code_challenge: str = Field(max_length=64)
    scope: str = Field(max_length=256)
    expires_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    used: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))
    trace_context: str | None = Field(default=None, max_length=64)  # the flow's W3C traceparent


class TokenRow(SQLModel, table=True):
    __tablename__ = "emrex2_token"

    id: str = Field(primary_key=True, max_length=64)  # sha256 of the access token
    code_id: str = Field(max_length=64, index=True)
    ref_id: str = Field(max_length=64)
    client_id: str = Field(max_length=512)
    scope: str = Field(max_length=256)
    expires_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    revoked: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))
    trace_context: str | None = Field(default=None, max_length=64)  # the flow's W3C traceparent


class JtiRow(SQLModel, table=True):
    """RFC 7523 §3 item 7: each assertion's jti once; the primary key makes the second insert fail on any replica."""

    __tablename__ = "emrex2_jti"

    client_id: str = Field(primary_key=True, max_length=512)
    jti: str = Field(primary_key=True, max_length=256)
    expires_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


CODE_KEPT = dt.timedelta(minutes=10)
TABLES = [ConsentRow, ReleaseRow, CodeRow, TokenRow, JtiRow]


@dataclass(frozen=True)
class Grant:
    code_id: str
    ref_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: str
    expires_at: dt.datetime
    trace_context: str | None = None


@dataclass(frozen=True)
class AccessGrant:
    ref_id: str
    client_id: str
    scope: str
    expires_at: dt.datetime
    trace_context: str | None = None


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite drops the zone


class OAuth2Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    async def release(self, consent: ConsentRow, release: ReleaseRow, code: CodeRow) -> None:
        """Consent, its document and the code, in one transaction: a code never points at nothing."""
        async with self._sessions() as db:
            db.add_all([consent, release, code])
            await db.commit()

    async def claim_code(self, code_id: str) -> tuple[Grant | None, bool]:
        """(grant, first use). Marks the code used in one conditional UPDATE, so two replicas cannot both win."""
        async with self._sessions() as db:
            claimed = await db.execute(
                update(CodeRow).where(col(CodeRow.id) == code_id, col(CodeRow.used).is_(False)).values(used=True))
            row = (await db.execute(select(CodeRow).where(col(CodeRow.id) == code_id))).scalar_one_or_none()
            await db.commit()
        if row is None:
            return None, False
        grant = Grant(code_id=row.id, ref_id=row.ref_id, client_id=row.client_id, redirect_uri=row.redirect_uri,
                      code_challenge=row.code_challenge, scope=row.scope, expires_at=_aware(row.expires_at),
                      trace_context=row.trace_context)
        return grant, bool(getattr(claimed, "rowcount", 0))

    async def revoke_from_code(self, code_id: str) -> int:
        """RFC 6749 §4.1.2: a code used twice revokes every token issued from it."""
        async with self._sessions() as db:
            result = await db.execute(update(TokenRow).where(col(TokenRow.code_id) == code_id).values(revoked=True))
            await db.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def remember_jti(self, client_id: str, jti: str, expires_at: dt.datetime) -> bool:
        """False when this client's jti was seen before (a replayed assertion)."""
        try:
            async with self._sessions() as db:
                db.add(JtiRow(client_id=client_id, jti=jti, expires_at=expires_at))
                await db.commit()
        except IntegrityError:
            return False
        return True

    async def issue(self, token: TokenRow) -> None:
        async with self._sessions() as db:
            db.add(token)
            await db.commit()

    async def access(self, token_id: str, now: dt.datetime) -> AccessGrant | None:
        """The grant of a live, unrevoked token; None for unknown, expired or revoked."""
        async with self._sessions() as db:
            row = (await db.execute(select(TokenRow).where(col(TokenRow.id) == token_id))).scalar_one_or_none()
        if row is None or row.revoked or _aware(row.expires_at) <= now:
            return None
        return AccessGrant(ref_id=row.ref_id, client_id=row.client_id, scope=row.scope,
                           expires_at=_aware(row.expires_at), trace_context=row.trace_context)

    async def document(self, ref_id: str, now: dt.datetime) -> tuple[bool, str | None]:
        """(released and not expired, the unsigned document or None when there were no results)."""
        async with self._sessions() as db:
            row = (await db.execute(select(ReleaseRow).where(col(ReleaseRow.ref_id) == ref_id))).scalar_one_or_none()
        if row is None or _aware(row.expires_at) <= now:
            return False, None
        return True, row.document

    async def consent(self, ref_id: str) -> ConsentRow | None:
        async with self._sessions() as db:
            return (await db.execute(select(ConsentRow).where(col(ConsentRow.ref_id) == ref_id))).scalar_one_or_none()


def purge(now: dt.datetime, consent_before: dt.datetime) -> Callable[[Connection], None]:
    """One purge's deletes, as work for one transaction: the gateway runs it on its session store's runner (on
    SQLite the worker's thread and connection), so it takes turns with the store's own purge there."""
    # A used code is kept while tokens issued from it may live, so its replay can still revoke them.
    statements = [*(delete(table).where(col(table.expires_at) < now) for table in (ReleaseRow, TokenRow, JtiRow)),
                  delete(CodeRow).where(col(CodeRow.expires_at) < now - CODE_KEPT),
                  delete(ConsentRow).where(col(ConsentRow.consented_at) < consent_before)]

    def work(conn: Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return work
