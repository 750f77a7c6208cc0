"""`check_signed_info`: a signer's self-check on the canonical SignedInfo it signed and the digest it computed
(issue 13), without re-reading its whole output. It must accept exactly what a full verification accepts."""

import base64
import hashlib

import pytest
from lxml import etree

from emrex_cli.devpki import IssuedKey
from emrex_elmo import SignatureError, SignatureProfileError, dsig, parse_xml, verify
from ncp_testkit import course, learner, make_elmo, sign_enveloped, signing_key

DS = f"{{{dsig.DSIG_NS}}}"


@pytest.fixture(scope="module")
def key() -> IssuedKey:
    return signing_key()


@pytest.fixture(scope="module")
def parts(key: IssuedKey) -> tuple[bytes, bytes, bytes]:
    """(canonical SignedInfo, SignatureValue, digest) of a document signed by the test signer, verified in full."""
    signed = sign_enveloped(make_elmo(courses=[course("Kvantemekanikk", ects="7.5", grade="1.7")],
                                      student=learner("Kari", "Nordmann")), key)
    verified = verify(signed, [key.certificate])
    root = parse_xml(signed)
    signature = root.find(f"{DS}Signature")
    assert signature is not None
    info = dsig._c14n(signature.find(f"{DS}SignedInfo"), dsig.C14N_1_0)
    value = base64.b64decode("".join(signature.findtext(f"{DS}SignatureValue", "").split()))
    return info, value, hashlib.sha256(verified.signed_xml).digest()


def test_what_verifies_in_full_passes(parts, key):
    info, value, digest = parts
    dsig.check_signed_info(info, value, digest, [key.certificate])
    dsig.check_signed_info(info, value, digest, [key.certificate.public_key()])


def test_another_certificate_fails(parts):
    info, value, digest = parts
    with pytest.raises(SignatureError, match="does not match"):
        dsig.check_signed_info(info, value, digest, [signing_key(common_name="someone-else").certificate])


def test_a_changed_signature_value_fails(parts, key):
    info, value, digest = parts
    with pytest.raises(SignatureError, match="does not match"):
        dsig.check_signed_info(info, value[:-1] + bytes([value[-1] ^ 1]), digest, [key.certificate])


def test_a_digest_other_than_the_one_signed_fails(parts, key):
    info, value, _ = parts
    with pytest.raises(SignatureError, match="digest mismatch"):
        dsig.check_signed_info(info, value, hashlib.sha256(b"another document").digest(), [key.certificate])


def test_signed_info_outside_the_profile_fails(key):
    info = etree.tostring(etree.fromstring(
        f'<ds:SignedInfo xmlns:ds="{dsig.DSIG_NS}">'
        f'<ds:CanonicalizationMethod Algorithm="{dsig.C14N_1_0}"/>'
        f'<ds:SignatureMethod Algorithm="{dsig.RSA_SHA1}"/>'
        f'<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="{dsig.ENVELOPED}"/></ds:Transforms>'
        f'<ds:DigestMethod Algorithm="{dsig.SHA256}"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference>'
        "</ds:SignedInfo>"), method="c14n")
    with pytest.raises(SignatureProfileError, match="not allowed"):
        dsig.check_signed_info(info, b"\0" * 256, b"\0" * 32, [key.certificate])


def test_no_trusted_key_fails(parts):
    info, value, digest = parts
    with pytest.raises(SignatureError, match="no trusted"):
        dsig.check_signed_info(info, value, digest, [])
