"""EMREG entries with the EMREX 2.0 members: accepted (the bundled schema alone would reject the whole
registry), checked, and mirrored; the signer's own entry is one the registry-cache accepts."""

import copy
import json

import pytest

from ncp_contracts.registry import RegistryClient
from ncp_signer import Settings as SignerSettings, create_app as signer_app
from ncp_testkit import asgi_client, bearer, write_caller_tokens, write_key_files

EMREX2 = {"authorizationUrl": "https://emp.csc.example.fi/oauth2/authorize",
          "tokenUrl": "https://emp.csc.example.fi/oauth2/token",
          "resourceUrl": "https://emp.csc.example.fi/results",
          "supportedDataFormats": [{"name": "elmo", "versions": ["2.0.0"],
                                    "schemaUrl": "https://schemas.example/elmo.xsd"}, {"name": "pdf"}]}


@pytest.fixture
async def signer_entry(tmp_path, pki):
    """The EMREG entry the real signer publishes for the CSC node's key, EMREX 2.0 members included."""
    tokens = write_caller_tokens(tmp_path / "signer-tokens", "gateway")
    key, cert = write_key_files(tmp_path / "signer", "csc", pki.nodes["CSC"])
    settings = SignerSettings(
        key_file=key, cert_file=cert, caller_tokens_path=tmp_path / "signer-tokens", log_level="WARNING",
        emreg_url="https://emp.csc.example.fi/ncp_entry", emreg_acronym="CSC", emreg_country_code="FI",
        emreg_institutions=["Aalto-yliopisto"], emreg_authorization_url=EMREX2["authorizationUrl"],
        emreg_token_url=EMREX2["tokenUrl"], emreg_resource_url=EMREX2["resourceUrl"])
    async with asgi_client(signer_app(settings), "http://signer", headers=bearer(tokens["gateway"])) as http:
        return (await http.get("/v1/emreg-entry")).json()


def _doc(pki, kit, entry):
    doc = kit.registry_doc(pki)
    doc["emps"][0] = entry
    return doc


async def test_signer_entry_is_accepted_and_mirrored(service, upstream, pki, kit, signer_entry):
    upstream.set(_doc(pki, kit, signer_entry))
    result = (await service.refresh()).json()
    assert result["outcomes"][0]["outcome"] == "accepted", result
    entry = await RegistryClient(service.client).lookup("https://emp.csc.example.fi/ncp_entry")
    assert entry is not None
    assert entry.authorization_url == EMREX2["authorizationUrl"]
    assert entry.token_url == EMREX2["tokenUrl"]
    assert entry.resource_url == EMREX2["resourceUrl"]
    assert entry.jwks == signer_entry["jwks"]
    assert {f["name"] for f in entry.supported_data_formats or []} == {"elmo", "userinfo", "pdf", "pdf_metadata"}
    # EMREX 1 entries stay as they were.
    other = await RegistryClient(service.client).lookup("https://fsweb.example.no/ncp/")
    assert other is not None
    assert other.jwks is None
    assert other.token_url is None


def _with(signer_entry, change):
    entry = copy.deepcopy(signer_entry)
    change(entry)
    return entry


BAD = {
    "only_token_url": (lambda e: [e.pop("authorizationUrl"), e.pop("resourceUrl")], "need authorizationUrl"),
    "relative_url": (lambda e: e.update(tokenUrl="/oauth2/token"), "tokenUrl"),
    "private_key": (lambda e: e["jwks"]["keys"][0].update(d="AAAA"), "private key material"),
    "key_without_kid": (lambda e: e["jwks"]["keys"][0].pop("kid"), "'kid' is a required property"),
    "format_without_name": (lambda e: e["supportedDataFormats"].append({"versions": []}), "'name' is a required"),
    "unknown_member": (lambda e: e.update(somethingElse=1), "Additional properties"),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_bad_emrex2_members_reject_the_version(service, upstream, pki, kit, signer_entry, case):
    change, reason = BAD[case]
    assert (await service.refresh()).json()["outcomes"][0]["outcome"] == "accepted"
    upstream.set(_doc(pki, kit, _with(signer_entry, change)))
    result = (await service.refresh()).json()
    assert result["outcomes"][0]["outcome"] == "rejected"
    assert reason in result["outcomes"][0]["detail"]
    assert len((await service.client.get("/v1/emps")).json()["emps"]) == 4  # the last good copy
    assert json.dumps(result).count("AAAA") == 0
