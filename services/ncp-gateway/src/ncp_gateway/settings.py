import datetime as dt
from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from ncp_runtime import ServiceSettings

from .domain.entry import EntryError, normalize_origin

Prefix = Literal["NCP", "EMP"]
Language = Literal["en", "de"]


class Settings(ServiceSettings):
    """Gateway configuration; secrets are file paths, never values."""

    model_config = SettingsConfigDict(env_prefix="NCP_GATEWAY_", extra="ignore", env_file=None)
    # NCP_<SERVICE>_DATABASE_URL_FILE: the URL, password included, from a secret file.
    file_settings: ClassVar[tuple[str, ...]] = ("database_url",)

    # Fail closed: development conveniences (random secrets, a public OIDC client, plain http) need an explicit
    # NCP_GATEWAY_ENV=dev (or test); `make run`, compose and the dev overlay set it.
    env: Literal["dev", "test", "staging", "prod"] = "prod"
    port: int = 8000
    # How long an idle browser or proxy connection stays open. uvicorn's default (5 s) is shorter than what
    # reverse proxies and load balancers keep an idle upstream connection (nginx 60-75 s, cloud balancers 60 s):
    # the gateway would close one just as the proxy sends the next request on it, and the student gets a 502.
    keep_alive_seconds: int = Field(default=75, ge=1, le=3600)
    # The externally visible base URL (scheme://host[:port]); None derives it from the request.
    public_url: str | None = None

    # Storage shared by every replica: SQLite file by default, PostgreSQL via database_url.
    database_path: Path = Path("var/gateway.db")
    database_url: str | None = None  # e.g. postgresql+asyncpg://user@host/db
    database_schema: str | None = None  # PostgreSQL schema (search_path) for the tables
    # PostgreSQL connections per replica: this many kept, as many again under a burst (SQLAlchemy's
    # default 5 + 10 with a 30 s wait queued every request of a loaded replica behind five connections).
    database_pool_size: int = Field(default=10, ge=1, le=200)

    session_secret_path: Path | None = None  # signs the session cookie; required outside dev
    pseudonym_key_path: Path | None = None  # HMAC key for audit pseudonyms; required outside dev
    session_ttl_seconds: int = Field(default=1200, ge=60, le=24 * 3600)
    cookie_secure: bool = True

    oidc_issuer: str = "http://127.0.0.1:8010"
    oidc_client_id: str = "ncp-gateway"
    oidc_client_secret_path: Path | None = None  # None: public client (PKCE only), dev only
    oidc_scopes: str = "openid profile"
    # ID-token claims tried in order for the learner identifier passed to the sis-adapter.
    oidc_subject_claims: list[str] = Field(default_factory=lambda: ["sub"])
    oidc_national_id_claim: str | None = None
    oidc_esi_claim: str | None = None
    oidc_given_name_claim: str | None = "given_name"
    oidc_family_name_claim: str | None = "family_name"
    oidc_birthdate_claim: str | None = "birthdate"
    oidc_leeway_seconds: int = Field(default=60, ge=0, le=600)
    oidc_id_token_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "PS256", "ES256"])

    signer_url: str = "http://127.0.0.1:8001"
    registry_url: str = "http://127.0.0.1:8002"
    # How long the consent page reuses the registry's entry for a receiver (its name and country) before asking again.
    receiver_cache_seconds: float = Field(default=60.0, ge=0)
    sis_url: str = "http://127.0.0.1:8003"
    # One bearer token per callee, each issued for that callee only; the registry-cache's reads take none.
    signer_token_path: Path | None = None
    sis_token_path: Path | None = None
    # Mutual TLS to the signer (an https signer_url): the CA of its server certificate, and this gateway's
    # client certificate and key (PEM files; the production overlay mounts them from a Secret).
    signer_ca_file: Path | None = None
    signer_client_cert_file: Path | None = None
    signer_client_key_file: Path | None = None
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    # Signing queues behind the other documents of a loaded node (the transcript's PAdES signature is the heaviest
    # step of a flow): a late signature beats a student sent back with an error. None: 3 x http_timeout_seconds.
    signer_timeout_seconds: float | None = Field(default=None, gt=0)
    sis_tenant: str = "default"

    allow_http_loopback: bool = False
    # Receiver origins (scheme://host[:port]) allowed as returnUrl; empty allows any https origin.
    allowed_return_origins: list[str] = Field(default_factory=list)
    return_code_prefix: Prefix = "NCP"
    return_code_prefix_by_origin: dict[str, Prefix] = Field(default_factory=dict)

    # Strict-Transport-Security on every answer; 0 turns it off (e.g. when the proxy in front sets it).
    hsts_max_age_seconds: int = Field(default=31_536_000, ge=0)
    hsts_include_subdomains: bool = False

    # Transfers alive at once (all replicas): beyond it /emrex answers 503 instead of growing the table.
    max_live_transfers: int = Field(default=50_000, ge=1)
    # Transfers one browser may have open at once (one cookie each); beyond it /emrex asks to finish one.
    max_transfers_per_browser: int = Field(default=8, ge=1, le=30)
    # Expired transfers are kept an hour (a late click still reaches the client), then purged.
    purge_interval_seconds: float = Field(default=300.0, gt=0)
    audit_retention_days: int = Field(default=365, ge=1)
    # Largest request body the HTML forms accept (the selection form of a long career stays far below).
    max_form_bytes: int = Field(default=1_048_576, ge=4096)

    # EMREX 2.0 (emrex2.md): the OAuth 2.0 authorization server and GET /results. Off: those endpoints answer 404.
    emrex2_enabled: bool = False
    emrex2_code_ttl_seconds: int = Field(default=60, ge=5, le=60)  # emrex2.md step 3: at most 60 s
    emrex2_token_ttl_seconds: int = Field(default=300, ge=10, le=300)  # emrex2.md step 4: expires_in <= 300
    # Consented results stay readable this long after consent (tokens live 300 s at most within it).
    emrex2_results_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    # The wording of the consent page, recorded with every EMREX 2.0 consent.
    emrex2_consent_wording_version: str = "1"

    default_language: Language = "en"
    pdf_font_path: Path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

    # WCAG 2.2.1: the pages warn this long before a transfer expires and offer to extend it, by another
    # session_ttl_seconds each time, up to session_max_lifetime_seconds after the entry.
    session_warning_seconds: int = Field(default=120, ge=20, le=3600)
    session_max_lifetime_seconds: int = Field(default=3600, ge=60, le=24 * 3600)
    # The accessibility statement (/accessibility): who answers for it, where feedback goes, and the
    # enforcement body students can turn to (EU Web Accessibility Directive, model statement).
    accessibility_organisation: str = "The operator of this national contact point"
    accessibility_contact_email: str | None = None
    accessibility_contact_url: str | None = None
    accessibility_enforcement_url: str | None = None
    accessibility_statement_date: dt.date = dt.date(2026, 11, 30)
    accessibility_review_date: dt.date = dt.date(2026, 11, 30)

    @model_validator(mode="after")
    def _session_time_and_statement(self) -> "Settings":
        if self.session_max_lifetime_seconds < self.session_ttl_seconds:
            raise ValueError("NCP_GATEWAY_SESSION_MAX_LIFETIME_SECONDS must be at least SESSION_TTL_SECONDS")
        for name in ("accessibility_contact_url", "accessibility_enforcement_url"):
            value = getattr(self, name)
            if value is not None and urlsplit(value).scheme not in ("https", "http"):
                raise ValueError(f"NCP_GATEWAY_{name.upper()} must be an http(s) URL (got {value!r})")
        return self

    @property
    def development(self) -> bool:
        return self.env in ("dev", "test")

    @model_validator(mode="after")
    def _one_token_per_callee(self) -> "Settings":
        """Each callee gets its own token: one shared by the signer and the sis-adapter lets either reach the
        other as the gateway. Checked when both files can be read (a missing one fails at start-up anyway)."""
        paths = [p for p in (self.signer_token_path, self.sis_token_path) if p is not None and p.is_file()]
        values = [p.read_text(encoding="utf-8").strip() for p in paths]
        if len(values) == 2 and values[0] and values[0] == values[1]:
            raise ValueError("NCP_GATEWAY_SIGNER_TOKEN_PATH and NCP_GATEWAY_SIS_TOKEN_PATH hold the same token; "
                             "issue one token per callee")
        return self

    @model_validator(mode="after")
    def _signer_tls(self) -> "Settings":
        if (self.signer_client_cert_file is None) != (self.signer_client_key_file is None):
            raise ValueError("signer_client_cert_file and signer_client_key_file go together")
        return self

    @model_validator(mode="after")
    def _fail_closed_outside_development(self) -> "Settings":
        try:
            for origin in self.allowed_return_origins:
                normalize_origin(origin)
            for origin in self.return_code_prefix_by_origin:
                normalize_origin(origin)
        except EntryError as exc:
            raise ValueError(f"NCP_GATEWAY_ALLOWED_RETURN_ORIGINS / RETURN_CODE_PREFIX_BY_ORIGIN: {exc}") from None
        if self.development:
            return self
        problems = [
            f"NCP_GATEWAY_{name.upper()} is required (no random secrets, no public OIDC client)"
            for name in ("session_secret_path", "pseudonym_key_path", "oidc_client_secret_path")
            if getattr(self, name) is None
        ]
        for name in ("oidc_issuer", "public_url"):
            value = getattr(self, name)
            if value is None or urlsplit(value).scheme != "https" or not urlsplit(value).hostname:
                problems.append(f"NCP_GATEWAY_{name.upper()} must be an https URL (got {value!r})")
        problems += [f"NCP_GATEWAY_ALLOWED_RETURN_ORIGINS must be https origins (got {o!r})"
                     for o in self.allowed_return_origins if not normalize_origin(o).startswith("https://")]
        if self.allow_http_loopback:
            problems.append("NCP_GATEWAY_ALLOW_HTTP_LOOPBACK must be false (http return URLs are for development)")
        if not self.cookie_secure:
            problems.append("NCP_GATEWAY_COOKIE_SECURE must be true (cookies over http are for development)")
        if problems:
            raise ValueError(f"outside development (NCP_GATEWAY_ENV={self.env}): " + "; ".join(problems))
        return self

    @property
    def signer_timeout(self) -> float:
        return self.signer_timeout_seconds or 3 * self.http_timeout_seconds

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite+aiosqlite:///{self.database_path}"


class AuditToolSettings(ServiceSettings):
    """What `emrex audit` reads from the gateway's environment (where it is run next to the gateway): only the
    database, the provider and the pseudonym key, so the command works without the gateway's other secrets."""

    model_config = SettingsConfigDict(env_prefix="NCP_GATEWAY_", extra="ignore", env_file=None)
    file_settings: ClassVar[tuple[str, ...]] = ("database_url",)

    database_url: str | None = None
    database_path: Path | None = None
    database_schema: str | None = None
    oidc_issuer: str | None = None
    pseudonym_key_path: Path | None = None
