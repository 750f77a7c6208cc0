"""The one hardened XML parser: no DTD, no entities, no network, bounded size."""

import threading

from lxml import etree

from .errors import XmlSecurityError, XmlSizeError, XmlSyntaxError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers are not thread-safe; one per thread, built once.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_pis=False,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def parse_xml(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse untrusted XML bytes into an element tree, refusing anything unsafe.

    Raises:
        XmlSizeError: more than `max_bytes`.
        XmlSecurityError: a DOCTYPE (and so any DTD or entity) is present.
        XmlSyntaxError: not well-formed, or empty.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise XmlSizeError(f"document is {len(data)} bytes, the limit is {max_bytes}")
    if not data.strip():
        raise XmlSyntaxError("document is empty")
    # Refuse before parsing: libxml2 would still read an internal subset (and try an external one).
    # The whole input is scanned: comments or PIs can push a DOCTYPE far from the start.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
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
    for node in root.iter(etree.Entity):
        raise XmlSecurityError(f"entity reference &{node.name}; is not allowed")
    return root
