"""GET /v1/emreg-entry: the EMREG `emps` item for this node, built from settings."""

import json
from pathlib import Path

import pytest
from cryptography import x509

from ncp_contracts.signer import SignerClient

EMREG_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "emreg"
EMREG_SCHEMAS = sorted(EMREG_DIR.glob("*schema*.json")) if EMREG_DIR.is_dir() else []


async def test_entry_has_emreg_field_names_and_full_pem(client, rsa_key):
    response = await client.get("/v1/emreg-entry")
    assert response.status_code == 200
    entry = response.json()
    assert set(entry) == {"url", "acronym", "countryCode", "institutions", "pubKey"}
    assert entry["url"] == "https://emp.example.fi/emrex"
    assert entry["countryCode"] == "FI"
    assert entry["institutions"] == ["Example University"]
    assert entry["pubKey"].startswith("-----BEGIN CERTIFICATE-----\n")
    assert entry["pubKey"].rstrip().endswith("-----END CERTIFICATE-----")
    # Only the signing certificate, not its chain, as clients parse exactly one certificate.
    assert entry["pubKey"].count("BEGIN CERTIFICATE") == 1
    assert x509.load_pem_x509_certificate(entry["pubKey"].encode()) == rsa_key.certificate


@pytest.mark.skipif(not EMREG_SCHEMAS, reason="shared/reference/emreg schema not found")
async def test_entry_has_every_field_the_emreg_json_schema_requires(client):
    entry = (await client.get("/v1/emreg-entry")).json()
    schema = json.loads(EMREG_SCHEMAS[0].read_text())
    emp = schema.get("definitions", schema.get("$defs", {}))
    # Required fields of an EMP entry, whatever the schema calls its definition.
    definition = next(d for d in emp.values() if "pubKey" in d.get("properties", {}))
    assert set(definition["required"]) <= set(entry)
    assert set(entry) <= set(definition["properties"])  # additionalProperties: false


async def test_contract_client_reads_entry(client):
    entry = await SignerClient(client).emreg_entry()
    assert entry.acronym == "EXAMPLE"
    assert entry.country_code == "FI"
    assert entry.model_dump(by_alias=True)["pubKey"] == entry.pub_key


async def test_not_configured_is_a_problem(settings, run_app):
    async with run_app(settings.model_copy(update={"emreg_url": None})) as client:
        response = await client.get("/v1/emreg-entry")
    assert response.status_code == 404
    assert response.json()["code"] == "emreg_not_configured"
    assert "NCP_SIGNER_EMREG_URL" in response.json()["detail"]


EMREX2 = {"emreg_authorization_url": "https://emp.example.fi/oauth2/authorize",
          "emreg_token_url": "https://emp.example.fi/oauth2/token",
          "emreg_resource_url": "https://emp.example.fi/results"}


async def test_entry_gains_emrex2_properties_and_jwks(settings, run_app, rsa_key):
    from joserfc import jws
    from joserfc.jwk import KeySet

    async with run_app(settings.model_copy(update=EMREX2)) as client:
        entry = (await client.get("/v1/emreg-entry")).json()
        signed = await SignerClient(client).sign_jws(b"<elmo/>")
        typed = await SignerClient(client).emreg_entry()
    assert entry["authorizationUrl"] == EMREX2["emreg_authorization_url"]
    assert entry["tokenUrl"] == EMREX2["emreg_token_url"]
    assert entry["resourceUrl"] == EMREX2["emreg_resource_url"]
    formats = {f["name"]: f for f in entry["supportedDataFormats"]}
    assert set(formats) == {"elmo", "userinfo", "pdf", "pdf_metadata"}
    assert formats["elmo"]["versions"] == ["1.7.0", "2.0.0"]
    assert formats["elmo"]["schemaUrl"].endswith("/v2.0.0/schema.xsd")
    # The JWS made by the signer verifies with the key published in the entry itself.
    jws.deserialize_compact(signed.signature, KeySet.import_key_set(entry["jwks"]), algorithms=["RS256"],
                            payload=b"<elmo/>")
    assert x509.load_pem_x509_certificate(entry["pubKey"].encode()) == rsa_key.certificate
    assert typed.jwks is not None
    assert typed.jwks.keys[0]["kid"] == signed.kid
    assert typed.token_url == EMREX2["emreg_token_url"]


async def test_data_formats_come_from_settings(settings, run_app, monkeypatch):
    from ncp_signer import Settings

    monkeypatch.setenv("NCP_SIGNER_EMREG_SUPPORTED_DATA_FORMATS",
                       '[{"name": "elmo", "versions": ["2.0.0"], "schemaUrl": "https://schemas.example/elmo.xsd"}]')
    from_env = Settings(key_file=settings.key_file, cert_file=settings.cert_file,
                        caller_tokens_path=settings.caller_tokens_path, emreg_url=settings.emreg_url,
                        emreg_acronym="X", emreg_country_code="FI", **EMREX2)
    async with run_app(from_env) as client:
        entry = (await client.get("/v1/emreg-entry")).json()
    assert entry["supportedDataFormats"] == [
        {"name": "elmo", "versions": ["2.0.0"], "schemaUrl": "https://schemas.example/elmo.xsd"}]


def test_emrex2_urls_go_together():
    from pydantic import ValidationError

    from ncp_signer import Settings

    with pytest.raises(ValidationError, match="go together"):
        Settings(emreg_authorization_url="https://emp.example.fi/oauth2/authorize")
