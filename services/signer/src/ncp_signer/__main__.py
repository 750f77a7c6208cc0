"""`ncp-signer` / `python -m ncp_signer`: serve the signer with uvicorn on the configured host and port."""

import uvicorn

from ncp_signer.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run("ncp_signer.app:create_app", factory=True, host=settings.host, port=settings.port,
                log_config=None, access_log=False)


if __name__ == "__main__":
    main()
