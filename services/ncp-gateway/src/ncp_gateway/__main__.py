import sys

import uvicorn
from pydantic import ValidationError

from .settings import Settings


def main() -> None:
    try:
        settings = Settings()
    except ValidationError as exc:
        # Start-up fails with the settings named, not a traceback.
        messages = "\n".join(
            "  " + (f"NCP_GATEWAY_{str(e['loc'][0]).upper()}: " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ") for e in exc.errors()
        )
        sys.exit(f"ncp-gateway: invalid configuration\n{messages}")
    uvicorn.run(
        "ncp_gateway.app:create_app", factory=True, host=settings.host, port=settings.port,
        log_config=None, proxy_headers=True, access_log=False,
    )


if __name__ == "__main__":
    main()
