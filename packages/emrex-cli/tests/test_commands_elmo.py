"""`emrex validate|decode|encode|verify|show`, run as a real process and in-process through main()."""

import base64
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

import emrex_elmo
from emrex_cli.devpki import IssuedKey
from emrex_cli.main import main
from ncp_testkit import golden_elmo

Run = Callable[..., subprocess.CompletedProcess[bytes]]

DK_SIGNED = "dk-emrex__elmo-tomcat-signed.xml"
DK_WIRE = "dk-emrex__elmo-tomcat-signed-zipped-base64.txt"
DK_CERT = "dk-emrex__dk-emrex-test.cer"
FI = "fi-ncp__my_elmo.xml"


transcript = golden_elmo


@pytest.fixture(scope="module")
def signed_files(tmp_path_factory: pytest.TempPathFactory, golden_signed: tuple[IssuedKey, bytes]) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("signed")
    key, xml = golden_signed
    files = {
        "signed": work / "signed.xml",
        "wire": work / "signed.b64",
        "cert": work / "signing.crt",
        "tampered": work / "tampered.xml",
        "unsigned": work / "unsigned.xml",
    }
    files["signed"].write_bytes(xml)
    files["wire"].write_text(emrex_elmo.transport.encode(xml) + "\n")
    files["cert"].write_bytes(key.cert_pem())
    files["tampered"].write_bytes(xml.replace(b"<resultLabel>F</resultLabel>", b"<resultLabel>A</resultLabel>"))
    files["unsigned"].write_bytes(emrex_elmo.to_xml(transcript()))
    return files


def no_traceback(done: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in done.stderr
    assert b"Traceback" not in done.stdout


def one_error_line(done: subprocess.CompletedProcess[bytes]) -> str:
    no_traceback(done)
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("emrex: ")
    return lines[0]


# --- the installed command ------------------------------------------------------------------------------------


def test_console_script_is_installed_and_lists_the_commands() -> None:
    script = Path(sys.executable).parent / "emrex"
    assert script.exists()
    done = subprocess.run([str(script), "--help"], capture_output=True, timeout=60, check=False)
    assert done.returncode == 0
    for command in ("validate", "decode", "encode", "verify", "show"):
        assert command.encode() in done.stdout


@pytest.mark.parametrize(
    "args",
    [[], ["validate"], ["validate", "--schema", "3.0", "x.xml"], ["verify", "x.xml"], ["nonsense"], ["show", "a", "b"]],
    ids=["nothing", "no-file", "bad-schema", "verify-no-cert", "unknown-command", "two-files"],
)
def test_usage_errors_exit_2(emrex: Run, args: list[str]) -> None:
    done = emrex(*args)
    assert done.returncode == 2
    no_traceback(done)
    assert b"usage: emrex" in done.stderr


# --- validate ---------------------------------------------------------------------------------------------------


def test_validate_accepts_a_valid_document(emrex: Run, samples: Path) -> None:
    done = emrex("validate", samples / FI)
    assert done.returncode == 0
    assert done.stdout.decode().strip().endswith("valid ELMO 1.7.0")
    assert done.stderr == b""


def test_validate_lists_every_finding_one_per_line(emrex: Run, samples: Path) -> None:
    done = emrex("validate", samples / DK_SIGNED)
    assert done.returncode == 1
    no_traceback(done)
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 8
    assert all(line.startswith(f"{samples / DK_SIGNED}: line 1: ") for line in lines[:-1])
    assert "Element 'issuer': Missing child element(s)" in lines[0]
    assert "{https://github.com" not in lines[0]  # the ELMO namespace is implied
    assert lines[-1] == f"emrex: {samples / DK_SIGNED}: not valid against ELMO 1.7.0 (7 issues)"


def test_validate_against_2_0_0(emrex: Run, samples: Path, tmp_path: Path) -> None:
    assert emrex("validate", "--schema", "2.0.0", samples / FI).returncode == 1
    doc = tmp_path / "v2.xml"
    doc.write_bytes(emrex_elmo.to_xml(transcript(), version="2.0.0"))
    done = emrex("validate", "--schema", "2.0.0", doc)
    assert done.returncode == 0, done.stderr
    assert b"valid ELMO 2.0.0" in done.stdout


def test_validate_reads_wire_values_and_stdin(emrex: Run, samples: Path, signed_files: dict[str, Path]) -> None:
    assert emrex("validate", signed_files["wire"]).returncode == 0
    done = emrex("validate", "-", stdin=signed_files["signed"].read_bytes())
    assert done.returncode == 0
    assert done.stdout.startswith(b"<stdin>: valid")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b'<!DOCTYPE elmo [<!ENTITY x SYSTEM "file:///etc/passwd">]><elmo>&x;</elmo>', "DOCTYPE"),
        (b"<elmo><unclosed></elmo>", "not well-formed"),
        (b"this is neither", "neither XML nor a wire value"),
        (b'<elmo xmlns="urn:other"/>', "not valid against ELMO 1.7.0"),
    ],
    ids=["empty", "xxe", "malformed", "garbage", "other-namespace"],
)
def test_validate_bad_input_gives_one_clear_line(emrex: Run, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "input.xml"
    path.write_bytes(content)
    done = emrex("validate", path)
    assert done.returncode == 1
    no_traceback(done)
    assert message in done.stderr.decode().splitlines()[-1]
    assert b"root:" not in done.stderr


def test_missing_file_is_bad_input_not_a_crash(emrex: Run, tmp_path: Path) -> None:
    line = one_error_line(emrex("show", tmp_path / "nope.xml"))
    assert "cannot read" in line
    assert "No such file" in line


# --- decode / encode --------------------------------------------------------------------------------------------


def test_decode_gives_exactly_the_signed_bytes(emrex: Run, samples: Path) -> None:
    done = emrex("decode", samples / DK_WIRE)
    assert done.returncode == 0
    assert done.stdout == (samples / DK_SIGNED).read_bytes()
    stdin = emrex("decode", "-", stdin=(samples / DK_WIRE).read_bytes())
    assert stdin.stdout == (samples / DK_SIGNED).read_bytes()


def test_encode_gives_one_padded_line_that_decodes_back(emrex: Run, samples: Path, tmp_path: Path) -> None:
    done = emrex("encode", samples / DK_SIGNED)
    assert done.returncode == 0
    value = done.stdout.decode("ascii")
    assert value.endswith("\n")
    assert value.count("\n") == 1
    assert len(value.strip()) % 4 == 0
    assert emrex_elmo.transport.decode(value) == (samples / DK_SIGNED).read_bytes()
    wire = tmp_path / "wire.txt"
    wire.write_bytes(done.stdout)
    assert emrex("decode", wire).stdout == (samples / DK_SIGNED).read_bytes()
    piped = emrex("encode", "-", stdin=(samples / DK_SIGNED).read_bytes())
    assert piped.stdout == done.stdout


def test_encode_refuses_what_is_not_xml(emrex: Run, tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"hello")
    assert "not well-formed" in one_error_line(emrex("encode", path))
    assert emrex("encode", path).stdout == b""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"", "empty"),
        (b"H4sIAAAAAAAA/", "base64"),
        (base64.b64encode(zlib.compress(b"<elmo/>")), "not gzip"),
        (base64.b64encode(b"<elmo/>"), "not gzip"),
    ],
    ids=["empty", "truncated-base64", "zlib", "plain"],
)
def test_decode_bad_wire_values(emrex: Run, tmp_path: Path, value: bytes, message: str) -> None:
    path = tmp_path / "wire.txt"
    path.write_bytes(value)
    done = emrex("decode", path)
    assert done.returncode == 1
    assert message in one_error_line(done)
    assert done.stdout == b""


def test_decode_refuses_a_gzip_bomb(emrex: Run, tmp_path: Path) -> None:
    deflater = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    packed = b"".join(deflater.compress(chunk) for _ in range(100)) + deflater.flush()
    path = tmp_path / "bomb.txt"
    path.write_bytes(base64.b64encode(packed))
    done = emrex("decode", path)
    assert done.returncode == 1
    assert "inflates beyond" in one_error_line(done)


# --- verify -----------------------------------------------------------------------------------------------------


def test_verify_the_danish_sample_needs_allow_sha1(emrex: Run, samples: Path) -> None:
    refused = emrex("verify", "--cert", samples / DK_CERT, samples / DK_SIGNED)
    assert refused.returncode == 1
    line = one_error_line(refused)
    assert "rsa-sha1 is not allowed" in line
    assert "--allow-sha1" in line
    done = emrex("verify", "--allow-sha1", "--cert", samples / DK_CERT, samples / DK_SIGNED)
    assert done.returncode == 0, done.stderr
    assert b"signature OK (rsa-sha1" in done.stdout
    assert b"CN=Niels Kildeskov" in done.stdout


def test_verify_accepts_the_wire_value(emrex: Run, samples: Path) -> None:
    done = emrex("verify", "--allow-sha1", "--cert", samples / DK_CERT, samples / DK_WIRE)
    assert done.returncode == 0, done.stderr


def test_verify_a_sha256_signature_made_at_test_time(emrex: Run, signed_files: dict[str, Path]) -> None:
    for name in ("signed", "wire"):
        done = emrex("verify", "--cert", signed_files["cert"], signed_files[name])
        assert done.returncode == 0, done.stderr
        assert b"signature OK (rsa-sha256, digest sha256; signed by " in done.stdout
        assert b"CN=cli-test.example" in done.stdout


def test_verify_refuses_a_tampered_document(emrex: Run, signed_files: dict[str, Path]) -> None:
    done = emrex("verify", "--cert", signed_files["cert"], signed_files["tampered"])
    assert done.returncode == 1
    assert "digest mismatch" in one_error_line(done)


def test_verify_refuses_the_wrong_certificate(emrex: Run, samples: Path, signed_files: dict[str, Path]) -> None:
    done = emrex("verify", "--allow-sha1", "--cert", signed_files["cert"], samples / DK_SIGNED)
    assert done.returncode == 1
    assert "does not match any trusted certificate" in one_error_line(done)
    # Either of two certificates may hold.
    both = emrex("verify", "--allow-sha1", "--cert", signed_files["cert"], "--cert", samples / DK_CERT,
                 samples / DK_SIGNED)
    assert both.returncode == 0


def test_verify_reports_an_unsigned_document(emrex: Run, signed_files: dict[str, Path]) -> None:
    done = emrex("verify", "--cert", signed_files["cert"], signed_files["unsigned"])
    assert done.returncode == 1
    assert "no ds:Signature" in one_error_line(done)


def test_verify_with_an_unreadable_certificate(emrex: Run, samples: Path, tmp_path: Path) -> None:
    assert "cannot read" in one_error_line(emrex("verify", "--cert", tmp_path / "none.pem", samples / DK_SIGNED))
    not_a_cert = emrex("verify", "--cert", samples / FI, samples / DK_SIGNED)
    assert "not a PEM or DER certificate" in one_error_line(not_a_cert)


# --- show -------------------------------------------------------------------------------------------------------


def test_show_summarizes_learner_issuers_tree_and_totals(emrex: Run, signed_files: dict[str, Path]) -> None:
    done = emrex("show", signed_files["unsigned"])
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "Learner:   Åsa Øberg, born 2000-02-29, citizen of NO" in out
    assert "Signature: none" in out
    assert "Report 1: Universitetet i Oslo / University of Oslo, NO (schac uio.no)" in out
    assert "Report 2: NTNU (schac ntnu.no)" in out
    assert "├─ Kvantemekanikk  [Course, 7.5 ECTS, grade B, passed, 2024-06-14]" in out
    assert "├─ Termodynamikk  [Course, 10 ECTS, grade F, failed, 2024-06-14]" in out
    assert "└─ Bachelor i fysikk  [Degree Programme, in-progress, 2024-06-14]" in out
    assert "└─ 数学 I  [Course, 15 ECTS, grade C, passed, 2024-06-14]" in out
    # Failed results do not count; the in-progress degree carries none of its own.
    assert "Total: 10 ECTS passed, 4 learning opportunities" in out
    assert "Total: 15 ECTS passed, 1 learning opportunities" in out
    assert "All reports: 25 ECTS passed" in out


def test_show_reads_the_wire_value_the_same_way(emrex: Run, samples: Path) -> None:
    xml = emrex("show", samples / DK_SIGNED)
    wire = emrex("show", samples / DK_WIRE)
    assert xml.returncode == wire.returncode == 0
    assert xml.stdout == wire.stdout
    out = xml.stdout.decode()
    assert "Jens Hansen" in out
    assert "Kaffens Historie" in out
    assert "Signature: present" in out
    assert "Total: 45 ECTS passed, 5 learning opportunities" in out
    assert "Attachment: EMREX transcript" in out


def test_show_counts_a_credited_degree_once(emrex: Run, reference: Path) -> None:
    # The official example gives ECTS on the degree (120) and on its course (15): count the degree only.
    done = emrex("show", reference / "elmo-schemas" / "v1.7.0" / "example.xml")
    assert done.returncode == 0
    assert "Total: 126 ECTS passed" in done.stdout.decode()


def test_show_handles_every_reference_sample(emrex: Run, samples: Path) -> None:
    for path in sorted(samples.glob("*.xml")):
        done = emrex("show", path)
        assert done.returncode == 0, (path.name, done.stderr)
        assert done.stdout.decode().startswith("Learner:"), path.name


def test_show_survives_a_terminal_that_cannot_print_the_names(emrex: Run, signed_files: dict[str, Path]) -> None:
    done = emrex("show", signed_files["unsigned"], env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0, done.stderr
    assert b"\\xc5sa" in done.stdout  # Åsa, escaped instead of a UnicodeEncodeError


def test_show_refuses_a_document_that_is_not_elmo(emrex: Run, tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_bytes(b'<elmo xmlns="urn:other"/>')
    assert "expected <elmo> in https://github.com/emrex-eu/elmo-schemas/tree/v1" in one_error_line(emrex("show", path))


# --- in-process, through main() ---------------------------------------------------------------------------------


def test_main_validate_in_process(samples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(samples / FI)]) == 0
    assert "valid ELMO 1.7.0" in capsys.readouterr().out
    assert main(["validate", str(samples / "dk-emrex__Example-elmo-Denmark.xml")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("emrex: ")
    assert "not valid against ELMO 1.7.0" in err[-1]


def test_main_show_and_verify_in_process(signed_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(signed_files["wire"])]) == 0
    assert "Kvantemekanikk" in capsys.readouterr().out
    assert main(["verify", "--cert", str(signed_files["cert"]), str(signed_files["signed"])]) == 0
    assert "signature OK" in capsys.readouterr().out
    assert main(["verify", "--cert", str(signed_files["cert"]), str(signed_files["tampered"])]) == 1
    assert capsys.readouterr().err.startswith("emrex: ")


def test_main_decode_writes_bytes_in_process(samples: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["decode", str(samples / DK_WIRE)]) == 0
    assert capsysbinary.readouterr().out == (samples / DK_SIGNED).read_bytes()


def test_main_encode_in_process(samples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["encode", str(samples / DK_SIGNED)]) == 0
    value = capsys.readouterr().out
    assert emrex_elmo.transport.decode(value) == (samples / DK_SIGNED).read_bytes()


def test_main_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["validate", "--schema", "9"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_show_and_verify_the_finnish_2015_wire_response(emrex: Run, reference: Path) -> None:
    smp = reference / "samples-smp"
    wire = smp / "fi-smp__elmo_vastaus_base64_gzipped.txt"
    shown = emrex("show", wire)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout.decode()
    assert "Learner:   Kaisa Keränen, born 1966-07-18" in out
    assert "Report 1: Tampereen Yliopisto / University of Tampere" in out
    verified = emrex("verify", "--allow-sha1", "--cert", smp / "fi-smp__csc-cert.crt", wire)
    assert verified.returncode == 0, verified.stderr
    assert b"signature OK (rsa-sha1" in verified.stdout
