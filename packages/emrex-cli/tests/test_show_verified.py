"""`emrex show` reads text whole, and with --cert shows only what the signature covers (issue 11 §1, §2)."""

from pathlib import Path

import pytest

import emrex_elmo
from emrex_cli.devpki import IssuedKey
from emrex_cli.main import main


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, golden_signed: tuple[IssuedKey, bytes]) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("show")
    key, xml = golden_signed
    assert xml.count(b"<resultLabel>B</resultLabel>") == 1
    assert xml.count(b"<value>7.5</value>") == 1
    # Comments are not digested: this still verifies, and on main `emrex show` printed no grade and 7 ECTS.
    commented = (
        xml.replace(b"<resultLabel>B</resultLabel>", b"<resultLabel><!-- -->B</resultLabel>")
        .replace(b"<value>7.5</value>", b"<value>7<!---->.5</value>")
        .replace(b"<familyName>\xc3\x98berg", b"<familyName>\xc3\x98<!---->berg")
    )
    paths = {
        "cert": work / "signer.crt",
        "commented": work / "commented.xml",
        "commented-wire": work / "commented.b64",
        "tampered": work / "tampered.xml",
        "utf16": work / "utf16.xml",
    }
    paths["cert"].write_bytes(key.cert_pem())
    paths["commented"].write_bytes(commented)
    paths["commented-wire"].write_text(emrex_elmo.transport.encode(commented))
    paths["tampered"].write_bytes(xml.replace(b"<resultLabel>B</resultLabel>", b"<resultLabel>A</resultLabel>"))
    paths["utf16"].write_bytes(
        xml.decode().replace("encoding='UTF-8'", "encoding='UTF-16'").encode("utf-16")
    )
    return paths


@pytest.mark.parametrize("source", ["commented", "commented-wire"])
def test_show_with_cert_verifies_and_shows_the_signed_values_whole(
    files: dict[str, Path], source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", "--cert", str(files["cert"]), str(files[source])]) == 0
    out = capsys.readouterr().out
    assert "Signature: signature OK (rsa-sha256" in out
    assert "shown: the signed content only" in out
    assert "Learner:   Åsa Øberg" in out
    assert "Kvantemekanikk  [Course, 7.5 ECTS, grade B, passed" in out


def test_show_without_cert_reads_text_whole_and_says_it_did_not_verify(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(files["commented"])]) == 0
    out = capsys.readouterr().out
    assert "Signature: present, NOT verified (add --cert to verify it)" in out
    assert "Kvantemekanikk  [Course, 7.5 ECTS, grade B, passed" in out
    assert "Åsa Øberg" in out


def test_show_with_cert_refuses_a_changed_document(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "--cert", str(files["cert"]), str(files["tampered"])]) == 1
    captured = capsys.readouterr()
    assert "signature does not hold" in captured.err
    assert "Kvantemekanikk" not in captured.out


def test_show_and_verify_the_danish_sample_with_sha1_allowed(samples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert = samples / "dk-emrex__dk-emrex-test.cer"
    signed = samples / "dk-emrex__elmo-tomcat-signed.xml"
    assert main(["show", "--allow-sha1", "--cert", str(cert), str(signed)]) == 0
    assert "Jens Hansen" in capsys.readouterr().out
    assert main(["show", "--allow-sha1", str(signed)]) == 1
    assert "--allow-sha1 needs --cert" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["show"], ["validate"], ["verify", "--cert", "CERT"]])
def test_a_utf16_document_is_refused_with_the_reason(
    files: dict[str, Path], command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(files["cert"]) if a == "CERT" else a for a in command]
    assert main([*args, str(files["utf16"])]) == 1
    assert "must be UTF-8" in capsys.readouterr().err
