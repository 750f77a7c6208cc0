"""Shared test helpers for the NCP workspace (dev only; no service imports this at run time)."""

from .asgi import asgi_client
from .conformance import (
    conformance_schema,
    conformance_service,
    conformance_test,
    document_issues,
    error_media_types,
    secured_operations,
)
from .elmo import (
    WHEN,
    course,
    golden_elmo,
    institution,
    learner,
    make_elmo,
    numbered_courses,
    sample_elmo,
    sample_xml,
)
from .pki import dev_ca, sign_enveloped, signing_key, write_key_files
from .reference import reference_dir, required_reference_dir, samples_dir
from .server import free_port, serve_on_loopback
from .tokens import bearer, write_caller_tokens

__all__ = [
    "WHEN",
    "asgi_client",
    "bearer",
    "conformance_schema",
    "conformance_service",
    "conformance_test",
    "course",
    "dev_ca",
    "document_issues",
    "error_media_types",
    "free_port",
    "golden_elmo",
    "institution",
    "learner",
    "make_elmo",
    "numbered_courses",
    "reference_dir",
    "required_reference_dir",
    "sample_elmo",
    "sample_xml",
    "samples_dir",
    "secured_operations",
    "serve_on_loopback",
    "sign_enveloped",
    "signing_key",
    "write_caller_tokens",
    "write_key_files",
]
