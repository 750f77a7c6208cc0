"""The production wiring of the signer's mutual TLS: the gateway's client (ncp_gateway.app.signer_tls) against a
real signer process, and the plain health listener the kubelet probes, which serves nothing else."""

import datetime as dt
import ipaddress
import sys
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import emrex_elmo
from ncp_contracts.signer import SignerClient
from ncp_gateway.app import _upstream, signer_tls
from ncp_gateway.settings import Settings as GatewaySettings
from ncp_testkit import dev_ca, free_port, signing_key, write_caller_tokens, write_key_files
from ncp_testkit.elmo import sample_xml
from ncp_testkit.stack import start_process


def _tls_pair(ca, directory: Path, name: str, usage) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca.key, hashes.SHA256()))
    crt, pem = directory / f"{name}.crt", directory / f"{name}.key"
    crt.write_bytes(cert.public_bytes(Encoding.PEM))
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return crt, pem


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mtls")
    ca = dev_ca("internal CA")
    document_key = signing_key()
    key_file, cert_file = write_key_files(tmp / "keys", "signing", document_key)
    server = _tls_pair(ca, tmp, "ncp-signer", ExtendedKeyUsageOID.SERVER_AUTH)
    client = _tls_pair(ca, tmp, "ncp-gateway", ExtendedKeyUsageOID.CLIENT_AUTH)
    (tmp / "ca.crt").write_bytes(ca.cert_pem())
    tokens = write_caller_tokens(tmp / "callers", "gateway")
    port, health = free_port(), free_port()
    env = {
        "NCP_SIGNER_PORT": str(port), "NCP_SIGNER_HEALTH_PORT": str(health), "NCP_SIGNER_SIGN_CONCURRENCY": "1",
        "NCP_SIGNER_KEY_FILE": str(key_file), "NCP_SIGNER_CERT_FILE": str(cert_file),
        "NCP_SIGNER_CALLER_TOKENS_PATH": str(tmp / "callers"), "NCP_SIGNER_TLS_CERT_FILE": str(server[0]),
        "NCP_SIGNER_TLS_KEY_FILE": str(server[1]), "NCP_SIGNER_TLS_CLIENT_CA_FILE": str(tmp / "ca.crt")}
    token_file = tmp / "gateway-signer-token"
    token_file.write_text(tokens["gateway"] + "\n")
    with start_process("signer", [sys.executable, "-m", "ncp_signer"], env, f"http://127.0.0.1:{health}/readyz",
                       tmp / "signer.log", timeout=60):
        yield {"port": port, "health": health, "ca": tmp / "ca.crt", "client": client, "token": token_file,
               "document_cert": document_key.certificate}


def _gateway_settings(signer, *, client: bool = True) -> GatewaySettings:
    return GatewaySettings(
        env="test", signer_url=f"https://localhost:{signer['port']}", signer_token_path=signer["token"],
        signer_ca_file=signer["ca"], signer_client_cert_file=signer["client"][0] if client else None,
        signer_client_key_file=signer["client"][1] if client else None)


async def test_the_gateway_signs_over_mutual_tls(signer):
    settings = _gateway_settings(signer)
    async with _upstream(settings.signer_url, settings.signer_token_path, 30, None, signer_tls(settings)) as http:
        signed = await SignerClient(http).sign(sample_xml(2))
    emrex_elmo.verify(signed, [signer["document_cert"]])


async def test_without_the_client_certificate_the_handshake_fails(signer):
    settings = _gateway_settings(signer, client=False)
    async with _upstream(settings.signer_url, settings.signer_token_path, 30, None, signer_tls(settings)) as http:
        with pytest.raises(httpx.TransportError):
            await http.get("/v1/certificates")


def test_the_health_listener_serves_health_and_metrics_only(signer):
    base = f"http://127.0.0.1:{signer['health']}"
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{base}/readyz").status_code == 200
    # Prometheus cannot present the gateway's client certificate: it scrapes the plain listener.
    metrics = httpx.get(f"{base}/metrics")
    assert metrics.status_code == 200
    assert "ncp_signer_certificate_expiry_days" in metrics.text
    token = {"Authorization": "Bearer " + signer["token"].read_text().strip()}
    assert httpx.get(f"{base}/v1/certificates", headers=token).status_code == 404
    signed = httpx.post(f"{base}/v1/sign", content=sample_xml(1), headers={**token, "Content-Type": "application/xml"})
    assert signed.status_code == 404
    assert httpx.get(f"{base}/openapi.json").status_code == 404


def test_the_signer_api_is_not_served_in_plain_http(signer):
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{signer['port']}/healthz", timeout=3)


def _mounted_files(pod, container) -> dict[str, str]:
    """File path in the container -> Secret name, for the Secret items mounted into it."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    files = {}
    for mount in container.get("volumeMounts", []):
        secret = volumes.get(mount["name"], {}).get("secret")
        if secret:
            for item in secret.get("items", []):
                files[f"{mount['mountPath']}/{item['path']}"] = secret["secretName"]
    return files


@pytest.mark.parametrize("name", ["production", "examples/production-hsm"])
def test_production_turns_on_the_signers_mutual_tls(rendered, kit, name):
    docs = rendered[name]

    def container(name):
        pod = kit.deployment(docs, name)["spec"]["template"]["spec"]
        return pod, pod["containers"][0]

    pod, signer = container("ncp-signer")
    env, files = kit.k8s_env(docs, signer), _mounted_files(pod, signer)
    for setting in ("TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CLIENT_CA_FILE"):
        assert files.get(env.get(f"NCP_SIGNER_{setting}")) == "ncp-signer-tls", setting
    health = int(env["NCP_SIGNER_HEALTH_PORT"])
    ports = {p["name"]: p["containerPort"] for p in signer["ports"]}
    assert ports["health"] == health != ports["http"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert signer[probe]["httpGet"]["port"] in ("health", health), probe

    pod, gateway = container("ncp-gateway")
    env, files = kit.k8s_env(docs, gateway), _mounted_files(pod, gateway)
    assert env["NCP_GATEWAY_SIGNER_URL"].startswith("https://ncp-signer:")
    for setting in ("SIGNER_CA_FILE", "SIGNER_CLIENT_CERT_FILE", "SIGNER_CLIENT_KEY_FILE"):
        assert files.get(env.get(f"NCP_GATEWAY_{setting}")) == "ncp-gateway-signer-client", setting
