"""The hardened parser: no DOCTYPE, no entities, no network, bounded size; each refusal its own error."""

import time
from pathlib import Path

import pytest
from lxml import etree

import emrex_elmo
from emrex_elmo import (
    ElmoParseError,
    WrongNamespaceError,
    XmlSecurityError,
    XmlSizeError,
    XmlSyntaxError,
    from_xml,
    parse_xml,
)

ELMO_OPEN = b'<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1">'

XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE elmo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    + ELMO_OPEN + b"<generatedDate>&xxe;</generatedDate></elmo>"
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
    )
    + b"]>\n" + ELMO_OPEN + b"<generatedDate>&lol9;</generatedDate></elmo>"
)
EXTERNAL_DTD = b'<?xml version="1.0"?>\n<!DOCTYPE elmo SYSTEM "http://127.0.0.1:9/elmo.dtd">\n' + ELMO_OPEN + b"</elmo>"
PLAIN_DOCTYPE = b"<!DOCTYPE elmo>" + ELMO_OPEN + b"</elmo>"
PARAMETER_ENTITY = (
    b'<!DOCTYPE elmo [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>' + ELMO_OPEN + b"</elmo>"
)


@pytest.mark.parametrize(
    "data",
    [XXE, BILLION_LAUGHS, EXTERNAL_DTD, PLAIN_DOCTYPE, PARAMETER_ENTITY],
    ids=["xxe-file", "billion-laughs", "external-dtd", "doctype", "parameter-entity"],
)
def test_doctype_and_entities_are_refused(data: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(XmlSecurityError) as err:
        from_xml(data)
    assert time.perf_counter() - started < 1
    assert type(err.value) is XmlSecurityError
    assert err.value.code == "xml_forbidden"
    assert "DOCTYPE" in str(err.value)
    assert "root:" not in str(err.value)  # nothing of /etc/passwd leaks


def test_a_doctype_hidden_behind_a_long_comment_is_still_refused() -> None:
    data = b'<?xml version="1.0"?><!--' + b"x" * 10_000 + b"-->" + EXTERNAL_DTD.split(b"\n", 1)[1]
    with pytest.raises(XmlSecurityError):
        parse_xml(data)


def test_a_utf16_document_with_an_entity_is_refused() -> None:
    # The byte-level pre-check cannot see UTF-16 markup; the parsed tree is checked too.
    data = XXE.decode("ascii").replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    with pytest.raises(XmlSecurityError):
        parse_xml(data.encode("utf-16"))


def test_internal_entity_use_without_declaration_is_not_well_formed() -> None:
    with pytest.raises(XmlSyntaxError, match="not well-formed"):
        parse_xml(ELMO_OPEN + b"<generatedDate>&undefined;</generatedDate></elmo>")


@pytest.mark.parametrize("text", ["&amp;", "&#38;", "&lt;"], ids=["named", "numeric", "lt"])
def test_the_entity_walk_runs_whenever_the_input_holds_an_ampersand(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # parse_xml skips the tree walk for input without "&" (no entity reference can come from it). Any "&" keeps it:
    # a tree that holds an entity reference node (here put in by a stand-in parser) is refused.
    real = etree.fromstring

    def with_entity(data: bytes, parser: etree.XMLParser) -> etree._Element:
        root = real(data, parser)
        root.append(etree.Entity("xxe"))
        return root

    monkeypatch.setattr(emrex_elmo._parser.etree, "fromstring", with_entity)
    with pytest.raises(XmlSecurityError, match="entity reference &xxe;"):
        parse_xml(ELMO_OPEN + f"<generatedDate>{text}</generatedDate></elmo>".encode())


def test_doctype_and_entity_declarations_are_found_after_other_exclamation_marks() -> None:
    # The "!" pre-check only decides whether to search: a "!" anywhere (text, comment) still leads to the search.
    for data in (b"<!-- ! -->" + PLAIN_DOCTYPE, b"<!--x-->" + XXE.split(b"\n", 1)[1]):
        with pytest.raises(XmlSecurityError, match="DOCTYPE"):
            parse_xml(data)
    assert parse_xml(ELMO_OPEN + b"<generatedDate>Hei!</generatedDate></elmo>") is not None


def test_ascii_and_non_ascii_documents_take_the_same_checks() -> None:
    # ASCII input skips the UTF-8 decode (ASCII is UTF-8); NUL bytes are refused either way, and bytes that are not
    # UTF-8 are still found in non-ASCII input.
    ascii_doc = ELMO_OPEN + b"<generatedDate>x</generatedDate></elmo>"
    assert ascii_doc.isascii()
    assert parse_xml(ascii_doc) is not None
    with pytest.raises(emrex_elmo.XmlEncodingError, match="NUL"):
        parse_xml(ascii_doc.replace(b">x<", b">\x00<"))
    at = ascii_doc.index(b">x<") + 1
    with pytest.raises(emrex_elmo.XmlEncodingError, match=f"byte {at} is not"):
        parse_xml(ascii_doc.replace(b">x<", b">\xc3(<"))
    assert parse_xml(ascii_doc.replace(b">x<", "> på <".encode())) is not None


def test_oversize_input_is_refused_before_parsing() -> None:
    data = ELMO_OPEN + b" " * 2000 + b"</elmo>"
    with pytest.raises(XmlSizeError, match="limit is 1000") as err:
        parse_xml(data, max_bytes=1000)
    assert err.value.code == "too_large"
    assert isinstance(err.value, XmlSecurityError)
    assert parse_xml(data, max_bytes=len(data)) is not None


def test_default_size_limit_applies() -> None:
    data = ELMO_OPEN + b" " * emrex_elmo.DEFAULT_MAX_BYTES + b"</elmo>"
    with pytest.raises(XmlSizeError):
        from_xml(data)


@pytest.mark.parametrize("data", [b"", b"   \n\t", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom-only"])
def test_empty_input_is_refused(data: bytes) -> None:
    with pytest.raises(XmlSyntaxError, match=r"empty|not well-formed") as err:
        from_xml(data)
    assert err.value.code == "xml_malformed"


@pytest.mark.parametrize("blank", [b" ", b"\t\n\r", b"\x0b\x0c ", b"\n" * 1000])
def test_whitespace_only_input_is_empty_and_a_trailing_newline_is_not(blank: bytes) -> None:
    # The emptiness check is `not data.strip()` without the copy: the same bytes count as whitespace.
    assert not blank.strip()
    with pytest.raises(XmlSyntaxError, match="empty"):
        parse_xml(blank)
    assert parse_xml(ELMO_OPEN + b"</elmo>\n") is not None


@pytest.mark.parametrize(
    "data",
    [b"not xml at all", b"{\"elmo\": 1}", ELMO_OPEN + b"<learner>", b"<a></b>", b"\x1f\x8b\x08\x00binary"],
    ids=["text", "json", "unclosed", "mismatch", "gzip-bytes"],
)
def test_not_xml_is_refused_as_malformed(data: bytes) -> None:
    with pytest.raises(XmlSyntaxError, match="not well-formed"):
        from_xml(data)


def test_empty_file_from_disk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.xml"
    path.write_bytes(b"")
    with pytest.raises(XmlSyntaxError, match="empty"):
        from_xml(path.read_bytes())


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (b'<elmo xmlns="urn:example:other"><generatedDate/></elmo>', "urn:example:other"),
        (b"<elmo><generatedDate>2020-01-01T00:00:00</generatedDate></elmo>", "no namespace"),
        (b'<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1.3.0"/>', "tree/v1.3.0"),
    ],
    ids=["other", "none", "hr-variant"],
)
def test_wrong_namespace_is_refused(data: bytes, shown: str) -> None:
    with pytest.raises(WrongNamespaceError) as err:
        from_xml(data)
    assert shown in str(err.value)
    assert err.value.code == "wrong_namespace"
    assert isinstance(err.value, ElmoParseError)


def test_wrong_root_element_is_refused() -> None:
    with pytest.raises(ElmoParseError, match="root element is <report>"):
        from_xml(b'<report xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1"/>')


def test_missing_required_element_names_it_and_its_parent() -> None:
    with pytest.raises(ElmoParseError) as err:
        from_xml(ELMO_OPEN + b"<learner><familyName>X</familyName></learner></elmo>")
    assert "generatedDate" in str(err.value)
    assert err.value.path == "/elmo"


def test_parsed_tree_keeps_no_entities_and_works_offline(dk_signed: bytes) -> None:
    root = parse_xml(dk_signed)
    assert root.tag.endswith("elmo")
    assert root.getroottree().docinfo.internalDTD is None


def test_strings_are_accepted_as_utf8() -> None:
    root = parse_xml('<elmo xmlns="urn:x">Tromsø</elmo>')
    assert root.text == "Tromsø"
