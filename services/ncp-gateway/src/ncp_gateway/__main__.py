import gc
import sys

import uvicorn
from pydantic import ValidationError

from .settings import Settings

# A flow allocates tens of thousands of short-lived objects (templates, ORM rows, the ELMO model, the PDF);
# with CPython's default threshold (700) the collector ran ~17 ms per flow, scanning long-lived objects.
GC_GEN0_THRESHOLD = 50_000


def tune_gc(gen0_threshold: int = GC_GEN0_THRESHOLD) -> None:
    """Collect less often, and never again scan what start-up created (modules, the app's code)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)


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
    from . import app  # noqa: F401 - imported here so that its modules are frozen with the rest

    tune_gc()
    uvicorn.run(
        "ncp_gateway.app:create_app", factory=True, host=settings.host, port=settings.port,
        log_config=None, proxy_headers=True, access_log=False, timeout_keep_alive=settings.keep_alive_seconds,
    )


if __name__ == "__main__":
    main()
