"""The EMREX signing profile: enveloped XMLDSig over an ELMO 1.7.0 or 2.0.0 document (emrex.md, Part A).

One Reference URI="" with the enveloped-signature then inclusive C14N 1.0 transforms, SHA-256
digest, C14N 1.0 SignedInfo, RSA-SHA256 (ECDSA-SHA256 for P-256 keys), the signing certificate in
KeyInfo, and ds:Signature as the last child of <elmo>. The document is parsed, validated and
canonicalized once, and serialized once (its canonical form, with the Signature inserted at the
end). Before answering, the signature is checked with the certificate over the canonical SignedInfo
just signed, which names the digest just computed (self_check).

The Signature is built here with lxml rather than signxml's XMLSigner: the same code path serves
keys that live in a token (which signxml cannot drive), and it canonicalizes the document once
instead of re-serializing and re-parsing it twice (signxml: about 25 ms for a 1,000-course
document where C14N alone takes about 4 ms).
"""

import base64
import hashlib
import threading
from copy import deepcopy
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from emrex_elmo import DSIG_NS, ELMO_NS, SCHEMA_VERSIONS, bundled_schema, dsig, parse_xml, schema_issues
from emrex_elmo.errors import ElmoError
from emrex_elmo.schema import SchemaVersion
from ncp_signer.domain.keys import SigningKey, signature_method

XML_NS_ATTR = "{http://www.w3.org/XML/1998/namespace}"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# emrex_elmo compiles the XSD once per thread. Compiling it while other threads use libxml2 (another
# compilation, or parsing) fails now and then with XMLSchemaParseError, so the service compiles it in
# each of its worker threads at start-up, one at a time, before serving (warm_up); the lock also
# covers any other caller.
_schema_lock = threading.Lock()


def warm_up() -> None:
    """Prepare the calling worker thread: compile the XSD and build the parser once, serialized."""
    with _schema_lock:
        for version in SCHEMA_VERSIONS:
            bundled_schema(version)
        parse_xml(b"<warm-up/>")


class DocumentRejected(Exception):
    """The input cannot be signed; `status`/`code` say why, in problem+json terms."""

    def __init__(self, status: int, code: str, detail: str, issues: list[str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.issues = issues or []


class SelfCheckFailed(Exception):
    """Our own output did not verify: never answered; a bug or a key/certificate mismatch."""


@dataclass(frozen=True)
class SignedDocument:
    xml: bytes
    sha256: str
    key_id: str


def schema_version(requested: str) -> SchemaVersion:
    """The bundled XSD a caller asked for; any other version is refused, never guessed (emrex2.md)."""
    for version in SCHEMA_VERSIONS:
        if requested == version:
            return version
    raise DocumentRejected(400, "unsupported_version",
                           f"ELMO version {requested[:20]!r} is not supported; use one of {', '.join(SCHEMA_VERSIONS)}")


def prepare(xml: bytes, *, max_bytes: int, version: SchemaVersion = "1.7.0") -> etree._Element:
    """Parse (hardened), check the namespace, refuse signed documents, validate against the ELMO XSD."""
    try:
        root = parse_xml(xml, max_bytes=max_bytes)
    except ElmoError as exc:
        status = 413 if exc.code == "too_large" else 400
        raise DocumentRejected(status, exc.code, exc.message) from None
    if root.tag != f"{{{ELMO_NS}}}elmo":
        namespace = etree.QName(root).namespace
        raise DocumentRejected(
            422, "wrong_namespace",
            f"the root element must be <elmo> in {ELMO_NS} (ELMO {version}), not "
            f"<{etree.QName(root).localname}> in {namespace or 'no namespace'}",
        )
    if root.getprevious() is not None or root.getnext() is not None:
        # Comments or processing instructions outside <elmo>: not ELMO content, and libxml2's C14N
        # of an element with siblings renders namespaces wrongly (a stray xmlns=""), so sign and
        # answer the document element alone.
        root = parse_xml(etree.tostring(root), max_bytes=max_bytes)
    if next(root.iter(f"{{{DSIG_NS}}}Signature"), None) is not None:
        raise DocumentRejected(409, "already_signed", "the document already contains a ds:Signature")
    with _schema_lock:
        schema = bundled_schema(version)
    issues = schema_issues(root, version, schema=schema)
    if issues:
        raise DocumentRejected(422, "schema_invalid",
                               f"not valid against ELMO {version}: {issues[0]}"
                               + (f" (+{len(issues) - 1} more)" if len(issues) > 1 else ""), issues)
    return root


def _ds(parent: etree._Element, name: str, **attrib: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{DSIG_NS}}}{name}", attrib=attrib or None)


def _c14n_in_context(el: etree._Element) -> bytes:
    """Inclusive C14N 1.0 of a subtree as a verifier computes it: with every in-scope namespace and
    inherited xml:* attribute rendered on the apex (a standalone copy avoids libxml2's stray xmlns="")."""
    copy = etree.Element(el.tag, nsmap=el.nsmap)
    for ancestor in el.iterancestors():
        for name, value in ancestor.attrib.items():
            if name.startswith(XML_NS_ATTR) and copy.get(name) is None:
                copy.set(name, value)
    for name, value in el.attrib.items():
        copy.set(name, value)
    copy.text = el.text
    for child in el:
        copy.append(deepcopy(child))
    data: bytes = etree.tostring(copy, method="c14n", exclusive=False, with_comments=False)
    return data


@dataclass(frozen=True)
class _Signature:
    """What one signing produced: the answer, and what the self-check needs without reading the answer again."""

    xml: bytes
    signed_info: bytes
    """Canonical SignedInfo, exactly the octets the key signed."""
    value: bytes
    digest: bytes
    """SHA-256 of the canonical document, as written in DigestValue."""


def _sign(root: etree._Element, key: SigningKey) -> _Signature:
    # URI="" with enveloped-signature + C14N 1.0: the document without comments, before the
    # Signature exists. Nodes outside <elmo> are not part of the output either.
    document: bytes = etree.tostring(root, method="c14n", exclusive=False, with_comments=False)
    digest = hashlib.sha256(document).digest()

    nsmap = {"ds": DSIG_NS} if root.nsmap.get("ds", DSIG_NS) == DSIG_NS else {"dsig": DSIG_NS}
    # Built in place so that SignedInfo sees the namespaces (and xml:* attributes) in scope on <elmo>.
    signature = etree.SubElement(root, f"{{{DSIG_NS}}}Signature", nsmap=nsmap)
    signed_info = _ds(signature, "SignedInfo")
    _ds(signed_info, "CanonicalizationMethod", Algorithm=dsig.C14N_1_0)
    _ds(signed_info, "SignatureMethod", Algorithm=signature_method(key.key_type))
    reference = _ds(signed_info, "Reference", URI="")
    transforms = _ds(reference, "Transforms")
    _ds(transforms, "Transform", Algorithm=dsig.ENVELOPED)
    _ds(transforms, "Transform", Algorithm=dsig.C14N_1_0)
    _ds(reference, "DigestMethod", Algorithm=dsig.SHA256)
    _ds(reference, "DigestValue").text = base64.b64encode(digest).decode("ascii")
    info = _c14n_in_context(signed_info)
    value = key.sign(info)
    _ds(signature, "SignatureValue").text = base64.b64encode(value).decode("ascii")
    x509_data = _ds(_ds(signature, "KeyInfo"), "X509Data")
    _ds(x509_data, "X509Certificate").text = _certificate_text(key.certificate)
    signature_xml: bytes = etree.tostring(signature, encoding="UTF-8", xml_declaration=False)
    root.remove(signature)
    end = document.rindex(b"</")  # C14N always writes the end tag of <elmo>, last
    xml = b"".join((XML_DECLARATION, document[:end], signature_xml, document[end:]))
    return _Signature(xml, info, value, digest)


def _certificate_text(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")


def sign_element(root: etree._Element, key: SigningKey) -> bytes:
    """Sign `root` (a validated, unsigned <elmo>) and serialize the signed document, once.

    The answer is the canonical form of the document (which is what URI="" signs) with the
    serialized Signature inserted before the closing </elmo> tag: one pass over the document for
    both the digest and the output, and a verifier's C14N of these bytes minus the Signature is
    exactly what was digested.
    """
    return _sign(root, key).xml


def self_check(signed: _Signature, key: SigningKey) -> None:
    """The signature self-check, on what signing just computed rather than on a re-read of the answer.

    The canonical SignedInfo must read as our profile with the digest just computed, and the value the key
    returned must verify over it with the certificate we publish: a key that does not match its certificate
    (a swapped HSM object, a wrong file) or a faulty signature never leaves the service. That the answer's
    bytes canonicalise back to the same SignedInfo and digest holds by construction (the answer is the
    canonical document plus the Signature built from them); the tests check it with four verifiers.
    """
    try:
        dsig.check_signed_info(signed.signed_info, signed.value, signed.digest, [key.certificate])
    except ElmoError as exc:
        raise SelfCheckFailed(f"own signature does not verify: {exc.code}") from None


def sign_document(xml: bytes, key: SigningKey, *, max_bytes: int,
                  version: SchemaVersion = "1.7.0") -> SignedDocument:
    """Check, sign, serialize once, self-check the signature, return the bytes."""
    root = prepare(xml, max_bytes=max_bytes, version=version)
    try:
        signed = _sign(root, key)
    except etree.C14NError:
        # libxml2 refuses C14N 1.0 of, e.g., relative namespace URIs (C14N 1.0 forbids them).
        raise DocumentRejected(422, "not_canonicalizable",
                               "the document cannot be canonicalized (C14N 1.0), e.g. a relative "
                               "namespace URI") from None
    self_check(signed, key)
    return SignedDocument(signed.xml, hashlib.sha256(signed.xml).hexdigest(), key.key_id)
