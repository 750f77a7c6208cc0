"""`ncp-signer` / `python -m ncp_signer`: serve the signer with uvicorn on the configured host and port."""

import ssl
from typing import Any

import uvicorn

from ncp_signer.settings import Settings


def main() -> None:
    settings = Settings()
    tls: dict[str, Any] = {}
    if settings.tls_cert_file is not None:
        tls = {"ssl_certfile": str(settings.tls_cert_file), "ssl_keyfile": str(settings.tls_key_file)}
        if settings.tls_client_ca_file is not None:
            tls |= {"ssl_ca_certs": str(settings.tls_client_ca_file), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    uvicorn.run("ncp_signer.app:create_app", factory=True, host=settings.host, port=settings.port,
                log_config=None, access_log=False, **tls)


if __name__ == "__main__":
    main()
