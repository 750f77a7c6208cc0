"""A student imports results with the demo client's EMREX 2.0 button, in a real browser, through the whole node
(authorize, the shared pages, code, token with private_key_jwt + PKCE, signed /results). What the demo client
received is then checked again independently: the ELMO with xmlsec1 against the certificate the registry lists
for the node, the X-Signature with joserfc against the JWKS of the node's registry entry."""

import base64
import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request

import pytest
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from emrex_elmo import from_xml, validate

pytestmark = pytest.mark.e2e


def _registry(stack, path: str, **params: str) -> dict:
    url = stack.url("registry", path) + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
        return json.loads(response.read())


def _start(page, stack) -> None:
    page.goto(stack.demo_url)
    page.get_by_role("button", name=re.compile("EMREX 2.0")).click()
    page.wait_for_url(re.compile(rf"^{re.escape(stack.url('oidc'))}/"))
    page.get_by_role("button", name="demo-learner-1", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(stack.url('gateway', '/select'))}"))


def test_emrex2_import_arrives_signed_twice_and_verifies_independently(student, tmp_path):
    page, stack = student.page, student.stack
    _start(page, stack)
    page.get_by_role("checkbox", name=re.compile("Introduction to Programming")).check()
    page.get_by_role("checkbox", name=re.compile("Swedish for Exchange Students")).check()
    page.get_by_role("button", name="Continue to preview").click()
    # The consent page names the registered client as the receiver.
    assert "Demo University admissions" in page.inner_text("main")
    page.get_by_role("checkbox", name=re.compile("I agree")).check()
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(stack.url('demo', '/emrex2/callback'))}\?"))
    assert page.locator("#protocol").inner_text() == "EMREX 2.0"
    assert page.locator("#problem").count() == 0
    assert page.locator("#jws").get_attribute("data-valid") == "true"
    assert page.locator("#signature").get_attribute("data-valid") == "true"
    body = page.inner_text("main")
    assert "Introduction to Programming" in body
    assert "Swedish for Exchange Students" in body
    assert "Advanced Course in Programming" not in body

    with page.expect_download() as download:
        page.locator("#received-elmo").click()
    with open(download.value.path(), "rb") as received:
        elmo = received.read()
    validate(elmo, "2.0.0")  # the demo client asks for data_format_version 2.0.0
    assert len(from_xml(elmo).reports) == 2

    node_url = stack.url("gateway", "/emrex")
    # XMLDSig with xmlsec1, against the certificate the registry lists for the node (not the one in the document).
    if shutil.which("xmlsec1") is None:
        pytest.fail("xmlsec1 is not installed (scripts/ensure-system-deps.sh installs it)")
    [node] = _registry(stack, "/v1/certificates", url=node_url)["nodes"]
    certificate = tmp_path / "node.crt"
    certificate.write_text(node["certificates"][0]["pem"])
    document = tmp_path / "received.xml"
    document.write_bytes(elmo)
    result = subprocess.run(
        ["xmlsec1", "--verify", "--pubkey-cert-pem", str(certificate), "--enabled-key-data", "rsa",
         "--enabled-reference-uris", "empty", str(document)], capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode()

    # The detached JWS with joserfc, against the JWKS in the node's registry entry.
    entry = _registry(stack, "/v1/emps/lookup", url=node_url)
    keys = KeySet.import_key_set(entry["jwks"])
    signature = page.locator("#x-signature").inner_text().strip()
    header, payload, _ = signature.split(".")
    assert payload == ""
    verified = jws.deserialize_compact(signature, keys, payload=elmo, algorithms=["RS256", "ES256"])
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
    assert verified.protected["kid"] == kid
    assert kid in {key["kid"] for key in entry["jwks"]["keys"]}
    with pytest.raises(JoseError):  # the signature covers exactly the received bytes
        jws.deserialize_compact(signature, keys, payload=elmo.replace(b"Swedish", b"Danish"),
                                algorithms=["RS256", "ES256"])


def test_emrex2_cancel_comes_back_as_access_denied(student):
    page, stack = student.page, student.stack
    _start(page, stack)
    page.get_by_role("button", name="Cancel").first.click()
    page.wait_for_url(re.compile(rf"^{re.escape(stack.url('demo', '/emrex2/callback'))}\?"))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query["error"] == ["access_denied"]
    assert "code" not in query
    assert page.locator("#return-code").inner_text() == "access_denied"
