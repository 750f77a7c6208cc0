"""The one hardened XML parser: UTF-8 only, no DTD, no entities, no external loads, bounded size."""

import re
import threading

from lxml import etree

from .errors import XmlEncodingError, XmlSecurityError, XmlSizeError, XmlSyntaxError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

_local = threading.local()

_UTF8_BOM = b"\xef\xbb\xbf"
# Byte order marks of other encodings, longest first (UTF-32LE starts like UTF-16LE).
_OTHER_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32BE"),
    (b"\xff\xfe\x00\x00", "UTF-32LE"),
    (b"\xfe\xff", "UTF-16BE"),
    (b"\xff\xfe", "UTF-16LE"),
    (b"\x2b\x2f\x76", "UTF-7"),
    (b"\xdd\x73\x66\x73", "UTF-EBCDIC"),
    (b"\x84\x31\x95\x33", "GB18030"),
)
# XML 1.0 §2.8 XMLDecl; only its encoding pseudo-attribute matters here.
_XML_DECL = re.compile(
    rb"<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:'[^']*'|\"[^\"]*\")"
    rb"(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:'(?P<sq>[^']*)'|\"(?P<dq>[^\"]*)\"))?"
)
_XML_DECL_START = re.compile(rb"<\?xml[ \t\r\n]")
_UTF8_NAMES = frozenset({b"utf-8", b"utf8"})


class _RefuseExternal(etree.Resolver):  # type: ignore[misc]
    # Second line of defence behind the encoding and DOCTYPE checks: libxml2 asks the resolver before it opens any
    # external DTD, parameter entity or entity file; raising makes the parse fail before anything is opened.
    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> object:
        raise XmlSecurityError("external DTDs and entities are not allowed")


def _parser() -> etree.XMLParser:
    # lxml parsers are not thread-safe; one per thread, built once.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            # UTF-8 whatever the document declares: a declaration we missed cannot switch the decoder.
            encoding="utf-8",
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_pis=False,
            collect_ids=False,
        )
        parser.resolvers.add(_RefuseExternal())
        _local.parser = parser
    return parser


def require_utf8(data: bytes | str) -> bytes:
    """The document as UTF-8 bytes: EMREX documents are UTF-8 and nothing else.

    libxml2 switches decoders on a byte order mark, on the first four bytes (UTF-16/32 without BOM, EBCDIC) and
    on an `encoding=` declaration; markup checks on raw bytes are blind to all of them, so every such document is
    refused here, before any parser sees it.

    Raises:
        XmlEncodingError: another byte order mark or `encoding=` declaration, bytes that are not UTF-8 (NUL bytes
            included), or text with lone surrogates. (XML calls a document that is not in the encoding it must
            be in a fatal error; EMREX documents must be UTF-8.)
    """
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            raise XmlEncodingError("not well-formed XML: text holds lone surrogates (not UTF-8 encodable)") from None
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            raise XmlEncodingError(f"not well-formed XML: documents must be UTF-8; this one starts with a {name} BOM")
    body = data[3:] if data.startswith(_UTF8_BOM) else data
    if b"\x00" in body:
        # Valid UTF-8, but never in XML: it is how UTF-16 and UTF-32 without a BOM look to a UTF-8 check.
        raise XmlEncodingError("not well-formed XML: documents must be UTF-8; this one holds NUL bytes (UTF-16 or 32?)")
    # ASCII is UTF-8: checked in C at memory speed, without decoding a str of the whole document (3.6 MB at
    # 5,000 courses; the large allocation cost more than the check).
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise XmlEncodingError(f"not well-formed XML: documents must be UTF-8; byte {exc.start} is not") from None
    if _XML_DECL_START.match(body):
        decl = _XML_DECL.match(body)
        if decl is None:
            raise XmlSyntaxError("not well-formed XML: malformed XML declaration")
        encoding = decl.group("sq") if decl.group("sq") is not None else decl.group("dq")
        if encoding is not None and encoding.lower() not in _UTF8_NAMES:
            shown = encoding[:40].decode("ascii", "replace")
            raise XmlEncodingError(f"not well-formed XML: documents must be UTF-8; this one declares {shown!r}")
    return data


def parse_xml(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse untrusted XML bytes into an element tree, refusing anything unsafe.

    Raises:
        XmlSizeError: more than `max_bytes`.
        XmlSecurityError: a DOCTYPE (and so any DTD or entity) is present, or an external load was attempted.
        XmlEncodingError: not UTF-8 (another BOM or declared encoding, invalid bytes, unencodable text); it is both
            an XmlSecurityError (code xml_forbidden) and an XmlSyntaxError.
        XmlSyntaxError: not well-formed, or empty.
    """
    if isinstance(data, str) and len(data) > max_bytes:
        raise XmlSizeError(f"document is at least {len(data)} bytes, the limit is {max_bytes}")
    data = require_utf8(data)
    if len(data) > max_bytes:
        raise XmlSizeError(f"document is {len(data)} bytes, the limit is {max_bytes}")
    # `not data.strip()` without its copy of the document (a trailing newline made it copy all of it).
    if not data or data.isspace() or data == _UTF8_BOM:
        raise XmlSyntaxError("document is empty")
    # Refuse before parsing: libxml2 would still read an internal subset (and try an external one).
    # The whole input is scanned: comments or PIs can push a DOCTYPE far from the start. The input is UTF-8
    # (checked above), so these ASCII byte patterns are exactly the markup. Both hold a "!", which most documents
    # do not: one memchr-fast scan instead of two slower substring searches.
    if b"!" in data and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
        raise XmlSecurityError("DOCTYPE and entity declarations are not allowed")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlSyntaxError(f"not well-formed XML: {exc.msg}") from None
    except ValueError as exc:
        raise XmlSyntaxError(f"not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlSecurityError("DOCTYPE and entity declarations are not allowed")
    # An entity reference node can only come from a "&" in the input; without one, the tree walk is skipped.
    if b"&" in data:
        for node in root.iter(etree.Entity):
            raise XmlSecurityError(f"entity reference &{node.name}; is not allowed")
    return root


def whole_text(el: etree._Element) -> str | None:
    """All the character data of a text-only element, or None if it has child elements.

    `el.text` stops at the first comment or processing instruction, and a comment is not part of a signature's
    digest: `<resultLabel>1<!---->.7</resultLabel>` verifies and `.text` reads "1". Readers use this instead.
    """
    if not len(el):
        return el.text or ""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            return None
        parts.append(child.tail or "")
    return "".join(parts)
