"""schemathesis, all checks, against the sis-adapter on loopback: its OpenAPI document says what it does."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from ncp_demo_sis import DEMO_TENANTS
from ncp_sis_adapter.app import create_app
from ncp_sis_adapter.settings import Settings
from ncp_testkit import conformance_service, conformance_test, document_issues, write_caller_tokens


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("sis-conformance")
    tokens = write_caller_tokens(tmp / "tokens", "gateway", "demo-client")
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp / 'sis.db'}", caller_tokens_path=tmp / "tokens",
                        seed_demo=True, log_level="WARNING")
    with conformance_service(create_app(settings), tokens["gateway"]) as service:
        yield service


# The document the app serves (generating it needs no lifespan); the requests go to the running service.
DOCUMENT = create_app(Settings(caller_tokens_path=Path("/nonexistent"), tenants_path=DEMO_TENANTS)).openapi()
test_api_conforms = conformance_test(
    DOCUMENT,
    # "At least one identifier, none blank, no wildcards" is beyond JSON Schema: the documented 422.
    also_refused={"/v1/results/query": [422]},
)


def test_document_names_the_errors_and_the_credential():
    query = DOCUMENT["paths"]["/v1/results/query"]["post"]
    assert {"400", "401", "403", "404", "422", "503"} <= set(query["responses"])
    assert document_issues(DOCUMENT, secured={"POST /v1/results/query"}) == []
