"""EMREX documents are UTF-8 and nothing else: every other encoding is refused before parsing, with the reason."""

import pytest

import emrex_elmo
from emrex_elmo import (
    ElmoError,
    TransportError,
    XmlEncodingError,
    XmlSecurityError,
    XmlSyntaxError,
    parse_xml,
    transport,
)


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ("<e/>".encode("utf-16"), "UTF-16LE BOM"),
        (b"\xfe\xff" + "<e/>".encode("utf-16-be"), "UTF-16BE BOM"),
        (b"\xff\xfe\x00\x00" + "<e/>".encode("utf-32-le"), "UTF-32LE BOM"),
        (b"\x00\x00\xfe\xff" + "<e/>".encode("utf-32-be"), "UTF-32BE BOM"),
        (b"+/v8<e/>", "UTF-7 BOM"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><e/>', "declares 'ISO-8859-1'"),
        (b"<?xml version='1.0' encoding='utf-16'?><e/>", "declares 'utf-16'"),
        (b'<?xml version="1.0"\n  encoding = "latin1" standalone="yes"?><e/>', "declares 'latin1'"),
    ],
    ids=["utf16le", "utf16be", "utf32le", "utf32be", "utf7", "latin1", "single-quoted", "spaced"],
)
def test_other_encodings_are_refused_before_parsing_with_the_reason(data: bytes, shown: str) -> None:
    with pytest.raises(XmlEncodingError, match="must be UTF-8") as err:
        parse_xml(data)
    assert shown in err.value.message
    assert isinstance(err.value, XmlSecurityError)
    assert isinstance(err.value, XmlSyntaxError)
    assert err.value.code == "xml_forbidden"


@pytest.mark.parametrize(
    "data",
    [b"<e>\xe9</e>", b"<e>\xc3</e>", b"<e>\xed\xa0\x80</e>", b"<e>\x00</e>", "<e/>".encode("utf-16-le"),
     b"\xef\xbb\xbf<e>\xff</e>", "<e>x</e>".encode("cp037")],
    ids=["latin1-byte", "truncated", "encoded-surrogate", "nul", "utf16-no-decl", "bom-then-bad", "ebcdic"],
)
def test_bytes_that_are_not_utf8_are_malformed(data: bytes) -> None:
    with pytest.raises(XmlEncodingError, match="not well-formed"):
        parse_xml(data)


@pytest.mark.parametrize("text", ["<e>\ud800</e>", "<e>\udfff x</e>", "<e a='\udc80'/>"])
def test_str_input_with_lone_surrogates_is_refused_not_crashed(text: str) -> None:
    with pytest.raises(XmlEncodingError, match="surrogate"):
        parse_xml(text)
    with pytest.raises(ElmoError):
        emrex_elmo.from_xml(text)


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0" encoding="UTF-8"?><e>\xc3\xb8</e>',
        b"<?xml version='1.0' encoding='utf-8'?><e>\xc3\xb8</e>",
        b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?><e>\xc3\xb8</e>',
        b'<?xml version="1.0"?><e>\xc3\xb8</e>',
        b"\xef\xbb\xbf<e>\xc3\xb8</e>",
        b'<?xml-stylesheet href="a.xsl"?><e>\xc3\xb8</e>',
        b"\n <e>\xc3\xb8</e>",
    ],
    ids=["declared", "lower-case", "bom-and-declared", "no-encoding", "bom-only", "pi-not-declaration", "leading-ws"],
)
def test_utf8_documents_still_parse(data: bytes) -> None:
    assert parse_xml(data).text == "ø"


def test_str_input_with_an_encoding_declaration_other_than_utf8_is_refused() -> None:
    with pytest.raises(XmlEncodingError, match="declares 'UTF-16'"):
        parse_xml('<?xml version="1.0" encoding="UTF-16"?><e/>')


def test_wire_values_hold_utf8_only() -> None:
    value = transport.encode('<?xml version="1.0" encoding="UTF-16"?><e/>'.encode("utf-16"))
    with pytest.raises(TransportError, match="UTF-8"):
        transport.decode(value)
    assert transport.decode(transport.encode(b"<e>\xc3\xb8</e>")) == b"<e>\xc3\xb8</e>"
