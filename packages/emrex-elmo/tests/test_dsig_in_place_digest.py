"""`verify` computes the digest on the tree it parsed itself, without copying it first (issue 13).

The Signature is taken out of that tree for the canonicalization and put back; these tests hold that the octets,
the verdict and the caller's own trees come out exactly as with the copying path (`verify_element`), whatever
surrounds the Signature: its tail text, top-level comments and processing instructions, a Java-style signature.
"""

import pytest
from cryptography import x509
from lxml import etree

from emrex_cli.devpki import IssuedKey
from emrex_elmo import SignatureError, dsig, parse_xml, verify, verify_element
from ncp_testkit import course, learner, make_elmo, sign_enveloped, signing_key


@pytest.fixture(scope="module")
def key() -> IssuedKey:
    return signing_key()


@pytest.fixture(scope="module")
def signed(key: IssuedKey) -> bytes:
    return sign_enveloped(
        make_elmo(
            courses=[course("Kvantemekanikk", ects="7.5", grade="1.7", code="FYS2140")],
            student=learner("Kari", "Nordmann"),
        ),
        key,
    )


def _variants(xml: bytes) -> list[bytes]:
    end = xml.rindex(b"</elmo>")
    sig = xml.index(b"<ds:Signature")
    return [
        xml,
        xml[:end] + b"\n  " + xml[end:],  # text after the Signature (its tail): kept by the enveloped transform
        xml[:sig] + b"<!-- before -->" + xml[sig:end] + b"<!-- after -->" + xml[end:],
        xml + b"<?after-root x?><!-- trailing -->",  # top-level nodes are part of URI=""
    ]


def _outcome(run: object) -> object:
    try:
        result = run()  # type: ignore[operator]
    except SignatureError as exc:
        return f"{type(exc).__name__}: {exc}"
    return result.signed_xml, etree.tostring(result.root)


def test_the_verdict_and_octets_equal_those_of_the_copying_path(signed: bytes, key: IssuedKey) -> None:
    for xml in _variants(signed):
        root = parse_xml(xml)
        before = etree.tostring(root.getroottree())
        own = _outcome(lambda xml=xml: verify(xml, [key.certificate]))
        theirs = _outcome(lambda root=root: verify_element(root, [key.certificate]))
        assert own == theirs
        assert etree.tostring(root.getroottree()) == before  # the caller's tree is not touched


def test_the_in_place_digest_input_equals_the_copy_and_the_tree_is_restored(signed: bytes) -> None:
    for xml in _variants(signed):
        copied = dsig._signed_bytes(*_located(xml), dsig.C14N_1_0)
        root, signature = _located(xml)
        before = etree.tostring(root.getroottree())
        assert dsig._signed_bytes(root, signature, dsig.C14N_1_0, owned=True) == copied
        assert signature.getparent() is root
        assert etree.tostring(root.getroottree()) == before
    assert b"\n  " in dsig._signed_bytes(*_located(_variants(signed)[1]), dsig.C14N_1_0)  # the tail is digested


def _located(xml: bytes) -> tuple[etree._Element, etree._Element]:
    root = parse_xml(xml)
    return root, dsig._locate(root)


def test_a_real_java_signature_reads_the_same_on_both_paths(dk_signed: bytes, dk_cert: x509.Certificate) -> None:
    own = verify(dk_signed, [dk_cert], allow_sha1=True)
    theirs = verify_element(parse_xml(dk_signed), [dk_cert], allow_sha1=True)
    assert own.signed_xml == theirs.signed_xml
    assert (
        etree.tostring(own.root)
        == etree.tostring(theirs.root)
        == etree.tostring(dsig.signed_content(parse_xml(dk_signed)))
    )


def test_a_changed_document_still_fails_on_the_in_place_path(signed: bytes, key: IssuedKey) -> None:
    with pytest.raises(SignatureError, match="digest mismatch"):
        verify(signed.replace(b"Nordmann", b"Nordmanm", 1), [key.certificate])
