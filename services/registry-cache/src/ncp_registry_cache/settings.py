import ipaddress
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from ncp_runtime import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NCP_REGISTRY_", extra="ignore", env_file=None)
    # NCP_<SERVICE>_DATABASE_URL_FILE: the URL, password included, from a secret file.
    file_settings: ClassVar[tuple[str, ...]] = ("database_url",)

    port: int = 8002
    # Development only (make run, compose, the dev overlay): allows file sources and http on loopback.
    dev_mode: bool = False
    # EMREG JSON: an https URL; in dev_mode also http on loopback, a file path or a file:// URL.
    source: str | None = None
    # Optional EWP catalogue (XML with <emrex-data-access-point> entries), merged with `source`.
    ewp_source: str | None = None
    database_url: str = "sqlite+aiosqlite:///registry-cache.db"
    # PostgreSQL schema to use (search_path); tests use one per run.
    database_schema: str | None = None
    caller_tokens_path: Path | None = None
    refresh_callers: set[str] = Field(default_factory=lambda: {"admin"})

    refresh_interval: float = Field(default=300.0, gt=0)
    refresh_jitter: float = Field(default=0.1, ge=0, lt=1)  # fraction of the interval, either way
    retry_interval: float = Field(default=5.0, gt=0)  # first retry after a failure; doubles up to the interval
    # A copy not confirmed by the source for this long is stale even without an error (default 3 intervals).
    stale_after: float | None = Field(default=None, gt=0)
    fetch_timeout: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    max_document_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    run_refresher: bool = True  # False: this replica only reads what another one (or a CronJob) stored
    # Accept RSA-SHA1/SHA-1 signatures in /v1/verify (some older EMPs still sign so). Server policy, never
    # a request parameter: a client must not be able to lower the bar for its own document.
    allow_sha1: bool = False
    instance_id: str | None = None  # lease owner name; default hostname + pid
    # EMREX 2.0 registered clients (JSON {"clients": [...]}): an http(s) URL, or a file in development.
    clients_source: str | None = None
    # http redirect URIs and jwks_uri on loopback (emrex2.md: development only).
    clients_allow_http_loopback: bool = False

    @model_validator(mode="after")
    def _check_sources(self) -> "Settings":
        if self.clients_allow_http_loopback and not self.dev_mode:
            raise ValueError("http client URLs on loopback are for development only (NCP_REGISTRY_DEV_MODE is off)")
        for value in (self.source, self.ewp_source, self.clients_source):
            if value is None:
                continue
            parts = urlsplit(value)
            scheme = parts.scheme.lower()
            if scheme == "https":
                continue
            if not self.dev_mode:
                raise ValueError(f"registry sources must be https URLs (NCP_REGISTRY_DEV_MODE is off): {value}")
            if scheme == "http" and not is_loopback(parts.hostname):
                raise ValueError(f"http sources are allowed on loopback only, even in dev_mode: {value}")
        return self

    @property
    def effective_stale_after(self) -> float:
        return self.stale_after or 3 * self.refresh_interval

    @property
    def async_database_url(self) -> str:
        url = self.database_url
        for plain, driver in (("postgresql://", "postgresql+asyncpg://"), ("postgres://", "postgresql+asyncpg://"),
                              ("sqlite://", "sqlite+aiosqlite://")):
            if url.startswith(plain):
                return driver + url[len(plain):]
        return url


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
