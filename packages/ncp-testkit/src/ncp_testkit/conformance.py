"""schemathesis with all its checks, set up once for every internal API's conformance test.

Repeatable and bounded: a fixed seed, deterministic generation, and a fixed number of examples per operation, so a
failure seen once is seen again and the run stays short in CI.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import schemathesis
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.schemas import OpenApiSchema

from .server import serve_on_loopback
from .tokens import bearer

# Binary bodies (the signer's /v1/sign-pdf) go on the wire as the raw bytes schemathesis generates.
schemathesis.serializer.alias("application/pdf", "application/octet-stream")

SEED = 20261130
MAX_EXAMPLES = 150
# schemathesis' own default for schema-valid data (positive_data_acceptance).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]


def conformance_schema(
    document: dict[str, Any], *, also_refused: Mapping[str, Sequence[int]] | None = None,
    max_examples: int = MAX_EXAMPLES,
) -> OpenApiSchema:
    """The schema to `@parametrize()` a conformance test with; call each case with `case.call_and_validate(...)`.

    `also_refused` names, per path, the statuses with which the service refuses requests that are valid by their
    JSON Schema but not by rules no JSON Schema can express (a signature, a registered node, a well-formed XML
    document inside a string). Each must be documented by that operation.
    """
    operations = [
        {"include-path": path,
         "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, *map(str, statuses)]}}}
        for path, statuses in (also_refused or {}).items()
    ]
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "generation": {"mode": "all", "max-examples": max_examples, "deterministic": True},
        "checks": {"enabled": True},
        "operations": operations,
    })
    return schemathesis.openapi.from_dict(document, config=config)


def error_media_types(document: dict[str, Any]) -> dict[str, set[str]]:
    """`"METHOD /path status"` -> the media types its documented error answer has (readiness answers aside)."""
    found: dict[str, set[str]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status[0] in "45" and path != "/readyz":
                    # text/plain: the server's own answer to a request that is not valid HTTP.
                    found[f"{method.upper()} {path} {status}"] = set(response.get("content", {})) - {"text/plain"}
    return found


def secured_operations(document: dict[str, Any]) -> set[str]:
    """`"METHOD /path"` of each operation that requires the bearer scheme."""
    return {f"{method.upper()} {path}" for path, item in document["paths"].items()
            for method, operation in item.items() if {"bearerAuth": []} in operation.get("security", [])}


def document_issues(document: dict[str, Any], *, secured: set[str]) -> list[str]:
    """What an internal API's OpenAPI document gets wrong by the rules every service keeps: each documented error
    answer is problem+json only, exactly the `secured` operations ("METHOD /path") need the bearer credential,
    and FastAPI's default validation error is never named."""
    issues = [f"{where}: {sorted(types)}" for where, types in error_media_types(document).items()
              if types != {"application/problem+json"}]
    if (found := secured_operations(document)) != secured:
        issues.append(f"secured operations: {sorted(found)}, not {sorted(secured)}")
    if "HTTPValidationError" in str(document):
        issues.append("HTTPValidationError is named")
    return issues


@contextmanager
def conformance_service(app: Any, token: str) -> Iterator[tuple[str, dict[str, str]]]:
    """`app` served on loopback with its lifespan: (base URL, the caller's bearer headers), as `conformance_test`
    wants its `service` fixture."""
    with serve_on_loopback(app, lifespan="on") as url:
        yield url, bearer(token)


def conformance_test(
    document: dict[str, Any], *, also_refused: Mapping[str, Sequence[int]] | None = None,
    max_examples: int = MAX_EXAMPLES,
) -> Callable[..., None]:
    """The conformance test of one service: every operation of `document` (see `conformance_schema`) sent to the
    module's `service` fixture, a `conformance_service`, with all checks. Bind it to a `test_` name in the module."""
    schema = conformance_schema(document, also_refused=also_refused, max_examples=max_examples)

    def test_api_conforms(case: Case[Any], service: tuple[str, dict[str, str]]) -> None:
        url, auth = service
        case.call_and_validate(base_url=url, headers=auth)

    test: Callable[..., None] = schema.parametrize()(test_api_conforms)
    return test
