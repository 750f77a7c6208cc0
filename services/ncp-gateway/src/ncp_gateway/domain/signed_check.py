"""The gateway never hands off a document it has not checked: the signer's answer must parse, verify against
the node's active certificate, and hold exactly the content the gateway asked to have signed."""

from collections.abc import Sequence

from cryptography import x509

from emrex_elmo import Elmo, ElmoError, from_xml, verify


class SignedDocumentError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def check_signed(signed: bytes, prepared: bytes | Elmo, active: Sequence[x509.Certificate]) -> None:
    """Raises SignedDocumentError unless `signed` is `prepared` (its bytes, or their parsed model) with a valid
    signature by an `active` key."""
    if not active:
        raise SignedDocumentError("no_active_certificate")
    try:
        verify(signed, active)
    except ElmoError:
        raise SignedDocumentError("signature_invalid") from None
    except ValueError:  # lxml or cryptography refusing bytes that are not a document at all
        raise SignedDocumentError("signature_invalid") from None
    # The model leaves the ds:Signature out: equal models mean the signer changed nothing we send.
    if from_xml(signed) != (prepared if isinstance(prepared, Elmo) else from_xml(prepared)):
        raise SignedDocumentError("content_differs")


def check_signed_pdf(signed: bytes, original: bytes) -> None:
    """The signer adds its signature as an incremental update: the document we rendered comes back unchanged,
    followed by the signature. Anything else (a different or unsigned document) is refused."""
    if len(signed) <= len(original) or not signed.startswith(original) or b"/ETSI.CAdES.detached" not in signed:
        raise SignedDocumentError("pdf_not_signed")
