"""The signer's log names each signed document by the SHA-256 of the bytes it answers, and by nothing personal.

The gateway's audit row stores `elmo_sha256` = SHA-256 of the same bytes (the signed XML the signer
answered, before the base64/gzip wire encoding), so a log line and an audit row match on that digest.
"""

import datetime as dt
import hashlib
import json
import logging

import emrex_elmo
from emrex_elmo import Identifier
from ncp_runtime.logging import JsonFormatter
from ncp_testkit import course, learner, make_elmo

PERSONAL = ("Ingrid-Marie", "Sæther-Kvam", "1999-04-17", "17041999", "NO-17041999-XYZ", "Fonologi og morfologi",
            "R-991", "B+")


def _document() -> bytes:
    student = learner("Ingrid-Marie", "Sæther-Kvam", bday=dt.date(1999, 4, 17))
    student.identifiers.append(Identifier(type="nationalIdentifier", value="NO-17041999-XYZ"))
    elmo = make_elmo([course("Fonologi og morfologi", code="R-991", grade="B+")], student=student)
    return emrex_elmo.to_xml(elmo, version="1.7.0")


def _lines(caplog) -> list[dict]:
    formatter = JsonFormatter("signer")
    return [json.loads(formatter.format(record)) for record in caplog.records]


async def test_each_signature_is_logged_with_the_digest_of_the_answered_bytes(client, caplog):
    unsigned = _document()
    assert all(p.encode() in unsigned for p in PERSONAL if not p.isdigit())
    with caplog.at_level(logging.DEBUG):
        response = await client.post("/v1/sign", content=unsigned, headers={"Content-Type": "application/xml"})
    assert response.status_code == 200, response.text
    digest = hashlib.sha256(response.content).hexdigest()
    signed_lines = [line for line in _lines(caplog) if line["msg"] == "signed"]
    assert len(signed_lines) == 1
    [line] = signed_lines
    assert line["sha256"] == digest == response.headers["x-content-sha256"]
    assert line["caller"] == "gateway"
    assert line["key_id"] == "default"


async def test_no_log_line_holds_personal_data(client, caplog):
    document = _document()
    broken = document.replace(b"<status>passed</status>", b"<status>Ingrid-Marie</status>")
    with caplog.at_level(logging.DEBUG):
        assert (await client.post("/v1/sign", content=document,
                                  headers={"Content-Type": "application/xml"})).status_code == 200
        assert (await client.post("/v1/sign", content=broken,
                                  headers={"Content-Type": "application/xml"})).status_code == 422
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in _lines(caplog))
    assert '"sha256"' in text
    for value in PERSONAL:
        assert value not in text, value
