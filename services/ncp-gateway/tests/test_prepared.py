"""The prepared document is parsed once for the preview, the signed check and the audit summary."""

import pytest

from emrex_elmo import ElmoError, from_xml
from ncp_gateway.domain.prepared import ParsedDocuments
from ncp_testkit.elmo import sample_xml


def test_parse_gives_what_from_xml_gives_and_reuses_it() -> None:
    documents = ParsedDocuments()
    document = sample_xml(3)
    first = documents.parse(document)
    assert first == from_xml(document)
    assert documents.parse(bytes(document)) is first  # equal bytes, not the same object: still one parse
    assert documents.parse(sample_xml(2)) != first


def test_forget_and_the_bound() -> None:
    documents = ParsedDocuments(kept=2)
    one, two, three = sample_xml(1), sample_xml(2), sample_xml(3)
    parsed_one = documents.parse(one)
    documents.parse(two)
    documents.parse(one)  # now the most recent
    documents.parse(three)  # evicts two, the least recent
    assert len(documents) == 2
    assert documents.parse(one) is parsed_one
    documents.forget(one)
    assert documents.parse(one) is not parsed_one


def test_a_broken_document_raises_as_from_xml_does_and_is_not_kept() -> None:
    documents = ParsedDocuments()
    with pytest.raises(ElmoError):
        documents.parse(b"<elmo")
    assert len(documents) == 0
