"""schemathesis, all checks, against the sis-adapter on loopback: its OpenAPI document says what it does."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from ncp_demo_sis import DEMO_TENANTS
from ncp_sis_adapter.app import create_app
from ncp_sis_adapter.settings import Settings
from ncp_testkit import (
    bearer,
    conformance_schema,
    error_media_types,
    secured_operations,
    serve_on_loopback,
    write_caller_tokens,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("sis-conformance")
    tokens = write_caller_tokens(tmp / "tokens", "gateway", "demo-client")
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp / 'sis.db'}", caller_tokens_path=tmp / "tokens",
                        seed_demo=True, log_level="WARNING")
    with serve_on_loopback(create_app(settings), lifespan="on") as url:
        yield url, bearer(tokens["gateway"])


# The document the app serves (generating it needs no lifespan); the requests go to the running service.
DOCUMENT = create_app(Settings(caller_tokens_path=Path("/nonexistent"), tenants_path=DEMO_TENANTS)).openapi()
schema = conformance_schema(
    DOCUMENT,
    # "At least one identifier, none blank, no wildcards" is beyond JSON Schema: the documented 422.
    also_refused={"/v1/results/query": [422]},
)


@schema.parametrize()
def test_api_conforms(case, service):
    url, auth = service
    case.call_and_validate(base_url=url, headers=auth)


def test_document_names_the_errors_and_the_credential():
    query = DOCUMENT["paths"]["/v1/results/query"]["post"]
    assert {"400", "401", "403", "404", "422", "503"} <= set(query["responses"])
    assert all(types == {"application/problem+json"} for types in error_media_types(DOCUMENT).values())
    assert secured_operations(DOCUMENT) == {"POST /v1/results/query"}
    assert "HTTPValidationError" not in str(DOCUMENT)
