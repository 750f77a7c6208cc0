"""Database tables (SQLModel): transfer sessions shared by every replica, and the audit trail."""

import datetime as dt

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel


class SessionRow(SQLModel, table=True):
    __tablename__ = "gateway_session"

    id: str = Field(primary_key=True, max_length=64)  # sha256 of the cookie's session token
    expires_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    data: str = Field(sa_column=Column(Text, nullable=False))


class AuditRow(SQLModel, table=True):
    __tablename__ = "gateway_audit"

    id: int | None = Field(default=None, primary_key=True)
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    receiver_origin: str = Field(max_length=2048)
    return_code: str = Field(max_length=32)
    institutions: str = Field(default="", max_length=4096)  # space-separated institution codes
    learning_opportunities: int = 0
    credits: str = "0"  # decimal as text: exact, portable across SQLite and PostgreSQL
    elmo_sha256: str | None = Field(default=None, max_length=64)
    login_pseudonym: str | None = Field(default=None, max_length=64)
    protocol: str = Field(default="emrex1", max_length=16)  # emrex1 (POST /emrex) or emrex2 (OAuth 2.0)
