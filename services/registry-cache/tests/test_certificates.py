"""/v1/verify and the node's certificates: in force at verification time, and CA certificates do not sign."""

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from emrex_cli.devpki import IssuedKey, issue_signing_cert, make_signing_key
from ncp_registry_cache.domain.certificates import is_ca
from ncp_testkit import golden_elmo, sign_enveloped

NODE = "https://emp.rotating.example/ncp/"
NOW = dt.datetime.now(dt.UTC)


def pem(*certs: x509.Certificate | IssuedKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return "".join((c.certificate if isinstance(c, IssuedKey) else c).public_bytes(Encoding.PEM).decode()
                   for c in certs)


async def register(service, upstream, pki, kit, pub_key: str) -> None:
    upstream.set(kit.registry_doc(pki, extra=[kit.emp("ROT", NODE, "FI", pub_key)]))
    assert (await service.refresh()).json()["outcomes"][0]["outcome"] == "accepted"


async def verify(service, key: IssuedKey) -> dict:
    signed = sign_enveloped(golden_elmo(), key)
    r = await service.client.post("/v1/verify", json={"node_url": NODE, "xml": signed.decode()})
    assert r.status_code == 200, r.text
    return r.json()


def key_cert_sign_only(ca: IssuedKey, subject_key: IssuedKey) -> x509.Certificate:
    """No basicConstraints, but keyCertSign: a CA certificate all the same."""
    return (x509.CertificateBuilder().subject_name(subject_key.certificate.subject)
            .issuer_name(ca.certificate.subject).public_key(subject_key.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(ca.key, hashes.SHA256()))


@pytest.mark.parametrize(("not_before", "days", "code"), [
    (NOW - dt.timedelta(days=400), 30, "certificate_expired"),
    (NOW + dt.timedelta(days=10), 365, "certificate_not_yet_valid"),
])
async def test_a_certificate_out_of_its_validity_period_does_not_verify(service, upstream, pki, kit,
                                                                       not_before, days, code):
    key = make_signing_key(pki.ca, "rot.example", bits=2048, not_before=not_before, days=days)
    await register(service, upstream, pki, kit, pem(key))
    result = await verify(service, key)
    assert result["valid"] is False, result
    assert result["reason_code"] == code
    assert ("expired" if code == "certificate_expired" else "not valid before") in result["reason"]
    assert result["learner"] is None
    assert result["issuers"] == []


async def test_a_renewed_certificate_for_the_same_key_verifies(service, upstream, pki, kit):
    key = make_signing_key(pki.ca, "rot.example", bits=2048, not_before=NOW - dt.timedelta(days=400), days=30)
    renewed = issue_signing_cert(pki.ca, "rot.example", public_key=key.key.public_key())
    await register(service, upstream, pki, kit, pem(key, renewed))
    result = await verify(service, key)
    assert result["valid"] is True, result
    certs = (await service.client.get("/v1/certificates", params={"url": NODE})).json()["nodes"][0]["certificates"]
    assert result["matched_certificate_sha256"] == next(c["sha256"] for c in certs if c["valid_now"])


async def test_a_ca_certificate_in_the_bundle_is_not_a_signing_key(service, upstream, pki, kit):
    signer = pki.nodes["OTHER"]
    await register(service, upstream, pki, kit, pem(signer, pki.ca))
    assert (await verify(service, signer))["valid"] is True
    by_ca = await verify(service, pki.ca)  # whoever holds the CA key signs the document directly
    assert by_ca["valid"] is False
    assert by_ca["reason_code"] == "signature_invalid"


async def test_a_key_cert_sign_certificate_is_a_ca_certificate(service, upstream, pki, kit):
    holder = make_signing_key(pki.ca, "sub-ca.example", bits=2048)
    sub_ca = key_cert_sign_only(pki.ca, holder)
    assert is_ca(sub_ca)
    assert not is_ca(holder.certificate)
    await register(service, upstream, pki, kit, pem(pki.nodes["OTHER"], sub_ca))
    result = await verify(service, holder)
    assert result["valid"] is False
    assert result["reason_code"] == "signature_invalid"


async def test_a_lone_ca_certificate_is_the_signing_key(service, upstream, pki, kit):
    await register(service, upstream, pki, kit, pem(pki.ca))
    assert (await verify(service, pki.ca))["valid"] is True


async def test_a_bundle_of_ca_certificates_only_has_no_signing_key(service, upstream, pki, kit):
    holder = make_signing_key(pki.ca, "sub-ca.example", bits=2048)
    await register(service, upstream, pki, kit, pem(pki.ca, key_cert_sign_only(pki.ca, holder)))
    result = await verify(service, pki.ca)
    assert result["valid"] is False
    assert result["reason_code"] == "no_signing_certificate"
