import uvicorn

from .settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(
        "ncp_gateway.app:create_app", factory=True, host=settings.host, port=settings.port,
        log_config=None, proxy_headers=True, access_log=False,
    )


if __name__ == "__main__":
    main()
