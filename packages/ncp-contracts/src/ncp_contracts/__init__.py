"""Internal API contracts: request/response models and one typed client per internal service."""

from ._http import BearerAuth
from .errors import RequestRejected, ServiceError, ServiceUnavailable

__all__ = ["BearerAuth", "RequestRejected", "ServiceError", "ServiceUnavailable"]
