"""Internal API contracts: request/response models (`*_models`, importable without httpx) and one typed client
per internal service (`signer`, `registry`, `sis`)."""

from typing import TYPE_CHECKING, Any

from .errors import RequestRejected, ServiceError, ServiceUnavailable

if TYPE_CHECKING:
    from ._http import BearerAuth

__all__ = ["BearerAuth", "RequestRejected", "ServiceError", "ServiceUnavailable"]


def __getattr__(name: str) -> Any:
    # BearerAuth needs httpx: imported on first use, so `import ncp_contracts.<x>_models` stays free of it.
    if name == "BearerAuth":
        from ._http import BearerAuth

        return BearerAuth
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
