"""Fixtures: keys made at test time (dev CA, PEM files, a SoftHSM2 token), settings -> app -> client,
and `verify_all`, which checks a signature with emrex_elmo, signxml and the xmlsec1 command line."""

import os
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, load_der_public_key
from fastapi import FastAPI
from lxml import etree
from signxml import SignatureConfiguration, SignatureMethod, XMLVerifier

import emrex_elmo
from emrex_cli.devpki import IssuedKey, issue_signing_cert
from ncp_signer import KeyConfig, Settings, create_app
from ncp_testkit import asgi_client, dev_ca, samples_dir, signing_key, write_caller_tokens, write_key_files

SAMPLES = samples_dir()
SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN = "246810"


@pytest.fixture(scope="session")
def ca() -> IssuedKey:
    return dev_ca()


@pytest.fixture(scope="session")
def rsa_key(ca: IssuedKey) -> IssuedKey:
    return signing_key(ca, "signer-test")


@dataclass
class Tokens:
    path: Path
    gateway: str
    admin: str

    def auth(self, caller: str = "gateway") -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, caller)}"}


@pytest.fixture
def tokens(tmp_path: Path) -> Tokens:
    directory = tmp_path / "tokens"
    return Tokens(directory, **write_caller_tokens(directory, "gateway", "admin"))


@pytest.fixture
def key_files(tmp_path: Path, rsa_key: IssuedKey, ca: IssuedKey) -> tuple[Path, Path]:
    return write_key_files(tmp_path / "keys", "signing", rsa_key, chain=[ca.certificate])


@pytest.fixture
def write_key() -> Callable[..., tuple[Path, Path]]:
    """write_key(directory, name, issued, passphrase=None, chain=()) -> (key path, cert path)"""
    return write_key_files


@pytest.fixture
def settings(key_files: tuple[Path, Path], tokens: Tokens) -> Settings:
    return Settings(key_file=key_files[0], cert_file=key_files[1], caller_tokens_path=tokens.path,
                    emreg_url="https://emp.example.fi/emrex", emreg_acronym="EXAMPLE",
                    emreg_country_code="FI", emreg_institutions=["Example University"])


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI, tokens: Tokens) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app, "http://signer", headers=tokens.auth(), timeout=30) as http:
        yield http


@pytest.fixture
def run_app(tokens: Tokens) -> Callable[[Settings], Any]:
    """`async with run_app(settings) as client:` a fresh app with its lifespan."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def run(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
        async with asgi_client(create_app(settings), "http://signer", headers=tokens.auth(), timeout=30) as http:
            yield http

    return run


# --- the three verifiers ---------------------------------------------------------------------

def _xmlsec_key_data(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec

    return "ecdsa" if isinstance(cert.public_key(), ec.EllipticCurvePublicKey) else "rsa"


@pytest.fixture
def verify_all(tmp_path: Path) -> Callable[[bytes, x509.Certificate], None]:
    """Verify `signed` against `cert` (pinned, never KeyInfo) with three independent verifiers."""

    def check(signed: bytes, cert: x509.Certificate) -> None:
        # 1. our own verifier
        result = emrex_elmo.verify(signed, [cert])
        assert result.digest_method == emrex_elmo.dsig.SHA256
        # 2. signxml, pinned to the certificate, expecting exactly one enveloped reference
        method = (SignatureMethod.ECDSA_SHA256 if _xmlsec_key_data(cert) == "ecdsa"
                  else SignatureMethod.RSA_SHA256)
        verified = XMLVerifier().verify(
            signed, x509_cert=cert.public_bytes(Encoding.PEM).decode(),
            expect_config=SignatureConfiguration(signature_methods=frozenset({method}),
                                                 expect_references=1),
        )
        c14n = verified.signature_xml.find(".//{http://www.w3.org/2000/09/xmldsig#}CanonicalizationMethod")
        assert c14n.get("Algorithm") == emrex_elmo.dsig.C14N_1_0
        # 3. the xmlsec1 command line, pinned to the certificate
        if shutil.which("xmlsec1") is None:
            pytest.fail("xmlsec1 is not installed (make test installs it: scripts/ensure-system-deps.sh)")
        cert_file = tmp_path / f"verify-{secrets.token_hex(4)}.crt"
        cert_file.write_bytes(cert.public_bytes(Encoding.PEM))
        doc_file = cert_file.with_suffix(".xml")
        doc_file.write_bytes(signed)
        run = subprocess.run(
            ["xmlsec1", "--verify", "--pubkey-cert-pem", str(cert_file),
             "--enabled-key-data", _xmlsec_key_data(cert), "--enabled-reference-uris", "empty", str(doc_file)],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert run.returncode == 0, run.stderr

    return check


@pytest.fixture
def signature_of() -> Callable[[bytes], etree._Element]:
    """The ds:Signature of signed bytes, asserting it is the last child of <elmo>."""

    def find(signed: bytes) -> etree._Element:
        root = emrex_elmo.parse_xml(signed)
        last = [c for c in root if isinstance(c.tag, str)][-1]
        assert last.tag == "{http://www.w3.org/2000/09/xmldsig#}Signature"
        return last

    return find


# --- SoftHSM2 ----------------------------------------------------------------------------------

@dataclass
class Hsm:
    conf: Path
    token_label: str
    pin_file: Path
    certs: dict[str, Path]  # key label -> certificate PEM file

    def key_config(self, key_id: str, label: str, **extra: Any) -> KeyConfig:
        return KeyConfig(id=key_id, backend="pkcs11", cert_path=self.certs[label], token_label=self.token_label,
                         key_label=label, pin_file=self.pin_file, pkcs11_module=SOFTHSM_MODULE, **extra)


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory, ca: IssuedKey) -> Iterator[Hsm]:
    """One SoftHSM2 token for the whole run (a PKCS#11 library is initialized once per process),
    with non-extractable keys: RSA `rsa1`, `rsa2` and EC P-256 `ec1`, each with a certificate from the dev CA."""
    if shutil.which("softhsm2-util") is None or not SOFTHSM_MODULE.exists():
        pytest.skip("SoftHSM2 is not installed (Debian package softhsm2; make test installs it)")
    import pkcs11
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
    from pkcs11.util.rsa import encode_rsa_public_key

    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    label = "ncp-test"
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN,
                    "--so-pin", "13579246"], check=True, capture_output=True, timeout=60)
    pin_file = base / "pin"
    pin_file.write_text(PIN + "\n")
    lib = pkcs11.lib(str(SOFTHSM_MODULE))
    token = lib.get_token(token_label=label)
    private = {Attribute.EXTRACTABLE: False, Attribute.SENSITIVE: True, Attribute.SIGN: True}
    certs: dict[str, Path] = {}
    with token.open(user_pin=PIN, rw=True) as session:
        for name in ("rsa1", "rsa2"):
            pub, _ = session.generate_keypair(KeyType.RSA, 2048, label=name, store=True,
                                              private_template=private)
            public_key = load_der_public_key(encode_rsa_public_key(pub))
            certs[name] = base / f"{name}.crt"
            certs[name].write_bytes(issue_signing_cert(ca, f"hsm-{name}", public_key=public_key)  # type: ignore[arg-type]
                                    .public_bytes(Encoding.PEM))
        params = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
        pub, _ = params.generate_keypair(store=True, label="ec1", private_template=private)
        public_key = load_der_public_key(encode_ec_public_key(pub))
        certs["ec1"] = base / "ec1.crt"
        certs["ec1"].write_bytes(issue_signing_cert(ca, "hsm-ec1", key_type="ec", public_key=public_key)  # type: ignore[arg-type]
                                 .public_bytes(Encoding.PEM))
    yield Hsm(conf, label, pin_file, certs)
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture(scope="session")
def fi_sample() -> bytes:
    """A real unsigned ELMO 1.7.0 document from the FI EMP (fictitious learner)."""
    path = SAMPLES / "fi-ncp__my_elmo.xml"
    if not path.exists():
        pytest.skip(f"reference sample not found at {path} (set NCP_SHARED_DIR)")
    return path.read_bytes()


JAVA_VERIFIER = r"""
import java.io.File;
import java.io.FileInputStream;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

/** What the EMREX Java clients do: the first ds:Signature, the EMREG certificate's key, JSR-105. */
public class VerifyElmo {
    public static void main(String[] args) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = factory.newDocumentBuilder().parse(new File(args[0]));
        X509Certificate cert;
        try (FileInputStream in = new FileInputStream(args[1])) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        NodeList found = doc.getElementsByTagNameNS(XMLSignature.XMLNS, "Signature");
        if (found.getLength() == 0) { System.out.println("NO_SIGNATURE"); System.exit(2); }
        DOMValidateContext context = new DOMValidateContext(cert.getPublicKey(), found.item(0));
        context.setProperty("org.jcp.xml.dsig.secureValidation", Boolean.TRUE);
        XMLSignature signature = XMLSignatureFactory.getInstance("DOM").unmarshalXMLSignature(context);
        boolean valid = signature.validate(context);
        System.out.println(valid ? "VALID" : "INVALID");
        System.exit(valid ? 0 : 1);
    }
}
"""


@pytest.fixture(scope="session")
def java_verifier(tmp_path_factory: pytest.TempPathFactory) -> Callable[[bytes, x509.Certificate], str]:
    """The JDK's javax.xml.crypto with secure validation, as EMREX's Java clients verify; returns its verdict."""
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("no JDK (javac/java) on this machine")
    directory = tmp_path_factory.mktemp("java-verifier")
    (directory / "VerifyElmo.java").write_text(JAVA_VERIFIER)
    subprocess.run(["javac", "-d", str(directory), str(directory / "VerifyElmo.java")], check=True,
                   capture_output=True, timeout=120)

    def run(signed: bytes, cert: x509.Certificate) -> str:
        name = secrets.token_hex(4)
        (directory / f"{name}.xml").write_bytes(signed)
        (directory / f"{name}.crt").write_bytes(cert.public_bytes(Encoding.PEM))
        result = subprocess.run(["java", "-cp", str(directory), "VerifyElmo", str(directory / f"{name}.xml"),
                                 str(directory / f"{name}.crt")], capture_output=True, text=True, timeout=120,
                                check=False)
        return (result.stdout.strip().splitlines() or [result.stderr.strip()[-300:]])[-1]

    return run
