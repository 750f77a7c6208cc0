import sys

import uvicorn

from .app import create_app
from .config import ConfigError
from .settings import Settings


def main() -> None:
    settings = Settings()
    try:
        app = create_app(settings)
    except ConfigError as exc:
        # A deployment mistake (tenants file, demo asked of a production image): one line, no traceback.
        sys.exit(f"ncp-sis-adapter: {exc}")
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
