"""The EMREX XMLDSig profile and a verifier for it that trusts only the certificates it is given.

Profile (emrex.md, Part A): enveloped signature, one Reference URI="", enveloped-signature then
optionally C14N, C14N 1.0 for SignedInfo, RSA-SHA256 (or ECDSA), the Signature the last child of
<elmo>. Receivers verify against the registered certificate, never KeyInfo, and so does this module.
"""

import base64
import hashlib
import hmac
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from functools import cached_property

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from ._parser import DEFAULT_MAX_BYTES, parse_xml, whole_text
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
    """What a successful verification established, and the only content a consumer may read.

    `signed_xml` holds the exact octets the digest covers (the document without its Signature, canonical, without
    comments); `root` is those octets parsed. Reading the input tree instead would let unsigned parts (comments
    splitting a grade, a ds:Object) change what is read without breaking the signature.
    """

    certificate: x509.Certificate | None
    signature_method: str
    digest_method: str
    signed_xml: bytes

    @cached_property
    def root(self) -> etree._Element:
        # Parsed on first use: a caller that only needs the verdict (the signer's self-check) skips a parse of
        # the whole document. `signed_xml` is canonical XML of a document the hardened parser already read.
        return _parse_signed(self.signed_xml)


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


# The elements of our profile, their attributes and the element children each may have, in order ("?" optional,
# "+" one or more). KeyInfo is never read (we verify against registered certificates only), so its content is free.
_SHAPE: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "Signature": (frozenset({"Id"}), ("SignedInfo", "SignatureValue", "KeyInfo?")),
    "SignedInfo": (frozenset({"Id"}), ("CanonicalizationMethod", "SignatureMethod", "Reference")),
    "CanonicalizationMethod": (frozenset({"Algorithm"}), ()),
    "SignatureMethod": (frozenset({"Algorithm"}), ()),
    "Reference": (frozenset({"Id", "URI", "Type"}), ("Transforms?", "DigestMethod", "DigestValue")),
    "Transforms": (frozenset(), ("Transform+",)),
    "Transform": (frozenset({"Algorithm"}), ()),
    "DigestMethod": (frozenset({"Algorithm"}), ()),
    "DigestValue": (frozenset(), ()),
    "SignatureValue": (frozenset({"Id"}), ()),
}
_TEXT_ALLOWED = {"DigestValue", "SignatureValue"}


def _check_shape(el: etree._Element) -> None:
    """Refuse anything in the Signature the profile does not name: ds:Object, a second Reference, HMAC output
    lengths, XPath or InclusiveNamespaces children, stray text, comments, processing instructions."""
    name = etree.QName(el).localname
    if name == "KeyInfo":
        return
    attributes, expected = _SHAPE[name]
    extra = sorted(set(el.attrib) - attributes)
    if extra:
        raise SignatureProfileError(f"ds:{name} has attributes the profile does not allow: {', '.join(extra)}")
    children: list[etree._Element] = []
    for child in el:
        if not isinstance(child.tag, str):
            raise SignatureProfileError(f"ds:{name} holds a comment or processing instruction")
        children.append(child)
        if (child.tail or "").strip():
            raise SignatureProfileError(f"ds:{name} holds text between its elements")
    if name not in _TEXT_ALLOWED and (el.text or "").strip():
        raise SignatureProfileError(f"ds:{name} holds text")
    found = [c.tag for c in children]
    i = 0
    for slot in expected:
        child_name, mark = slot.rstrip("?+"), slot[-1]
        count = 0
        while i < len(found) and found[i] == _q(child_name) and (count == 0 or mark == "+"):
            i += 1
            count += 1
        if count == 0 and mark != "?":
            count = found.count(_q(child_name))
            raise SignatureProfileError(f"expected one ds:{child_name}, found {count} (in ds:{name})")
    if i < len(found):
        names = {slot.rstrip("?+") for slot in expected}
        if found[i].startswith(f"{{{DSIG_NS}}}") and etree.QName(found[i]).localname in names:
            extra_name = etree.QName(found[i]).localname
            raise SignatureProfileError(f"expected one ds:{extra_name}, found {found.count(found[i])} (in ds:{name})")
        shown = etree.QName(found[i]).localname if found[i].startswith(f"{{{DSIG_NS}}}") else found[i]
        where = "ds:" + shown if found[i].startswith(f"{{{DSIG_NS}}}") else f"<{shown}>"
        raise SignatureProfileError(f"ds:{name} may not hold {where} there (profile: {', '.join(expected)})")
    for child in children:
        _check_shape(child)


@dataclass(frozen=True)
class _Profile:
    c14n: str
    method: str
    reference_c14n: str
    digest: str
    digest_value: str


def _text(el: etree._Element) -> str:
    value = whole_text(el)
    if value is None:
        raise SignatureProfileError(f"ds:{etree.QName(el).localname} holds elements")
    return "".join(value.split())


def _read_profile(signature: etree._Element, allow_sha1: bool) -> _Profile:
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
    return _Profile(c14n_alg, method, ref_c14n, digest, _text(_one(reference, "DigestValue")))


def _signed_bytes(root: etree._Element, signature: etree._Element, c14n: str, *, owned: bool = False) -> bytes:
    """The octets the Reference digests: the document without its Signature, canonicalized without comments.

    `owned`: the tree is this module's own (parsed by `verify`), so the Signature is taken out of it for the
    canonicalization and put back, instead of copying the whole document first.
    """
    if not owned:
        # URI="" is the whole document: top-level processing instructions count, so copy the tree.
        index = list(root).index(signature)
        root = deepcopy(root.getroottree()).getroot()
        signature = root[index]
    # Removing an lxml element takes its tail text with it, which the enveloped transform keeps.
    tail = signature.tail
    prev = signature.getprevious()
    index = root.index(signature)
    saved = prev.tail if prev is not None else root.text
    root.remove(signature)
    try:
        if tail:
            if prev is not None:
                prev.tail = (prev.tail or "") + tail
            else:
                root.text = (root.text or "") + tail
        # URI="" excludes comments whatever the transform says (XMLDSig 4.3.3.3).
        data: bytes = etree.tostring(root.getroottree(), method="c14n", exclusive=c14n == EXC_C14N, with_comments=False)
    finally:
        if prev is not None:
            prev.tail = saved
        else:
            root.text = saved
        root.insert(index, signature)  # with its own tail, as it was
    return data


def _parse_signed(data: bytes) -> etree._Element:
    # Canonical XML is UTF-8 without DOCTYPE; it can be a little longer than its source (<a/> becomes <a></a>), so
    # the limit is its own length: the source was already held to the caller's limit.
    return parse_xml(data, max_bytes=max(len(data), 1))


def signed_content(root: etree._Element) -> etree._Element:
    """What an enveloped URI="" signature in our profile covers, as a tree: nothing else may be read.

    The document without its ds:Signature, canonicalized without comments (as the digest is computed) and parsed
    again: comments, CDATA boundaries and entity-free variants are gone and every text node is whole. This does
    NOT verify anything; `verify` returns the same tree as `VerifiedSignature.root` once the signature holds.
    """
    signature = _locate(root)
    _check_shape(signature)
    c14n = _read_profile(signature, allow_sha1=True).reference_c14n
    return _parse_signed(_signed_bytes(root, signature, c14n))


PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def _check_value(
    key: object, kind: str, hash_alg: hashes.HashAlgorithm, value: bytes, signed: bytes
) -> bool:
    try:
        if kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, signed, padding.PKCS1v15(), hash_alg)
            return True
        if kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            # XMLDSig ECDSA values are r || s, each exactly the curve's size: no other length is a signature.
            if len(value) != 2 * ((key.curve.key_size + 7) // 8):
                return False
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

    Read the document only through the result's `root` (or `signed_xml`): it is exactly what the signature
    covers. The tree passed in may hold comments, split text or a ds:Object that no signature protects.

    Args:
        root: the <elmo> element, parsed by the hardened parser; it is not changed.
        trusted: certificates (from EMREG) or public keys; KeyInfo is ignored.
        allow_sha1: accept RSA-SHA1/SHA-1, as older EMPs (DK, FI, NO) still sign.

    Raises:
        SignatureMissingError, SignatureProfileError, SignatureError.
    """
    return _verify_element(root, trusted, allow_sha1=allow_sha1, owned=False)


def _verify_element(
    root: etree._Element,
    trusted: Sequence[x509.Certificate | PublicKey],
    *,
    allow_sha1: bool,
    owned: bool,
) -> VerifiedSignature:
    # `owned`: the tree was parsed here for this call, so the digest may be computed on it without a copy.
    if not trusted:
        raise SignatureError("no trusted certificate to verify against")
    signature = _locate(root)
    _check_shape(signature)
    profile = _read_profile(signature, allow_sha1)
    # Everything read from the Signature is read before the digest: taking the Signature out of an owned tree
    # and putting it back lets lxml copy namespace declarations onto it, which SignedInfo's C14N would show.
    signature_value = _text(_one(signature, "SignatureValue"))
    signed_info = _c14n(_one(signature, "SignedInfo"), profile.c14n)
    signed = _signed_bytes(root, signature, profile.reference_c14n, owned=owned)
    algo = {**_DIGESTS, **_LEGACY_DIGESTS}[profile.digest]
    actual = base64.b64encode(hashlib.new(algo, signed).digest()).decode("ascii")
    if not hmac.compare_digest(actual.encode(), profile.digest_value.encode()):
        raise SignatureError("the document was changed after signing (digest mismatch)")
    try:
        value = base64.b64decode(signature_value, validate=True)
    except ValueError:
        raise SignatureError("SignatureValue is not base64") from None
    kind, hash_alg = {**_SIGNATURE_METHODS, **_LEGACY_METHODS}[profile.method]
    for item in trusted:
        key = item.public_key() if isinstance(item, x509.Certificate) else item
        if _check_value(key, kind, hash_alg, value, signed_info):
            break
    else:
        raise SignatureError("the signature does not match any trusted certificate")
    # What was read above came from the parsed tree; what the key signed is the canonical SignedInfo. Read it again
    # from those bytes and insist it says the same (a comment in DigestValue, for one, would not).
    verified_info = _parse_signed(signed_info)
    wrapper = etree.Element(_q("Signature"))
    wrapper.append(verified_info)
    if _read_profile(wrapper, allow_sha1) != profile:
        raise SignatureProfileError("SignedInfo reads differently from what was signed")
    cert = item if isinstance(item, x509.Certificate) else None
    return VerifiedSignature(cert, profile.method, profile.digest, signed)


def check_signed_info(
    signed_info: bytes,
    value: bytes,
    digest: bytes,
    trusted: Sequence[x509.Certificate | PublicKey],
) -> None:
    """A signer's check of the signature it just made, without reading its whole output again.

    `signed_info` is the canonical SignedInfo exactly as signed, `value` the raw SignatureValue and `digest` the
    digest of the canonical document just computed. SignedInfo must be in the profile and name that digest, and
    `value` must verify over `signed_info` with a trusted key.

    Raises:
        SignatureProfileError, SignatureError.
    """
    if not trusted:
        raise SignatureError("no trusted certificate to verify against")
    info = _parse_signed(signed_info)
    if info.tag != _q("SignedInfo"):
        raise SignatureProfileError("expected one ds:SignedInfo")
    _check_shape(info)
    wrapper = etree.Element(_q("Signature"))
    wrapper.append(info)
    profile = _read_profile(wrapper, allow_sha1=False)
    written = profile.digest_value.encode("ascii", "replace")
    if len(digest) != hashlib.new(_DIGESTS[profile.digest]).digest_size or not hmac.compare_digest(
        base64.b64encode(digest), written
    ):
        raise SignatureError("DigestValue is not the digest of the document (digest mismatch)")
    kind, hash_alg = _SIGNATURE_METHODS[profile.method]
    for item in trusted:
        key = item.public_key() if isinstance(item, x509.Certificate) else item
        if _check_value(key, kind, hash_alg, value, signed_info):
            return
    raise SignatureError("the signature does not match any trusted certificate")


def verify(
    xml: bytes,
    trusted: Sequence[x509.Certificate | PublicKey],
    *,
    allow_sha1: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> VerifiedSignature:
    """Parse untrusted signed ELMO bytes and verify them; see verify_element.

    `emrex_elmo.from_element(verify(xml, certs).root)` is the way to read a signed transcript.
    """
    return _verify_element(parse_xml(xml, max_bytes=max_bytes), trusted, allow_sha1=allow_sha1, owned=True)


def load_certificates(pem_or_der: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle, or the one DER certificate."""
    if b"-----BEGIN" in pem_or_der:
        return x509.load_pem_x509_certificates(pem_or_der)
    return [x509.load_der_x509_certificate(pem_or_der)]
