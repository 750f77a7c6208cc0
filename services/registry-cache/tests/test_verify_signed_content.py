"""POST /v1/verify summarises only what the signature covers, and no input reaches the filesystem (issue 11 §1, §2).

/v1/verify needs no credential, so these are the attacks anyone on the network can make.
"""

import os
import threading
import time
from pathlib import Path

from lxml import etree

from emrex_elmo import transport
from ncp_testkit import sign_enveloped

CSC = "https://emp.csc.example.fi/ncp_entry"

ELMO = b"""<?xml version="1.0" encoding="UTF-8"?>
<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1"><generatedDate>2025-01-15T10:00:00+01:00</generatedDate>\
<learner><givenNames>Maria Anna</givenNames><familyName>Example-Smith</familyName><bday>2000-02-29</bday></learner>\
<report><issuer><country>FI</country><identifier type="schac">helsinki.fi</identifier>\
<title xml:lang="en">University of Helsinki</title><url>https://www.helsinki.fi/</url></issuer>\
<learningOpportunitySpecification><title xml:lang="en">Course</title><specifies><learningOpportunityInstance>\
<status>passed</status><resultLabel>1.7</resultLabel></learningOpportunityInstance></specifies>\
</learningOpportunitySpecification><issueDate>2025-01-15T10:00:00+01:00</issueDate></report></elmo>"""


def _sign(pki) -> bytes:
    return sign_enveloped(etree.fromstring(ELMO), pki.nodes["CSC"])


async def test_the_summary_is_read_from_the_signed_content_not_the_comments_around_it(service, pki):
    await service.refresh()
    signed = _sign(pki)
    commented = (
        signed.replace(b"<givenNames>Maria Anna", b"<givenNames>Maria<!-- --> Anna")
        .replace(b"<familyName>Example-Smith", b"<familyName>Example<!---->-Smith")
        .replace(b'<title xml:lang="en">University of Helsinki', b'<title xml:lang="en">University<!----> of Helsinki')
        .replace(b'<identifier type="schac">helsinki.fi', b'<identifier type="schac">hel<!---->sinki.fi')
    )
    assert commented.count(b"<!--") == 4
    for body in ({"xml": commented.decode()}, {"elmo": transport.encode(commented)}):
        r = await service.client.post("/v1/verify", json={"node_url": CSC, **body})
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["valid"] is True  # comments are not digested: the signature holds
        assert result["learner"] == {"given_names": "Maria Anna", "family_name": "Example-Smith",
                                     "bday": "2000-02-29"}
        assert result["issuers"][0]["title"] == "University of Helsinki"
        assert result["issuers"][0]["schac"] == "helsinki.fi"


async def test_a_signature_carrying_a_ds_object_is_not_valid(service, pki):
    await service.refresh()
    signed = _sign(pki)
    smuggled = signed.replace(
        b"</ds:Signature>", b"<ds:Object><learner>Someone Else</learner></ds:Object></ds:Signature>"
    )
    assert smuggled != signed
    r = await service.client.post("/v1/verify", json={"node_url": CSC, "xml": smuggled.decode()})
    assert r.status_code == 200
    assert r.json()["valid"] is False
    assert r.json()["reason_code"] == "signature_profile"
    assert r.json()["learner"] is None


async def test_a_lone_surrogate_in_the_xml_field_is_a_400_not_a_500(service):
    await service.refresh()
    r = await service.client.post(
        "/v1/verify", content=b'{"node_url": "%s", "xml": "<elmo>\\ud800</elmo>"}' % CSC.encode(),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "bad_xml"
    assert "surrogate" in r.json()["detail"]


async def test_utf16_input_naming_a_fifo_is_refused_promptly_without_opening_it(service, tmp_path: Path):
    await service.refresh()
    fifo = tmp_path / "x.dtd"
    os.mkfifo(fifo)
    opened = threading.Event()
    stop = threading.Event()

    def watch() -> None:
        # A writer opening a FIFO without blocking gets in only while some reader has it open.
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.001)
                continue
            opened.set()
            os.close(fd)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        for attack in (f'<!DOCTYPE elmo SYSTEM "{fifo}">', f'<!DOCTYPE elmo [<!ENTITY % p SYSTEM "{fifo}"> %p;]>'):
            doc = f'<?xml version="1.0" encoding="UTF-16"?>{attack}<elmo/>'.encode("utf-16")
            started = time.monotonic()
            r = await service.client.post("/v1/verify", json={"node_url": CSC, "elmo": transport.encode(doc)})
            assert r.status_code == 400, r.text
            assert r.json()["code"] == "bad_wire_value"
            assert "UTF-8" in r.json()["detail"]
            assert time.monotonic() - started < 2
    finally:
        stop.set()
        watcher.join(5)
    assert not opened.is_set()


def test_ewp_catalogue_values_are_read_whole(pki):
    import base64

    from cryptography.hazmat.primitives.serialization import Encoding

    from ncp_registry_cache.domain.emreg import parse_ewp_catalogue

    der = base64.encodebytes(pki.nodes["CSC"].certificate.public_bytes(Encoding.DER)).decode()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><catalogue><host><emrex-data-access-point>'
        "<url>https://emp.csc.example<!-- -->.fi/ncp_entry</url><name>C<!---->SC</name>"
        f"<country-code>FI</country-code><certificate>{der[:40]}<!---->{der[40:]}</certificate>"
        "</emrex-data-access-point></host></catalogue>"
    ).encode()
    (node,) = parse_ewp_catalogue(body).nodes
    assert node.url == "https://emp.csc.example.fi/ncp_entry"
    assert node.acronym == "CSC"
    assert node.certificates[0].cert == pki.nodes["CSC"].certificate


def test_an_ewp_catalogue_in_utf16_is_refused(pki):
    import pytest

    from ncp_registry_cache.domain.emreg import RegistryInvalid, parse_ewp_catalogue

    body = '<?xml version="1.0" encoding="UTF-16"?><catalogue/>'.encode("utf-16")
    with pytest.raises(RegistryInvalid, match="UTF-8"):
        parse_ewp_catalogue(body)
