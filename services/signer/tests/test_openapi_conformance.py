"""schemathesis, all checks, against the signer on loopback: its OpenAPI document says what it does."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from emrex_cli.devpki import IssuedKey
from ncp_signer import Settings, create_app
from ncp_testkit import conformance_service, conformance_test, document_issues, write_caller_tokens, write_key_files


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, rsa_key: IssuedKey, ca: IssuedKey
            ) -> Iterator[tuple[str, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("signer-conformance")
    tokens = write_caller_tokens(tmp / "tokens", "gateway")
    key, cert = write_key_files(tmp / "keys", "signing", rsa_key, chain=[ca.certificate])
    settings = Settings(key_file=key, cert_file=cert, caller_tokens_path=tmp / "tokens", sign_concurrency=1,
                        emreg_url="https://emp.example.fi/emrex", emreg_acronym="EXAMPLE", emreg_country_code="FI",
                        emreg_institutions=["Example University"], log_level="WARNING")
    with conformance_service(create_app(settings), tokens["gateway"]) as service:
        yield service


# The document the app serves (generating it needs no lifespan); the requests go to the running service.
DOCUMENT = create_app(Settings(caller_tokens_path=Path("/nonexistent"))).openapi()
test_api_conforms = conformance_test(
    DOCUMENT,
    # A string that is a well-formed, schema-valid, unsigned ELMO document is beyond JSON Schema: the documented
    # 400 (not XML), 409 (already signed) and 422 (not ELMO 1.7.0).
    # Whether bytes are a PDF pyHanko can sign is beyond JSON Schema, as is a well-formed ELMO document.
    also_refused={"/v1/sign": [400, 422], "/v1/sign-pdf": [400]},
)


def test_document_names_the_body_the_errors_and_the_credential():
    sign = DOCUMENT["paths"]["/v1/sign"]["post"]
    assert sign["requestBody"]["required"] is True
    assert set(sign["requestBody"]["content"]) == {"application/xml", "text/xml"}
    assert {"400", "401", "403", "409", "413", "415", "422", "503"} <= set(sign["responses"])
    assert set(sign["responses"]["200"]["content"]) == {"application/xml"}
    assert DOCUMENT["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": DOCUMENT["components"]["securitySchemes"]["bearerAuth"][
            "description"]}
    assert document_issues(DOCUMENT, secured={"POST /v1/sign", "GET /v1/certificates", "GET /v1/emreg-entry",
                                              "POST /v1/sign-pdf", "POST /v1/jws", "GET /v1/jwks"}) == []
    pdf = DOCUMENT["paths"]["/v1/sign-pdf"]["post"]
    assert set(pdf["requestBody"]["content"]) == {"application/pdf"}
    assert {"400", "401", "403", "413", "415", "503"} <= set(pdf["responses"])
