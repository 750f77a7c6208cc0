"""The EMREX XMLDSig profile and a verifier for it that trusts only the certificates it is given.

Profile (emrex.md, Part A): enveloped signature, one Reference URI="", enveloped-signature then
optionally C14N, C14N 1.0 for SignedInfo, RSA-SHA256 (or ECDSA), the Signature the last child of
<elmo>. Receivers verify against the registered certificate, never KeyInfo, and so does this module.
"""

import base64
import hashlib
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from ._parser import DEFAULT_MAX_BYTES, parse_xml
from .errors import SignatureError, SignatureMissingError, SignatureProfileError
from .namespaces import DSIG_NS

C14N_1_0 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_1_0_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"

_SIGNATURE_METHODS: dict[str, tuple[str, hashes.HashAlgorithm]] = {
    RSA_SHA256: ("rsa", hashes.SHA256()),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", hashes.SHA384()),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", hashes.SHA512()),
    ECDSA_SHA256: ("ec", hashes.SHA256()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ec", hashes.SHA384()),
}
_DIGESTS = {
    SHA256: "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
_LEGACY_METHODS: dict[str, tuple[str, hashes.HashAlgorithm]] = {RSA_SHA1: ("rsa", hashes.SHA1())}  # noqa: S303
_LEGACY_DIGESTS = {SHA1: "sha1"}
_C14N = {C14N_1_0, C14N_1_0_COMMENTS, EXC_C14N}


def _q(name: str) -> str:
    return f"{{{DSIG_NS}}}{name}"


@dataclass(frozen=True)
class VerifiedSignature:
    """What a successful verification established."""

    certificate: x509.Certificate | None
    signature_method: str
    digest_method: str
    root: etree._Element


def _c14n(el: etree._Element, algorithm: str) -> bytes:
    if el.getparent() is not None:
        # Exclusive C14N does not inherit xml:* attributes from ancestors; C14N 1.0 does.
        el = _detached(el, inherit_xml_attributes=algorithm != EXC_C14N)
    data: bytes = etree.tostring(
        el,
        method="c14n",
        exclusive=algorithm == EXC_C14N,
        with_comments=algorithm == C14N_1_0_COMMENTS,
    )
    return data


def _detached(el: etree._Element, *, inherit_xml_attributes: bool) -> etree._Element:
    # libxml2's C14N of a subtree emits a spurious xmlns="" where a default namespace is
    # redeclared (DK/Java signatures); canonicalize a standalone copy carrying every in-scope
    # namespace and inherited xml:* attribute instead, which is what C14N 1.0 asks for.
    copy = etree.Element(el.tag, nsmap=el.nsmap)
    inherited: dict[str, str] = {}
    for ancestor in el.iterancestors() if inherit_xml_attributes else ():
        for name, value in ancestor.attrib.items():
            if name.startswith("{http://www.w3.org/XML/1998/namespace}"):
                inherited.setdefault(name, value)
    for name, value in {**inherited, **dict(el.attrib)}.items():
        copy.set(name, value)
    copy.text = el.text
    for child in el:
        copy.append(deepcopy(child))
    return copy


def _one(parent: etree._Element, name: str) -> etree._Element:
    found = parent.findall(_q(name))
    if len(found) != 1:
        raise SignatureProfileError(f"expected one ds:{name}, found {len(found)}")
    return found[0]


def _locate(root: etree._Element) -> etree._Element:
    signatures = list(root.iter(_q("Signature")))
    if not signatures:
        raise SignatureMissingError("the document has no ds:Signature")
    first = signatures[0]
    # Verifiers take the first Signature in document order; it must be the enveloped one at the end.
    if first.getparent() is not root:
        raise SignatureProfileError("the first ds:Signature is not a child of <elmo>")
    if len(signatures) > 1:
        raise SignatureProfileError(f"the document has {len(signatures)} ds:Signature elements")
    last = [c for c in root if isinstance(c.tag, str)][-1]
    if last is not first:
        raise SignatureProfileError("ds:Signature is not the last child of <elmo>")
    return first


def _check_profile(signature: etree._Element, allow_sha1: bool) -> tuple[str, str, str, str]:
    signed_info = _one(signature, "SignedInfo")
    c14n_alg = _one(signed_info, "CanonicalizationMethod").get("Algorithm", "")
    if c14n_alg not in _C14N:
        raise SignatureProfileError(f"canonicalization {c14n_alg} is not C14N 1.0")
    method = _one(signed_info, "SignatureMethod").get("Algorithm", "")
    known = {**_SIGNATURE_METHODS, **(_LEGACY_METHODS if allow_sha1 else {})}
    if method not in known:
        raise SignatureProfileError(f"signature method {method} is not allowed")
    reference = _one(signed_info, "Reference")
    if reference.get("URI") != "":
        raise SignatureProfileError('the Reference must have URI=""')
    transforms_el = reference.find(_q("Transforms"))
    transforms = (
        [t.get("Algorithm", "") for t in transforms_el.iterchildren(_q("Transform"))]
        if transforms_el is not None
        else []
    )
    if not transforms or transforms[0] != ENVELOPED or len(transforms) > 2:
        raise SignatureProfileError("transforms must be enveloped-signature, then optionally C14N")
    ref_c14n = transforms[1] if len(transforms) == 2 else C14N_1_0
    if ref_c14n not in _C14N:
        raise SignatureProfileError(f"reference transform {ref_c14n} is not C14N 1.0")
    digest = _one(reference, "DigestMethod").get("Algorithm", "")
    digests = {**_DIGESTS, **(_LEGACY_DIGESTS if allow_sha1 else {})}
    if digest not in digests:
        raise SignatureProfileError(f"digest method {digest} is not allowed")
    return c14n_alg, method, ref_c14n, digest


def _document_digest(root: etree._Element, signature: etree._Element, c14n: str, digest: str) -> str:
    # URI="" is the whole document: top-level processing instructions count, so copy the tree.
    tree = deepcopy(root.getroottree())
    copy = tree.getroot()
    sig_copy = copy[list(root).index(signature)]
    # Removing an lxml element also drops its tail text, which the enveloped transform keeps.
    tail = sig_copy.tail
    prev = sig_copy.getprevious()
    copy.remove(sig_copy)
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            copy.text = (copy.text or "") + tail
    # URI="" excludes comments whatever the transform says (XMLDSig 4.3.3.3).
    data: bytes = etree.tostring(tree, method="c14n", exclusive=c14n == EXC_C14N, with_comments=False)
    algo = {**_DIGESTS, **_LEGACY_DIGESTS}[digest]
    return base64.b64encode(hashlib.new(algo, data).digest()).decode("ascii")


PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def _check_value(
    key: object, kind: str, hash_alg: hashes.HashAlgorithm, value: bytes, signed: bytes
) -> bool:
    try:
        if kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, signed, padding.PKCS1v15(), hash_alg)
            return True
        if kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(value) // 2
            der = encode_dss_signature(
                int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big")
            )
            key.verify(der, signed, ec.ECDSA(hash_alg))
            return True
    except InvalidSignature:
        return False
    return False


def verify_element(
    root: etree._Element,
    trusted: Sequence[x509.Certificate | PublicKey],
    *,
    allow_sha1: bool = False,
) -> VerifiedSignature:
    """Verify the enveloped signature of a parsed document against trusted keys only.

    Args:
        root: the <elmo> element, parsed by the hardened parser and not modified since.
        trusted: certificates (from EMREG) or public keys; KeyInfo is ignored.
        allow_sha1: accept RSA-SHA1/SHA-1, as older EMPs (DK, FI, NO) still sign.

    Raises:
        SignatureMissingError, SignatureProfileError, SignatureError.
    """
    if not trusted:
        raise SignatureError("no trusted certificate to verify against")
    signature = _locate(root)
    c14n_alg, method, ref_c14n, digest = _check_profile(signature, allow_sha1)
    signed_info = _one(signature, "SignedInfo")
    reference = _one(signed_info, "Reference")
    expected = "".join((_one(reference, "DigestValue").text or "").split())
    if _document_digest(root, signature, ref_c14n, digest) != expected:
        raise SignatureError("the document was changed after signing (digest mismatch)")
    try:
        value = base64.b64decode(
            "".join((_one(signature, "SignatureValue").text or "").split()), validate=True
        )
    except ValueError:
        raise SignatureError("SignatureValue is not base64") from None
    signed = _c14n(signed_info, c14n_alg)
    kind, hash_alg = {**_SIGNATURE_METHODS, **_LEGACY_METHODS}[method]
    for item in trusted:
        key = item.public_key() if isinstance(item, x509.Certificate) else item
        if _check_value(key, kind, hash_alg, value, signed):
            cert = item if isinstance(item, x509.Certificate) else None
            return VerifiedSignature(cert, method, digest, root)
    raise SignatureError("the signature does not match any trusted certificate")


def verify(
    xml: bytes,
    trusted: Sequence[x509.Certificate | PublicKey],
    *,
    allow_sha1: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> VerifiedSignature:
    """Parse untrusted signed ELMO bytes and verify them; see verify_element."""
    return verify_element(parse_xml(xml, max_bytes=max_bytes), trusted, allow_sha1=allow_sha1)


def load_certificates(pem_or_der: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle, or the one DER certificate."""
    if b"-----BEGIN" in pem_or_der:
        return x509.load_pem_x509_certificates(pem_or_der)
    return [x509.load_der_x509_certificate(pem_or_der)]
