"""schemathesis, all checks, against the registry-cache on loopback: its OpenAPI document says what it does."""

from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest

from ncp_registry_cache.app import create_app
from ncp_testkit import conformance_service, conformance_test, document_issues, write_caller_tokens


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, kit: SimpleNamespace, pki: object
) -> Iterator[tuple[str, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("registry-conformance")
    (tmp / "emreg.json").write_bytes(kit.dumps(kit.registry_doc(pki)))
    admin = write_caller_tokens(tmp / "tokens", "gateway", "admin")["admin"]
    settings = kit.make_settings(tmp, str(tmp / "emreg.json"), tmp / "tokens", env="dev")
    with conformance_service(create_app(settings), admin) as (url, auth):
        assert httpx.post(f"{url}/v1/refresh", headers=auth).status_code == 200
        yield url, auth


def _document() -> dict[str, object]:
    from ncp_registry_cache.settings import Settings

    settings = Settings(_env_file=None, source="/nonexistent/emreg.json", dev_mode=True,  # type: ignore[call-arg]
                        database_url="sqlite+aiosqlite:///nonexistent.db", caller_tokens_path=None)
    return create_app(settings).openapi()


# The document the app serves (generating it needs no lifespan); the requests go to the running service.
DOCUMENT = _document()
test_api_conforms = conformance_test(DOCUMENT, also_refused={
    # Whether a string is a well-formed signed ELMO document, or a URL is a registered node's, is beyond JSON
    # Schema: the documented 400 (bad XML or wire value, neither or both) and 422 (unknown node).
    "/v1/verify": [400, 422],
    # "Exactly one of url and acronym" is not in the parameters' schema: the documented 400.
    "/v1/certificates": [400],
})


def test_document_names_the_errors_and_the_credential():
    verify = DOCUMENT["paths"]["/v1/verify"]["post"]
    assert {"400", "413", "422", "503"} <= set(verify["responses"])
    assert {"401", "403", "409"} <= set(DOCUMENT["paths"]["/v1/refresh"]["post"]["responses"])
    assert document_issues(DOCUMENT, secured={"POST /v1/refresh"}) == []  # reads need no credential
