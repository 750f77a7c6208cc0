from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ncp_runtime import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NCP_SIS_", extra="ignore", env_file=None)
    # NCP_<SERVICE>_DATABASE_URL_FILE: the URL, password included, from a secret file.
    file_settings: ClassVar[tuple[str, ...]] = ("database_url",)

    port: int = 8003
    # sqlite+aiosqlite:///path (default) or postgresql+asyncpg://user@host/db
    database_url: str = "sqlite+aiosqlite:///var/sis-adapter.db"
    database_schema: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    database_pool_size: int = Field(default=10, ge=1, le=200)
    migrate_on_start: bool = True
    # Development only: seed the demo SIS (package ncp-demo-sis, not in production images) and, unless
    # tenants_path is set, serve its tenants.
    seed_demo: bool = False
    tenants_path: Path | None = None
    caller_tokens_path: Path = Path("/run/secrets/ncp-sis-callers")
    allowed_callers: set[str] = Field(default_factory=lambda: {"gateway"})
    # Per-institution defaults; an institution's config may override them.
    institution_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    breaker_failure_threshold: int = Field(default=3, ge=1)
    breaker_reset_seconds: float = Field(default=30.0, gt=0)
    # A 500-result answer is ~6,000 short-lived objects; CPython's default GC thresholds then collect
    # so often that throughput under concurrency drops 3x (see bench/). 0 keeps the interpreter default.
    gc_gen0_threshold: int = Field(default=50_000, ge=0)
