"""Which of a node's registered certificates may verify a document, and whether one is in force.

A `pubKey` bundle may carry the node's chain: a CA certificate in it is not a signing key (unless it is
the bundle's only certificate, as some nodes register a self-issued one). Validity is checked at
verification time: a document's signing time is claimed by the document itself, so it proves nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from .emreg import Certificate


@dataclass(frozen=True)
class Unusable:
    code: str
    message: str


def is_ca(cert: x509.Certificate) -> bool:
    try:
        if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return True
    except x509.ExtensionNotFound:
        pass
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        return False


def signing_candidates(certificates: Sequence[Certificate], at: datetime) -> list[Certificate]:
    """The certificates that may have signed: no CA certificates (unless alone), those in force first."""
    usable = list(certificates) if len(certificates) == 1 else [c for c in certificates if not is_ca(c.cert)]
    return sorted(usable, key=lambda c: validity_problem(c.cert, at) is not None)


def validity_problem(cert: x509.Certificate, at: datetime) -> Unusable | None:
    if at < cert.not_valid_before_utc:
        return Unusable("certificate_not_yet_valid",
                        f"the signing certificate is not valid before {cert.not_valid_before_utc.isoformat()}")
    if at > cert.not_valid_after_utc:
        return Unusable("certificate_expired",
                        f"the signing certificate expired on {cert.not_valid_after_utc.isoformat()}")
    return None
