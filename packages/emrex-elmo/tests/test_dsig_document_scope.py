"""URI="" covers the whole document: top-level processing instructions are signed content."""

import shutil
import subprocess
from pathlib import Path

import pytest

import emrex_elmo
from emrex_cli.devpki import write_dev_pki

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="transcript.xsl"?>
<!-- produced by a test -->
<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1"><generatedDate>2025-01-15T10:00:00+01:00</generatedDate>\
<learner><givenNames>Ana</givenNames><familyName>Test</familyName></learner><report><issuer>\
<identifier type="schac">x.edu</identifier><title xml:lang="en">X</title><url>https://x.edu/</url></issuer>\
<issueDate>2025-01-15T10:00:00+01:00</issueDate></report>
<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>\
<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>\
<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI=""><Transforms>\
<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms>\
<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo>\
<SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></elmo>
"""


@pytest.mark.interop
def test_xmlsec1_signature_over_document_with_processing_instruction_verifies(tmp_path: Path) -> None:
    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 is not installed (make test installs it as root)")
    pki = write_dev_pki(tmp_path / "keys", days=2)
    template = tmp_path / "template.xml"
    template.write_text(TEMPLATE, encoding="utf-8")
    signed = tmp_path / "signed.xml"
    subprocess.run(
        ["xmlsec1", "--sign", "--privkey-pem", f"{pki.signing_key},{pki.signing_cert}",
         "--output", str(signed), str(template)],
        check=True, capture_output=True,
    )
    certs = emrex_elmo.load_certificates(pki.signing_cert.read_bytes())
    data = signed.read_bytes()
    assert emrex_elmo.verify(data, certs[:1]).certificate == certs[0]
    # The processing instruction is signed content: changing it breaks the digest.
    tampered = data.replace(b"transcript.xsl", b"evil.xsl")
    with pytest.raises(emrex_elmo.SignatureError, match="digest"):
        emrex_elmo.verify(tampered, certs[:1])

