"""XMLDSig verification by the EMREX profile: only the given certificates count, tampering is refused."""

import copy
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureMethod, XMLSigner, methods

import emrex_elmo
from emrex_cli.devpki import IssuedKey
from emrex_elmo import (
    Elmo,
    SignatureError,
    SignatureMissingError,
    SignatureProfileError,
    dsig,
    verify,
)
from ncp_testkit import course, dev_ca, make_elmo, sign_enveloped, signing_key

DS = f"{{{emrex_elmo.DSIG_NS}}}"
E = f"{{{emrex_elmo.ELMO_NS}}}"


@pytest.fixture(scope="module")
def ca() -> IssuedKey:
    return dev_ca()


@pytest.fixture(scope="module")
def rsa_key(ca: IssuedKey) -> IssuedKey:
    return signing_key(ca, "signer.example")


@pytest.fixture(scope="module")
def other_key(ca: IssuedKey) -> IssuedKey:
    return signing_key(ca, "someone-else.example")


@pytest.fixture(scope="module")
def ec_key(ca: IssuedKey) -> IssuedKey:
    return signing_key(ca, "ec-signer.example", key_type="ec")


def transcript() -> Elmo:
    return make_elmo(courses=[course("Kvantemekanikk", ects="7.5", grade="B")])


def sign_with_signxml(key: IssuedKey, method: SignatureMethod = SignatureMethod.RSA_SHA256) -> bytes:
    return sign_enveloped(transcript(), key, method)


@pytest.fixture(scope="module")
def signed_rsa(rsa_key: IssuedKey) -> bytes:
    return sign_with_signxml(rsa_key)


def _reserialize(root: etree._Element) -> bytes:
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


# --- the Java-signed Danish sample ---------------------------------------------------------------------------


def test_danish_sample_verifies_with_its_certificate_when_sha1_is_allowed(
    dk_signed: bytes, dk_cert: x509.Certificate
) -> None:
    result = verify(dk_signed, [dk_cert], allow_sha1=True)
    assert result.certificate == dk_cert
    assert result.signature_method == dsig.RSA_SHA1
    assert result.digest_method == dsig.SHA1
    assert result.root.tag == f"{E}elmo"


def test_danish_sample_is_refused_by_default_because_of_sha1(dk_signed: bytes, dk_cert: x509.Certificate) -> None:
    with pytest.raises(SignatureProfileError, match="rsa-sha1 is not allowed"):
        verify(dk_signed, [dk_cert])


def test_danish_sample_verifies_from_its_wire_value(samples: Path, dk_cert: x509.Certificate) -> None:
    wire = (samples / "dk-emrex__elmo-tomcat-signed-zipped-base64.txt").read_text()
    verify(emrex_elmo.transport.decode(wire), [dk_cert], allow_sha1=True)


def test_danish_sample_still_verifies_after_lossless_reserialization(
    dk_signed: bytes, dk_cert: x509.Certificate
) -> None:
    verify(_reserialize(emrex_elmo.parse_xml(dk_signed)), [dk_cert], allow_sha1=True)


def test_danish_sample_with_one_changed_grade_is_refused(dk_signed: bytes, dk_cert: x509.Certificate) -> None:
    assert dk_signed.count(b"<resultLabel>10</resultLabel>") >= 1
    tampered = dk_signed.replace(b"<resultLabel>10</resultLabel>", b"<resultLabel>12</resultLabel>", 1)
    with pytest.raises(SignatureError, match="digest mismatch") as err:
        verify(tampered, [dk_cert], allow_sha1=True)
    assert type(err.value) is SignatureError
    assert err.value.code == "signature_invalid"


def test_danish_sample_with_a_changed_learner_name_is_refused(dk_signed: bytes, dk_cert: x509.Certificate) -> None:
    tampered = dk_signed.replace(b"<familyName>Hansen</familyName>", b"<familyName>Jensen</familyName>")
    assert tampered != dk_signed
    with pytest.raises(SignatureError, match="digest mismatch"):
        verify(tampered, [dk_cert], allow_sha1=True)


def test_danish_sample_with_a_changed_signature_value_is_refused(dk_signed: bytes, dk_cert: x509.Certificate) -> None:
    root = emrex_elmo.parse_xml(dk_signed)
    value = root.find(f".//{DS}SignatureValue")
    assert value is not None
    assert value.text
    text = "".join(value.text.split())
    value.text = ("A" if text[0] != "A" else "B") + text[1:]
    with pytest.raises(SignatureError, match="does not match"):
        verify(_reserialize(root), [dk_cert], allow_sha1=True)


def _signature(root: etree._Element) -> etree._Element:
    sig = root.find(f"{DS}Signature")
    assert sig is not None
    return sig


def _moved_first(root: etree._Element) -> None:
    root.insert(0, _signature(root))


def _moved_into_report(root: etree._Element) -> None:
    report = root.find(f"{E}report")
    assert report is not None
    report.append(_signature(root))


def _wrapped_in_extension(root: etree._Element) -> None:
    sig = _signature(root)
    wrapper = etree.SubElement(root, f"{E}extension")
    wrapper.append(sig)


def _wrapped_in_foreign_element(root: etree._Element) -> None:
    sig = _signature(root)
    wrapper = etree.SubElement(root, "{urn:attacker}wrapper")
    wrapper.append(sig)


def _second_signature_earlier(root: etree._Element) -> None:
    report = root.find(f"{E}report")
    assert report is not None
    report.append(copy.deepcopy(_signature(root)))


def _second_signature_at_root(root: etree._Element) -> None:
    root.insert(1, copy.deepcopy(_signature(root)))


def _second_reference(root: etree._Element) -> None:
    signed_info = _signature(root).find(f"{DS}SignedInfo")
    assert signed_info is not None
    reference = signed_info.find(f"{DS}Reference")
    assert reference is not None
    extra = copy.deepcopy(reference)
    extra.set("URI", "#other")
    signed_info.append(extra)


def _reference_to_fragment(root: etree._Element) -> None:
    ref = _signature(root).find(f"{DS}SignedInfo/{DS}Reference")
    assert ref is not None
    ref.set("URI", "#elmo")


def _no_transforms(root: etree._Element) -> None:
    ref = _signature(root).find(f"{DS}SignedInfo/{DS}Reference")
    assert ref is not None
    transforms = ref.find(f"{DS}Transforms")
    assert transforms is not None
    ref.remove(transforms)


def _xpath_transform(root: etree._Element) -> None:
    transforms = _signature(root).find(f"{DS}SignedInfo/{DS}Reference/{DS}Transforms")
    assert transforms is not None
    etree.SubElement(transforms, f"{DS}Transform", Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116")


def _c14n_11(root: etree._Element) -> None:
    method = _signature(root).find(f"{DS}SignedInfo/{DS}CanonicalizationMethod")
    assert method is not None
    method.set("Algorithm", "http://www.w3.org/2006/12/xml-c14n11")


def _removed(root: etree._Element) -> None:
    root.remove(_signature(root))


@pytest.mark.parametrize(
    ("tamper", "error", "message"),
    [
        (_moved_first, SignatureProfileError, "not the last child"),
        (_moved_into_report, SignatureProfileError, "not a child of <elmo>"),
        (_wrapped_in_extension, SignatureProfileError, "not a child of <elmo>"),
        (_wrapped_in_foreign_element, SignatureProfileError, "not a child of <elmo>"),
        (_second_signature_earlier, SignatureProfileError, "not a child of <elmo>"),
        (_second_signature_at_root, SignatureProfileError, "2 ds:Signature"),
        (_second_reference, SignatureProfileError, "one ds:Reference, found 2"),
        (_reference_to_fragment, SignatureProfileError, 'URI=""'),
        (_no_transforms, SignatureProfileError, "enveloped-signature"),
        (_xpath_transform, SignatureProfileError, "C14N"),
        (_c14n_11, SignatureProfileError, "not C14N 1.0"),
        (_removed, SignatureMissingError, "no ds:Signature"),
    ],
    ids=lambda v: getattr(v, "__name__", None) if callable(v) and not isinstance(v, type) else None,
)
def test_tampered_danish_sample_is_refused(
    dk_signed: bytes, dk_cert: x509.Certificate, tamper: object, error: type[SignatureError], message: str
) -> None:
    root = emrex_elmo.parse_xml(dk_signed)
    assert callable(tamper)
    tamper(root)
    with pytest.raises(error, match=message) as err:
        verify(_reserialize(root), [dk_cert], allow_sha1=True)
    assert type(err.value) is error


def test_danish_sample_is_refused_with_a_wrong_certificate(dk_signed: bytes, rsa_key: IssuedKey) -> None:
    with pytest.raises(SignatureError, match="does not match any trusted certificate") as err:
        verify(dk_signed, [rsa_key.certificate], allow_sha1=True)
    assert type(err.value) is SignatureError


def test_verification_needs_at_least_one_trusted_key(dk_signed: bytes) -> None:
    with pytest.raises(SignatureError, match="no trusted certificate"):
        verify(dk_signed, [], allow_sha1=True)


def test_any_of_several_trusted_certificates_may_match(
    dk_signed: bytes, dk_cert: x509.Certificate, rsa_key: IssuedKey
) -> None:
    result = verify(dk_signed, [rsa_key.certificate, dk_cert], allow_sha1=True)
    assert result.certificate == dk_cert


def test_a_bare_public_key_is_accepted_as_trusted(dk_signed: bytes, dk_cert: x509.Certificate) -> None:
    key = dk_cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    result = verify(dk_signed, [key], allow_sha1=True)
    assert result.certificate is None


def test_unsigned_document_is_reported_as_missing_signature(samples: Path, dk_cert: x509.Certificate) -> None:
    with pytest.raises(SignatureMissingError) as err:
        verify((samples / "fi-ncp__my_elmo.xml").read_bytes(), [dk_cert])
    assert err.value.code == "signature_missing"


def test_hostile_xml_is_refused_before_any_verification(dk_cert: x509.Certificate) -> None:
    with pytest.raises(emrex_elmo.XmlSecurityError):
        verify(b'<!DOCTYPE elmo [<!ENTITY x SYSTEM "file:///etc/passwd">]><elmo>&x;</elmo>', [dk_cert])


def test_load_certificates_reads_pem_bundles_and_der(samples: Path, rsa_key: IssuedKey, ca: IssuedKey) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    bundle = rsa_key.cert_pem() + ca.cert_pem()
    assert emrex_elmo.load_certificates(bundle) == [rsa_key.certificate, ca.certificate]
    der = rsa_key.certificate.public_bytes(Encoding.DER)
    assert emrex_elmo.load_certificates(der) == [rsa_key.certificate]
    assert len(emrex_elmo.load_certificates((samples / "dk-emrex__dk-emrex-test.cer").read_bytes())) == 1


# --- documents signed at test time --------------------------------------------------------------------------


def test_signxml_rsa_sha256_c14n10_signature_verifies(signed_rsa: bytes, rsa_key: IssuedKey) -> None:
    result = verify(signed_rsa, [rsa_key.certificate])
    assert result.signature_method == dsig.RSA_SHA256
    assert result.digest_method == dsig.SHA256
    root = emrex_elmo.parse_xml(signed_rsa)
    assert root[-1].tag == f"{DS}Signature"
    method = root.find(f"{DS}Signature/{DS}SignedInfo/{DS}CanonicalizationMethod")
    assert method is not None
    assert method.get("Algorithm") == dsig.C14N_1_0
    # A signed document stays valid ELMO 1.7.0 and reads back as the same model.
    assert emrex_elmo.schema_issues(signed_rsa) == []
    assert emrex_elmo.from_xml(signed_rsa) == transcript()


def test_signxml_signature_survives_the_wire_codec(signed_rsa: bytes, rsa_key: IssuedKey) -> None:
    verify(emrex_elmo.transport.decode(emrex_elmo.transport.encode(signed_rsa)), [rsa_key.certificate])


def test_keyinfo_is_ignored_only_the_given_certificate_counts(signed_rsa: bytes, other_key: IssuedKey) -> None:
    # The document carries its signer's certificate in KeyInfo; that must not make it trusted.
    assert b"X509Certificate" in signed_rsa
    with pytest.raises(SignatureError, match="does not match"):
        verify(signed_rsa, [other_key.certificate])


def test_signxml_signed_document_with_a_changed_credit_is_refused(signed_rsa: bytes, rsa_key: IssuedKey) -> None:
    tampered = signed_rsa.replace(b"<value>7.5</value>", b"<value>75</value>")
    assert tampered != signed_rsa
    with pytest.raises(SignatureError, match="digest mismatch"):
        verify(tampered, [rsa_key.certificate])


def test_ecdsa_p256_signature_verifies(ec_key: IssuedKey, rsa_key: IssuedKey) -> None:
    assert isinstance(ec_key.key, ec.EllipticCurvePrivateKey)
    signed = sign_with_signxml(ec_key, SignatureMethod.ECDSA_SHA256)
    result = verify(signed, [rsa_key.certificate, ec_key.certificate])
    assert result.signature_method == dsig.ECDSA_SHA256
    assert result.certificate == ec_key.certificate
    with pytest.raises(SignatureError):
        verify(signed.replace(b"Kvantemekanikk", b"Kvantefysikk"), [ec_key.certificate])


def test_ecdsa_signature_is_refused_by_an_rsa_certificate(ec_key: IssuedKey, rsa_key: IssuedKey) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify(sign_with_signxml(ec_key, SignatureMethod.ECDSA_SHA256), [rsa_key.certificate])


def test_signxml_sha1_signature_needs_the_legacy_option(rsa_key: IssuedKey) -> None:
    class LegacySigner(XMLSigner):  # type: ignore[misc]
        # signxml's documented way to produce SHA-1 signatures, as old EMPs still do.
        def check_deprecated_methods(self) -> None:
            pass

    signer = LegacySigner(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA1,
        digest_algorithm=DigestAlgorithm.SHA1,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    signed = _reserialize(signer.sign(emrex_elmo.to_element(transcript()), key=rsa_key.key_pem()))
    with pytest.raises(SignatureProfileError, match="not allowed"):
        verify(signed, [rsa_key.certificate])
    verify(signed, [rsa_key.certificate], allow_sha1=True)


# --- xmlsec1, an independent implementation -------------------------------------------------------------------

XMLSEC1 = shutil.which("xmlsec1")
needs_xmlsec1 = pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed (scripts/ensure-system-deps.sh)")

TEMPLATE = f"""<Signature xmlns="{emrex_elmo.DSIG_NS}">
<SignedInfo>
<CanonicalizationMethod Algorithm="{dsig.C14N_1_0}"/>
<SignatureMethod Algorithm="{dsig.RSA_SHA256}"/>
<Reference URI="">
<Transforms><Transform Algorithm="{dsig.ENVELOPED}"/></Transforms>
<DigestMethod Algorithm="{dsig.SHA256}"/>
<DigestValue/>
</Reference>
</SignedInfo>
<SignatureValue/>
<KeyInfo><X509Data/></KeyInfo>
</Signature>"""


def _xmlsec1(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    assert XMLSEC1 is not None
    return subprocess.run([XMLSEC1, *map(str, args)], capture_output=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def xmlsec1_signed(tmp_path_factory: pytest.TempPathFactory, rsa_key: IssuedKey) -> bytes:
    if XMLSEC1 is None:
        pytest.skip("xmlsec1 is not installed")
    work = tmp_path_factory.mktemp("xmlsec1")
    root = emrex_elmo.to_element(transcript())
    # Unprefixed Signature with its own default namespace, as the Java EMPs write it.
    root.append(etree.fromstring(TEMPLATE.encode()))  # noqa: TID251
    (work / "template.xml").write_bytes(_reserialize(root))
    (work / "key.pem").write_bytes(rsa_key.key_pem())
    (work / "cert.pem").write_bytes(rsa_key.cert_pem())
    done = _xmlsec1("--sign", "--privkey-pem", f"{work / 'key.pem'},{work / 'cert.pem'}",
                    "--output", work / "signed.xml", work / "template.xml")
    assert done.returncode == 0, done.stderr.decode()
    return (work / "signed.xml").read_bytes()


@pytest.mark.interop
@needs_xmlsec1
def test_xmlsec1_signed_document_verifies(xmlsec1_signed: bytes, rsa_key: IssuedKey, other_key: IssuedKey) -> None:
    result = verify(xmlsec1_signed, [rsa_key.certificate])
    assert result.signature_method == dsig.RSA_SHA256
    assert emrex_elmo.schema_issues(xmlsec1_signed) == []
    with pytest.raises(SignatureError):
        verify(xmlsec1_signed, [other_key.certificate])
    with pytest.raises(SignatureError, match="digest mismatch"):
        verify(xmlsec1_signed.replace(b"<resultLabel>B<", b"<resultLabel>A<"), [rsa_key.certificate])


@pytest.mark.interop
@needs_xmlsec1
@pytest.mark.parametrize("source", ["signxml", "dk-sample"])
def test_xmlsec1_agrees_with_our_verifier(
    tmp_path: Path, source: str, signed_rsa: bytes, rsa_key: IssuedKey, dk_signed: bytes, samples: Path
) -> None:
    document, cert_pem = (
        (signed_rsa, rsa_key.cert_pem()) if source == "signxml"
        else (dk_signed, (samples / "dk-emrex__dk-emrex-test.cer").read_bytes())
    )
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    for data, expected in [(document, True), (document.replace(b"<familyName>", b"<familyName>X"), False)]:
        (tmp_path / "doc.xml").write_bytes(data)
        done = _xmlsec1("--verify", "--pubkey-cert-pem", tmp_path / "cert.pem", "--enabled-key-data", "rsa",
                        "--enabled-reference-uris", "empty", tmp_path / "doc.xml")
        assert (done.returncode == 0) is expected, done.stderr.decode()
        try:
            verify(data, emrex_elmo.load_certificates(cert_pem), allow_sha1=True)
            ours = True
        except SignatureError:
            ours = False
        assert ours is expected


# --- other real signed documents ------------------------------------------------------------------------------


def _keyinfo_certificate(xml: bytes) -> x509.Certificate:
    import base64

    root = emrex_elmo.parse_xml(xml)
    node = root.find(f"{DS}Signature/{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate")
    assert node is not None
    assert node.text
    return x509.load_der_x509_certificate(base64.b64decode("".join(node.text.split())))


def test_finnish_2015_wire_response_verifies_with_the_csc_certificate(reference: Path) -> None:
    # samples-smp: a real signed FI NCP answer (pilot namespace, RSA-SHA1) and the certificate that signed it.
    smp = reference / "samples-smp"
    xml = emrex_elmo.transport.decode((smp / "fi-smp__elmo_vastaus_base64_gzipped.txt").read_text())
    cert = emrex_elmo.load_certificates((smp / "fi-smp__csc-cert.crt").read_bytes())
    result = verify(xml, cert, allow_sha1=True)
    assert result.signature_method == dsig.RSA_SHA1
    with pytest.raises(SignatureProfileError):
        verify(xml, cert)
    with pytest.raises(SignatureError, match="digest mismatch"):
        verify(xml.replace("Keränen".encode(), b"Keranen"), cert, allow_sha1=True)


@pytest.mark.parametrize(
    "document",
    ["samples/emrex-gateway__sampleElmo.xml", "elmo-schemas/v1.7.0/example.xml"],
)
def test_real_documents_edited_after_signing_are_refused(reference: Path, document: str) -> None:
    # Both were pretty-printed or edited after signing (reference README): even their own KeyInfo certificate
    # cannot make them verify.
    xml = (reference / document).read_bytes()
    with pytest.raises(SignatureError, match="digest mismatch"):
        verify(xml, [_keyinfo_certificate(xml)], allow_sha1=True)


# --- canonicalization details that independent implementations agree on ----------------------------------------


def _with_root_lang(xml_lang: str = "fi") -> etree._Element:
    root = emrex_elmo.to_element(transcript())
    root.set("{http://www.w3.org/XML/1998/namespace}lang", xml_lang)
    return root


def test_exclusive_c14n_does_not_inherit_xml_lang_into_signed_info(rsa_key: IssuedKey) -> None:
    # HR and Moodle sign with exclusive C14N; an xml:lang on <elmo> must not leak into SignedInfo's canonical form.
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = _reserialize(signer.sign(_with_root_lang(), key=rsa_key.key_pem(), cert=rsa_key.cert_pem().decode()))
    result = verify(signed, [rsa_key.certificate])
    assert result.signature_method == dsig.RSA_SHA256


@pytest.mark.interop
@needs_xmlsec1
@pytest.mark.parametrize("c14n", [dsig.C14N_1_0, dsig.EXC_C14N])
def test_xml_lang_on_the_root_verifies_as_xmlsec1_signs_it(
    tmp_path: Path, rsa_key: IssuedKey, other_key: IssuedKey, c14n: str
) -> None:
    # Inclusive C14N 1.0 carries the inherited xml:lang into SignedInfo, exclusive C14N does not: xmlsec1's
    # signatures must verify either way.
    root = _with_root_lang()
    root.append(etree.fromstring(TEMPLATE.replace(dsig.C14N_1_0, c14n).encode()))  # noqa: TID251
    (tmp_path / "template.xml").write_bytes(_reserialize(root))
    (tmp_path / "key.pem").write_bytes(rsa_key.key_pem())
    done = _xmlsec1("--sign", "--privkey-pem", tmp_path / "key.pem", "--output", tmp_path / "signed.xml",
                    tmp_path / "template.xml")
    assert done.returncode == 0, done.stderr.decode()
    signed = (tmp_path / "signed.xml").read_bytes()
    verify(signed, [rsa_key.certificate])
    with pytest.raises(SignatureError):
        verify(signed, [other_key.certificate])
