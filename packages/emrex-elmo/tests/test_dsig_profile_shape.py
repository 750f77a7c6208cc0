"""The ds:Signature holds what the profile names and nothing else (issue 11 §5), and signxml agrees where it may.

SignedInfo, SignatureValue and KeyInfo (in that order, KeyInfo optional); one Reference URI=""; no ds:Object,
Manifest or foreign element; no attribute, child, text, comment or processing instruction the profile does not use.
Each change below leaves the digest and the SignedInfo signature intact wherever it can, so only the shape check
stands between it and acceptance.
"""

import base64
import copy
from collections.abc import Callable

import pytest
from cryptography import x509
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import InvalidInput, SignXMLException

import emrex_elmo
from emrex_cli.devpki import IssuedKey
from emrex_elmo import SignatureError, SignatureProfileError, verify
from ncp_testkit import course, make_elmo, sign_enveloped, signing_key

DS = f"{{{emrex_elmo.DSIG_NS}}}"


@pytest.fixture(scope="module")
def key() -> IssuedKey:
    return signing_key()


@pytest.fixture(scope="module")
def ec_key() -> IssuedKey:
    return signing_key(key_type="ec")


@pytest.fixture(scope="module")
def signed(key: IssuedKey) -> bytes:
    return sign_enveloped(make_elmo(courses=[course("Kvantemekanikk", ects="7.5", grade="B")]), key)


def _sig(root: etree._Element) -> etree._Element:
    found = root.find(f"{DS}Signature")
    assert found is not None
    return found


def _at(root: etree._Element, path: str) -> etree._Element:
    found = root.find(f"{DS}Signature/" + "/".join(f"{DS}{p}" for p in path.split("/")))
    assert found is not None, path
    return found


def _object_with_content(root: etree._Element) -> None:
    obj = etree.SubElement(_sig(root), f"{DS}Object")
    etree.SubElement(obj, f"{{{emrex_elmo.ELMO_NS}}}resultLabel").text = "A"


def _empty_object(root: etree._Element) -> None:
    etree.SubElement(_sig(root), f"{DS}Object")


def _object_before_keyinfo(root: etree._Element) -> None:
    _at(root, "KeyInfo").addprevious(etree.Element(f"{DS}Object"))


def _foreign_element(root: etree._Element) -> None:
    etree.SubElement(_sig(root), "{urn:attacker}payload").text = "x"


def _elmo_element_in_signature(root: etree._Element) -> None:
    etree.SubElement(_sig(root), f"{{{emrex_elmo.ELMO_NS}}}learner")


def _keyinfo_first(root: etree._Element) -> None:
    _sig(root).insert(0, _at(root, "KeyInfo"))


def _second_signature_value(root: etree._Element) -> None:
    _at(root, "SignatureValue").addnext(copy.deepcopy(_at(root, "SignatureValue")))


def _no_signature_value(root: etree._Element) -> None:
    _sig(root).remove(_at(root, "SignatureValue"))


def _manifest_in_signed_info(root: etree._Element) -> None:
    etree.SubElement(_at(root, "SignedInfo"), f"{DS}Manifest")


def _hmac_output_length(root: etree._Element) -> None:
    etree.SubElement(_at(root, "SignedInfo/SignatureMethod"), f"{DS}HMACOutputLength").text = "8"


def _inclusive_namespaces(root: etree._Element) -> None:
    transform = _at(root, "SignedInfo/Reference/Transforms").getchildren()[-1]
    etree.SubElement(transform, "{http://www.w3.org/2001/10/xml-exc-c14n#}InclusiveNamespaces", PrefixList="ds")


def _text_in_signed_info(root: etree._Element) -> None:
    _at(root, "SignedInfo/SignatureMethod").tail = "trust me"


def _text_in_signature(root: etree._Element) -> None:
    _sig(root).text = "hello"


def _comment_in_signature(root: etree._Element) -> None:
    _at(root, "SignatureValue").addprevious(etree.Comment(" note "))


def _pi_in_signed_info(root: etree._Element) -> None:
    _at(root, "SignedInfo").insert(0, etree.ProcessingInstruction("x", "y"))


def _comment_in_digest_value(root: etree._Element) -> None:
    value = _at(root, "SignedInfo/Reference/DigestValue")
    text = value.text or ""
    value.text = text[:10]
    comment = etree.Comment("")
    comment.tail = text[10:]
    value.append(comment)


def _element_in_signature_value(root: etree._Element) -> None:
    etree.SubElement(_at(root, "SignatureValue"), f"{DS}X")


def _unknown_attribute_on_reference(root: etree._Element) -> None:
    _at(root, "SignedInfo/Reference").set("Evil", "1")


def _id_on_elmo_and_fragment_uri(root: etree._Element) -> None:
    root.set("Id", "doc")
    _at(root, "SignedInfo/Reference").set("URI", "#doc")


def _no_uri(root: etree._Element) -> None:
    del _at(root, "SignedInfo/Reference").attrib["URI"]


def _xpointer_uri(root: etree._Element) -> None:
    _at(root, "SignedInfo/Reference").set("URI", "#xpointer(/)")


def _transforms_after_digest(root: etree._Element) -> None:
    reference = _at(root, "SignedInfo/Reference")
    reference.append(_at(root, "SignedInfo/Reference/Transforms"))


def _empty_transforms(root: etree._Element) -> None:
    transforms = _at(root, "SignedInfo/Reference/Transforms")
    for child in list(transforms):
        transforms.remove(child)


TAMPERINGS: list[tuple[Callable[[etree._Element], None], str]] = [
    (_object_with_content, "Object"),
    (_empty_object, "Object"),
    (_object_before_keyinfo, "Object"),
    (_foreign_element, "payload"),
    (_elmo_element_in_signature, "learner"),
    (_keyinfo_first, "SignedInfo"),
    (_second_signature_value, "SignatureValue"),
    (_no_signature_value, "SignatureValue"),
    (_manifest_in_signed_info, "Manifest"),
    (_hmac_output_length, "HMACOutputLength"),
    (_inclusive_namespaces, "InclusiveNamespaces"),
    (_text_in_signed_info, "text"),
    (_text_in_signature, "text"),
    (_comment_in_signature, "comment"),
    (_pi_in_signed_info, "processing instruction"),
    (_comment_in_digest_value, "comment"),
    (_element_in_signature_value, "X"),
    (_unknown_attribute_on_reference, "Evil"),
    (_id_on_elmo_and_fragment_uri, 'URI=""'),
    (_no_uri, 'URI=""'),
    (_xpointer_uri, 'URI=""'),
    (_transforms_after_digest, "Transforms"),
    (_empty_transforms, "Transform"),
]


@pytest.mark.parametrize(("tamper", "shown"), TAMPERINGS, ids=[t.__name__.strip("_") for t, _ in TAMPERINGS])
def test_a_signature_holding_anything_the_profile_does_not_name_is_refused(
    signed: bytes, key: IssuedKey, tamper: Callable[[etree._Element], None], shown: str
) -> None:
    root = emrex_elmo.parse_xml(signed)
    tamper(root)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    with pytest.raises(SignatureProfileError) as err:
        verify(data, [key.certificate])
    assert shown in str(err.value)
    assert err.value.code == "signature_profile"


def test_ids_on_signature_elements_and_any_keyinfo_content_are_allowed(signed: bytes, key: IssuedKey) -> None:
    # Id attributes change nothing with URI=""; KeyInfo is never read, so RetrievalMethod or KeyName are inert.
    root = emrex_elmo.parse_xml(signed)
    _sig(root).set("Id", "sig-1")
    keyinfo = _at(root, "KeyInfo")
    etree.SubElement(keyinfo, f"{DS}RetrievalMethod", URI="file:///etc/passwd")
    etree.SubElement(keyinfo, f"{DS}KeyName").text = "whatever"
    keyinfo.append(etree.Comment("ignored"))
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert verify(data, [key.certificate]).certificate == key.certificate


def test_ecdsa_values_of_the_wrong_length_are_refused(ec_key: IssuedKey) -> None:
    signed = sign_enveloped(make_elmo(), ec_key)
    root = emrex_elmo.parse_xml(signed)
    value = _at(root, "SignatureValue")
    raw = base64.b64decode("".join((value.text or "").split()))
    assert len(raw) == 64
    verify(signed, [ec_key.certificate])
    # r and s with a leading zero byte each: the same integers, but not an XMLDSig ECDSA value.
    half = len(raw) // 2
    value.text = base64.b64encode(b"\x00" + raw[:half] + b"\x00" + raw[half:]).decode()
    with pytest.raises(SignatureError, match="does not match"):
        verify(etree.tostring(root), [ec_key.certificate])


# --- signxml: do we accept anything it refuses? ----------------------------------------------------------------


def _signxml_accepts(data: bytes, cert: x509.Certificate) -> bytes | None:
    try:
        result = XMLVerifier().verify(data, x509_cert=cert, expect_config=SignatureConfiguration())
    except (SignXMLException, InvalidInput, etree.XMLSyntaxError, etree.DocumentInvalid, ValueError):
        return None
    assert not isinstance(result, list)
    return result.signed_data


def _ours_accepts(data: bytes, cert: x509.Certificate) -> bytes | None:
    try:
        return verify(data, [cert]).signed_xml
    except emrex_elmo.ElmoError:
        return None


def test_signxml_and_we_return_the_same_signed_octets(signed: bytes, key: IssuedKey) -> None:
    ours = _ours_accepts(signed, key.certificate)
    assert ours is not None
    assert ours == _signxml_accepts(signed, key.certificate)


@pytest.mark.parametrize("tamper", [t for t, _ in TAMPERINGS], ids=[t.__name__.strip("_") for t, _ in TAMPERINGS])
def test_we_accept_nothing_that_signxml_refuses(
    signed: bytes, key: IssuedKey, tamper: Callable[[etree._Element], None]
) -> None:
    root = emrex_elmo.parse_xml(signed)
    tamper(root)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    ours = _ours_accepts(data, key.certificate)
    theirs = _signxml_accepts(data, key.certificate)
    assert ours is None  # every one of these is outside our profile
    if theirs is not None:
        # signxml accepts it (its schema allows ds:Object, comments, ...) but hands back only the signed octets.
        assert b"payload" not in theirs
        assert b"Object" not in theirs
