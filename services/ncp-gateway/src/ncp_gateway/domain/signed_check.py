"""The gateway never hands off a document it has not checked: the signer's answer must parse, verify against
the node's active certificate, and hold exactly the content the gateway asked to have signed."""

import hashlib
import hmac
from collections.abc import Sequence

from cryptography import x509
from lxml import etree

from emrex_elmo import Elmo, ElmoError, from_xml, parse_xml, verify


class SignedDocumentError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def canonical_sha256(root: etree._Element) -> str:
    """SHA-256 (hex) of the document's inclusive C14N 1.0 without comments: what our signer's enveloped
    signature references, so an unchanged document signed by it has a `signed_xml` of this digest."""
    return hashlib.sha256(etree.tostring(root.getroottree(), method="c14n", exclusive=False,
                                         with_comments=False)).hexdigest()


def check_signed(signed: bytes, prepared: bytes, active: Sequence[x509.Certificate],
                 prepared_model: Elmo | None = None, prepared_c14n_sha256: str | None = None) -> None:
    """Raises SignedDocumentError unless `signed` is `prepared` with a valid signature by an `active` key.

    `prepared_model`: `from_xml(prepared)` when the caller has it already. `prepared_c14n_sha256`:
    `canonical_sha256` of `prepared`, when the caller computed it where it had the document parsed."""
    if not active:
        raise SignedDocumentError("no_active_certificate")
    try:
        verified = verify(signed, active)
    except ElmoError:
        raise SignedDocumentError("signature_invalid") from None
    except ValueError:  # lxml or cryptography refusing bytes that are not a document at all
        raise SignedDocumentError("signature_invalid") from None
    # What the signature covers is the signed document without its Signature, canonical: when that is the
    # prepared document canonicalised the same way, the signer changed nothing (and no model is built).
    if prepared_c14n_sha256 is not None and hmac.compare_digest(
            hashlib.sha256(verified.signed_xml).hexdigest(), prepared_c14n_sha256):
        return
    if _canonically_equal(verified.signed_xml, prepared):
        return
    # Otherwise the models decide: they leave the ds:Signature and the layout out, so a signer that lays the
    # document out differently passes and one that changes what we send does not.
    if from_xml(signed) != (prepared_model if prepared_model is not None else from_xml(prepared)):
        raise SignedDocumentError("content_differs")


def _canonically_equal(canonical: bytes, document: bytes) -> bool:
    """Whether `document`, canonicalised as an enveloped signature's reference is (exclusive, or inclusive),
    is the octets `canonical`."""
    try:
        tree = parse_xml(document).getroottree()
    except ElmoError:
        return False
    return any(canonical == etree.tostring(tree, method="c14n", exclusive=exclusive, with_comments=False)
               for exclusive in (False, True))  # inclusive first: our signer's


def check_signed_pdf(signed: bytes, original: bytes) -> None:
    """The signer adds its signature as an incremental update: the document we rendered comes back unchanged,
    followed by the signature. Anything else (a different or unsigned document) is refused."""
    if len(signed) <= len(original) or not signed.startswith(original) or b"/ETSI.CAdES.detached" not in signed:
        raise SignedDocumentError("pdf_not_signed")
