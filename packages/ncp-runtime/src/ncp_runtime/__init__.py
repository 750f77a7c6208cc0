"""Service plumbing shared by the NCP services: problem+json, health, JSON logs, request ids, auth."""

from .auth import CallerTokens, DuplicateTokenError, bearer_caller, read_secret
from .body_limit import BodyLimitMiddleware
from .health import ReadyCheck, health_router
from .logging import configure as configure_logging
from .metrics import Metrics, app_metrics, install_observability
from .middleware import RequestIdMiddleware
from .openapi import bearer_scheme, install_openapi, problem, problems
from .problems import (
    PROBLEM_JSON,
    Problem,
    ProblemError,
    install_problem_handlers,
    problem_response,
)
from .settings import ServiceSettings
from .state import from_state, state_of
from .tracing import configure_tracing, flow_context, join_flow
from .url_text import Utf8UrlMiddleware

__all__ = [
    "PROBLEM_JSON",
    "BodyLimitMiddleware",
    "CallerTokens",
    "DuplicateTokenError",
    "Metrics",
    "Problem",
    "ProblemError",
    "ReadyCheck",
    "RequestIdMiddleware",
    "ServiceSettings",
    "Utf8UrlMiddleware",
    "app_metrics",
    "bearer_caller",
    "bearer_scheme",
    "configure_logging",
    "configure_tracing",
    "flow_context",
    "from_state",
    "health_router",
    "install_observability",
    "install_openapi",
    "install_problem_handlers",
    "join_flow",
    "problem",
    "problem_response",
    "problems",
    "read_secret",
    "state_of",
]
