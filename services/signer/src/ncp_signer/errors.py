"""Domain failures mapped to problem+json answers."""

from ncp_runtime import ProblemError
from ncp_signer.domain.signing import DocumentRejected


def rejected(exc: DocumentRejected) -> ProblemError:
    extra: dict[str, object] = {"issues": exc.issues[:50]} if exc.issues else {}
    return ProblemError(exc.status, exc.code, exc.detail, extra=extra)


def signing_unavailable(reason: str) -> ProblemError:
    return ProblemError(503, "signing_unavailable", reason, headers={"Retry-After": "30"})
