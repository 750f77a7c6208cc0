import uvicorn

from .settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(
        "ncp_demo_client.app:create_app", factory=True, host=settings.host, port=settings.port,
        log_level=settings.log_level.lower(), access_log=False,
    )


if __name__ == "__main__":
    main()
