from pathlib import Path

from pydantic_settings import SettingsConfigDict

from ncp_runtime import ServiceSettings


class Settings(ServiceSettings):
    """Environment `NCP_DEMO_<FIELD>`; every default fits `make run` on one machine."""

    model_config = SettingsConfigDict(env_prefix="NCP_DEMO_", extra="ignore")

    port: int = 8020
    # The node's entry URL, as published in EMREG (the student's browser posts there).
    gateway_url: str = "http://127.0.0.1:8000/emrex"
    # The URL that names the node in EMREG when verifying; defaults to gateway_url.
    node_url: str | None = None
    # This client's own public base URL; the returnUrl sent to the node is `<public_url>/return`.
    public_url: str = "http://127.0.0.1:8020"
    registry_url: str = "http://127.0.0.1:8002"
    # Optional bearer token (file) for the registry-cache; reads need none by default.
    registry_token_path: Path | None = None
    http_timeout_seconds: float = 10.0
    cookie_name: str = "ncp_demo_session"
    # The cookie must survive the cross-site POST back from the node: SameSite=None needs https.
    # Leave unset to derive it from public_url (https -> none+Secure, http -> lax).
    cookie_samesite: str | None = None
    # EMREX 2.0 (emrex2.md): this client's registration and its own signing key (make run makes and registers both).
    emrex2_client_id: str = "demo-client-dev"
    emrex2_key_file: Path | None = None
    emrex2_authorization_url: str = "http://127.0.0.1:8000/oauth2/authorize"
    emrex2_token_url: str = "http://127.0.0.1:8000/oauth2/token"  # noqa: S105 (a URL, not a secret)
    emrex2_resource_url: str = "http://127.0.0.1:8000/results"

    @property
    def return_url(self) -> str:
        return self.public_url.rstrip("/") + "/return"

    @property
    def emrex2_redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + "/emrex2/callback"

    @property
    def verify_node_url(self) -> str:
        return self.node_url or self.gateway_url

    @property
    def cookie_secure(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def effective_samesite(self) -> str:
        if self.cookie_samesite:
            return self.cookie_samesite
        return "none" if self.cookie_secure else "lax"
