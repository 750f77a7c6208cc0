"""`ncp-signer` as a real uvicorn process on loopback, called through the contract client."""

import datetime as dt
import ipaddress
import ssl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import emrex_elmo
from ncp_contracts import BearerAuth
from ncp_contracts.signer import SignerClient
from ncp_testkit import free_port
from ncp_testkit.elmo import sample_xml
from ncp_testkit.stack import start_process


@contextmanager
def _running(tmp_path: Path, env: dict[str, str], scheme: str = "http",
             verify: ssl.SSLContext | bool = True) -> Iterator[str]:
    port = free_port()
    with start_process("signer", [sys.executable, "-m", "ncp_signer"], {**env, "NCP_SIGNER_PORT": str(port)},
                       f"{scheme}://127.0.0.1:{port}/readyz", tmp_path / "signer.log", timeout=30, verify=verify):
        yield f"{scheme}://127.0.0.1:{port}"


@pytest.fixture
def server(tmp_path, key_files, tokens):
    env = {"NCP_SIGNER_KEY_FILE": str(key_files[0]), "NCP_SIGNER_CERT_FILE": str(key_files[1]),
           "NCP_SIGNER_CALLER_TOKENS_PATH": str(tokens.path)}
    with _running(tmp_path, env) as base:
        yield base


def _tls_cert(ca, common_name: str, usage, *, ip: bool) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.certificate.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return cert.public_bytes(Encoding.PEM), key_pem


async def test_mutual_tls(tmp_path, ca, key_files, tokens, rsa_key):
    files = {}
    for name, usage, ip in (("server", ExtendedKeyUsageOID.SERVER_AUTH, True),
                            ("client", ExtendedKeyUsageOID.CLIENT_AUTH, False)):
        cert, key = _tls_cert(ca, f"signer-test-{name}", usage, ip=ip)
        files[name] = (tmp_path / f"{name}.crt", tmp_path / f"{name}.key")
        files[name][0].write_bytes(cert)
        files[name][1].write_bytes(key)
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(ca.cert_pem())
    env = {"NCP_SIGNER_KEY_FILE": str(key_files[0]), "NCP_SIGNER_CERT_FILE": str(key_files[1]),
           "NCP_SIGNER_CALLER_TOKENS_PATH": str(tokens.path), "NCP_SIGNER_TLS_CERT_FILE": str(files["server"][0]),
           "NCP_SIGNER_TLS_KEY_FILE": str(files["server"][1]), "NCP_SIGNER_TLS_CLIENT_CA_FILE": str(ca_file)}
    context = ssl.create_default_context(cafile=str(ca_file))
    context.load_cert_chain(str(files["client"][0]), str(files["client"][1]))

    with _running(tmp_path, env, "https", context) as base:
        async with httpx.AsyncClient(base_url=base, verify=context,
                                     auth=BearerAuth(tokens.gateway), timeout=30) as http:
            signed = await SignerClient(http).sign(sample_xml(2))
        emrex_elmo.verify(signed, [rsa_key.certificate])
        # Without a client certificate the TLS handshake is refused, before any HTTP.
        anonymous = ssl.create_default_context(cafile=str(ca_file))
        async with httpx.AsyncClient(base_url=base, verify=anonymous,
                                     auth=BearerAuth(tokens.gateway), timeout=30) as http:
            with pytest.raises((httpx.TransportError, ssl.SSLError)):
                await http.get("/v1/certificates")


def test_tls_settings_go_together(tmp_path):
    from pydantic import ValidationError

    from ncp_signer import Settings

    with pytest.raises(ValidationError, match="go together"):
        Settings(tls_cert_file=tmp_path / "a.crt")
    with pytest.raises(ValidationError, match="mTLS"):
        Settings(tls_client_ca_file=tmp_path / "ca.crt")


async def test_process_signs_through_the_contract_client(server, tokens, rsa_key):
    async with httpx.AsyncClient(base_url=server, auth=BearerAuth(tokens.gateway), timeout=30) as http:
        client = SignerClient(http)
        signed = await client.sign(sample_xml(5))
        certificates = (await client.certificates()).certificates
    emrex_elmo.verify(signed, [rsa_key.certificate])
    assert [c.key_id for c in certificates] == ["default"]


def test_dev_procfile_runs_the_signer_on_8001():
    from pathlib import Path

    procfile = (Path(__file__).resolve().parents[1] / "dev.procfile").read_text().strip().splitlines()
    assert len(procfile) == 1
    name, command = procfile[0].split(":", 1)
    assert name == "signer"
    assert "NCP_SIGNER_PORT=${NCP_SIGNER_PORT:-8001}" in command
    for needed in ("$NCP_DEV_DIR/keys/signing.key", "$NCP_DEV_DIR/keys/signing.crt", "$NCP_DEV_DIR/callers/signer",
                   "ncp-signer"):
        assert needed in command
    from ncp_signer import Settings

    assert Settings().port == 8001


def test_the_server_runs_on_the_loop_uvicorn_run_would_pick():
    # asyncio.run's stdlib loop costs more CPU per signature than uvloop (uvicorn's "auto" when installed).
    import asyncio

    import uvloop

    from ncp_signer.__main__ import event_loop_factory

    factory = event_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
        assert isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()
