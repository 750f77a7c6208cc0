"""Settings from the environment (prefix NCP_SIGNER_); secrets are file paths, never values."""

import datetime as dt
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import SettingsConfigDict

from emrex_elmo import DEFAULT_MAX_BYTES
from ncp_contracts.signer_models import SupportedDataFormat
from ncp_runtime import ServiceSettings

DEFAULT_PKCS11_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
ELMO_2_SCHEMA_URL = "https://raw.githubusercontent.com/emrex-eu/elmo-schemas/v2.0.0/schema.xsd"


class KeyConfig(BaseModel):
    """One configured signing key: its certificate, where its private key lives, how long it stays published.

    Only the active key's private key is opened; the others contribute their certificate to
    /v1/certificates until `publish_until` (default: the certificate's own notAfter).
    """

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    backend: Literal["file", "pkcs11"] = "file"
    cert_path: Path
    """PEM: the signing certificate first, then its chain (which is published, not put in KeyInfo)."""
    publish_until: dt.datetime | None = None
    # file backend
    key_path: Path | None = None
    passphrase_file: Path | None = None
    passphrase_env: str | None = None
    """Name of an environment variable holding the key passphrase (when a file mount is not possible)."""
    # pkcs11 backend
    pkcs11_module: Path | None = None
    token_label: str | None = None
    key_label: str | None = None
    pin_file: Path | None = None
    pool_size: int = Field(default=4, ge=1, le=64)

    @model_validator(mode="after")
    def _backend_fields(self) -> "KeyConfig":
        if self.passphrase_file and self.passphrase_env:
            raise ValueError(f"key {self.id}: give passphrase_file or passphrase_env, not both")
        return self


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NCP_SIGNER_", extra="ignore", env_file=None)

    port: int = 8001

    # One key, the common case (a Kubernetes Secret with tls.key/tls.crt style files).
    key_file: Path | None = None
    cert_file: Path | None = None
    key_passphrase_file: Path | None = None
    key_passphrase_env: str | None = None
    key_id: str | None = None

    # Several keys for rotation: a JSON list in NCP_SIGNER_KEYS and/or a JSON file of the same shape.
    keys: list[KeyConfig] = Field(default_factory=list)
    keys_file: Path | None = None
    active_key_id: str | None = None

    pkcs11_module: Path = DEFAULT_PKCS11_MODULE

    caller_tokens_path: Path | None = None
    """A directory with one token file per caller (a Secret mount) or a file of caller=token lines."""
    allowed_callers: set[str] = Field(default_factory=lambda: {"gateway"})

    # Optional TLS for the internal API; with a client CA, callers must also present a certificate
    # it issued (mTLS) in addition to their bearer token.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = None
    # A plain-HTTP listener for /healthz and /readyz only: kubelet probes cannot present a client certificate.
    health_port: int | None = Field(default=None, ge=1, le=65535)

    max_document_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024)
    expiry_warning_days: int = Field(default=30, ge=0)
    expiry_check_interval_s: float = Field(default=3600.0, gt=0)
    sign_concurrency: int = Field(default=2, ge=1, le=256)
    """Signatures computed at once in worker threads; more requests wait their turn. The threads of one process
    share the GIL, so more of them than cores costs CPU and buys nothing for file keys (4 threads on 2 cores:
    about 45% more CPU per request than 2); scale with processes. Raise it for a network HSM, whose signatures
    wait on I/O."""
    sign_inline_max_bytes: int = Field(default=65_536, ge=0)
    """Documents up to this size, with a key file, are signed on the event loop rather than in a worker thread:
    the hop and the GIL handoffs cost about 1 ms of a 2 to 3 ms signature (100 courses, 41 KB), and the loop is
    held a few milliseconds at most. 0 sends every document to the threads."""
    # A request allocates a few thousand short-lived objects (FastAPI, the Signature tree); with CPython's
    # default thresholds the collector runs every few requests and rescans what start-up built. 0 keeps the default.
    gc_gen0_threshold: int = Field(default=50_000, ge=0)

    # The EMREG entry this node publishes (GET /v1/emreg-entry).
    emreg_url: str | None = None
    emreg_acronym: str | None = None
    emreg_country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    emreg_institutions: list[str] = Field(default_factory=list)
    # EMREX 2.0 properties of the entry (emrex2.md, "Registry entries"); all three URLs or none.
    emreg_authorization_url: str | None = None
    emreg_token_url: str | None = None
    emreg_resource_url: str | None = None
    emreg_supported_data_formats: list[SupportedDataFormat] = Field(default_factory=lambda: [
        SupportedDataFormat(name="elmo", versions=["1.7.0", "2.0.0"], schema_url=ELMO_2_SCHEMA_URL),
        SupportedDataFormat(name="userinfo", versions=["2.0.0"], schema_url=ELMO_2_SCHEMA_URL),
        SupportedDataFormat(name="pdf"),
        SupportedDataFormat(name="pdf_metadata"),
    ])

    @model_validator(mode="after")
    def _emrex2_urls(self) -> "Settings":
        urls = (self.emreg_authorization_url, self.emreg_token_url, self.emreg_resource_url)
        if any(urls) and not all(urls):
            raise ValueError("NCP_SIGNER_EMREG_AUTHORIZATION_URL, _TOKEN_URL and _RESOURCE_URL go together")
        return self

    @model_validator(mode="after")
    def _tls_pairs(self) -> "Settings":
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("NCP_SIGNER_TLS_CERT_FILE and NCP_SIGNER_TLS_KEY_FILE go together")
        if self.tls_client_ca_file is not None and self.tls_cert_file is None:
            raise ValueError("NCP_SIGNER_TLS_CLIENT_CA_FILE (mTLS) needs NCP_SIGNER_TLS_CERT_FILE/KEY_FILE")
        if self.health_port is not None and self.health_port == self.port:
            raise ValueError("NCP_SIGNER_HEALTH_PORT must differ from NCP_SIGNER_PORT")
        return self

    def key_configs(self) -> list[KeyConfig]:
        """Every configured key: the single-key settings, NCP_SIGNER_KEYS, then the keys file."""
        configs: list[KeyConfig] = []
        if self.key_file or self.cert_file:
            if not (self.key_file and self.cert_file):
                raise ValueError("NCP_SIGNER_KEY_FILE and NCP_SIGNER_CERT_FILE go together")
            configs.append(KeyConfig(
                id=self.key_id or "default", backend="file", key_path=self.key_file,
                cert_path=self.cert_file, passphrase_file=self.key_passphrase_file,
                passphrase_env=self.key_passphrase_env,
            ))
        configs.extend(self.keys)
        if self.keys_file is not None:
            raw = json.loads(self.keys_file.read_text(encoding="utf-8"))
            items = raw.get("keys", []) if isinstance(raw, dict) else raw
            configs.extend(KeyConfig.model_validate(item) for item in items)
        ids = [c.id for c in configs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate key ids in {ids}")
        return configs

    def active_id(self, configs: list[KeyConfig]) -> str:
        if self.active_key_id:
            if self.active_key_id not in {c.id for c in configs}:
                raise ValueError(f"active key {self.active_key_id!r} is not configured")
            return self.active_key_id
        if len(configs) == 1:
            return configs[0].id
        raise ValueError("NCP_SIGNER_ACTIVE_KEY_ID is required when several keys are configured"
                         if configs else "no signing key configured (NCP_SIGNER_KEY_FILE/CERT_FILE or KEYS)")
