import uvicorn

from .settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run("ncp_sis_adapter.app:create_app", factory=True, host=settings.host, port=settings.port,
                log_config=None)


if __name__ == "__main__":
    main()
