"""The check of the signer's answer: a valid signature by an active key over exactly the prepared content.

A signature over the prepared document itself is recognised from the canonical octets it covers; anything else
is compared as models, so a signer that only lays the document out differently passes and one that changes a
single letter does not."""

import pytest
from lxml import etree
from signxml import XMLSigner

from emrex_cli.devpki import make_ca, make_signing_key
from emrex_elmo import load_certificates
from emrex_elmo.dsig import C14N_1_0, EXC_C14N
from ncp_gateway.domain import signed_check
from ncp_gateway.domain.signed_check import SignedDocumentError, check_signed
from ncp_testkit.elmo import sample_elmo, sample_xml

CA = make_ca(bits=2048)
NODE = make_signing_key(CA, "node", bits=2048)
ACTIVE = load_certificates(NODE.cert_pem())
PREPARED = sample_xml(5)


def signed(document: bytes, c14n: str = EXC_C14N, key=NODE) -> bytes:
    root = XMLSigner(c14n_algorithm=c14n).sign(etree.fromstring(document), key=key.key_pem(),
                                               cert=key.cert_pem().decode())
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_: bytes) -> None:
        raise AssertionError("the content was compared as models")

    monkeypatch.setattr(signed_check, "from_xml", refuse)


@pytest.mark.parametrize("c14n", [EXC_C14N, C14N_1_0])
def test_a_signature_over_the_prepared_document_passes_without_building_models(monkeypatch, c14n):
    no_models(monkeypatch)
    check_signed(signed(PREPARED, c14n), PREPARED, ACTIVE)


def test_a_signer_that_lays_the_document_out_differently_passes_on_the_models():
    relaid = etree.tostring(etree.fromstring(PREPARED), pretty_print=True, xml_declaration=True, encoding="UTF-8")
    assert relaid != PREPARED
    check_signed(signed(relaid), PREPARED, ACTIVE)
    check_signed(signed(relaid), PREPARED, ACTIVE, sample_elmo(5))


@pytest.mark.parametrize("given_model", [False, True])
def test_a_signature_over_other_content_is_refused(given_model):
    other = PREPARED.replace(b"<resultLabel>2<", b"<resultLabel>5<", 1)
    assert other != PREPARED
    with pytest.raises(SignedDocumentError) as refused:
        check_signed(signed(other), PREPARED, ACTIVE, sample_elmo(5) if given_model else None)
    assert refused.value.code == "content_differs"


def test_a_signature_by_another_key_or_no_active_key_is_refused():
    other_key = make_signing_key(CA, "someone-else", bits=2048)
    with pytest.raises(SignedDocumentError) as refused:
        check_signed(signed(PREPARED, key=other_key), PREPARED, ACTIVE)
    assert refused.value.code == "signature_invalid"
    with pytest.raises(SignedDocumentError) as refused:
        check_signed(signed(PREPARED), PREPARED, [])
    assert refused.value.code == "no_active_certificate"


def test_an_unsigned_or_broken_answer_is_refused():
    good = signed(PREPARED)
    value = good.index(b"SignatureValue>") + len(b"SignatureValue>")
    broken = good[:value] + (b"B" if good[value:value + 1] == b"A" else b"A") + good[value + 1:]
    for answer in (PREPARED, b"not xml", broken):
        with pytest.raises(SignedDocumentError) as refused:
            check_signed(answer, PREPARED, ACTIVE)
        assert refused.value.code == "signature_invalid"


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_: bytes) -> None:
        raise AssertionError("the prepared document was parsed again")

    monkeypatch.setattr(signed_check, "parse_xml", refuse)


def test_the_prepared_documents_canonical_digest_spares_parsing_it_again(monkeypatch):
    """The flow parses the prepared document when it validates it, and keeps its canonical digest: an answer
    over unchanged content is then recognised without parsing the prepared document again."""
    digest = signed_check.canonical_sha256(etree.fromstring(PREPARED))
    no_models(monkeypatch)
    no_parsing(monkeypatch)
    check_signed(signed(PREPARED, C14N_1_0), PREPARED, ACTIVE, prepared_c14n_sha256=digest)


def test_a_digest_that_does_not_match_falls_back_to_the_full_comparison():
    other = PREPARED.replace(b"<resultLabel>2<", b"<resultLabel>5<", 1)
    other_digest = signed_check.canonical_sha256(etree.fromstring(other))
    # A signer using exclusive C14N covers other octets than the digest's: compared the long way, and passes.
    check_signed(signed(PREPARED, EXC_C14N), PREPARED, ACTIVE,
                 prepared_c14n_sha256=signed_check.canonical_sha256(etree.fromstring(PREPARED)))
    # The digest is of the prepared document, never of the answer: other content is refused whatever it says.
    with pytest.raises(SignedDocumentError) as refused:
        check_signed(signed(other, C14N_1_0), PREPARED, ACTIVE, prepared_c14n_sha256="0" * 64)
    assert refused.value.code == "content_differs"
    with pytest.raises(SignedDocumentError) as refused:
        check_signed(signed(PREPARED, C14N_1_0), other, ACTIVE, prepared_c14n_sha256=other_digest)
    assert refused.value.code == "content_differs"
