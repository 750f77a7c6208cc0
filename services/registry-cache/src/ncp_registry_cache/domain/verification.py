"""Does an ELMO document carry a valid signature by the node it claims to come from?

Only the node's registered certificates count (never KeyInfo), as every EMREX client does; CA
certificates in its bundle do not sign, and the one that matches must be in force now (certificates.py).
"""

from dataclasses import dataclass
from datetime import datetime

from emrex_elmo import (
    Elmo,
    ElmoError,
    SignatureError,
    TransportError,
    from_element,
    parse_xml,
    transport,
    verify_element,
)

from .certificates import signing_candidates, validity_problem
from .emreg import Certificate, Node


class DocumentUnusable(Exception):
    """The input is not a document we can check: the caller must fix it (a 4xx)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: str | None = None
    reason_code: str | None = None
    certificate: Certificate | None = None
    signature_method: str | None = None
    elmo: Elmo | None = None  # read only from a document whose signature verified


def document_bytes(xml: str | None, wire: str | None, *, max_bytes: int) -> bytes:
    if (xml is None) == (wire is None):
        raise DocumentUnusable("invalid_request", "give exactly one of `xml` and `elmo`")
    if wire is not None:
        try:
            return transport.decode(wire, max_bytes=max_bytes)
        except TransportError as exc:
            raise DocumentUnusable("bad_wire_value", f"elmo: {exc.message}") from None
    assert xml is not None
    try:
        data = xml.encode("utf-8")
    except UnicodeEncodeError:
        raise DocumentUnusable("bad_xml", "xml: text holds lone surrogates, which UTF-8 cannot encode") from None
    if len(data) > max_bytes:
        raise DocumentUnusable("too_large", f"xml: document is larger than {max_bytes} bytes")
    return data


def verify_document(data: bytes, node: Node, *, allow_sha1: bool, max_bytes: int, at: datetime) -> Verification:
    """`allow_sha1` is the server's policy; `at` is now (certificates must be in force when checked)."""
    try:
        root = parse_xml(data, max_bytes=max_bytes)
    except ElmoError as exc:
        raise DocumentUnusable("bad_xml", f"xml: {exc.message}") from None
    candidates = signing_candidates(node.certificates, at)
    if not candidates:
        return Verification(False, "the node registers only CA certificates, none to sign with",
                            "no_signing_certificate")
    try:
        verified = verify_element(root, [c.cert for c in candidates], allow_sha1=allow_sha1)
    except SignatureError as exc:
        return Verification(False, _reason(exc, allow_sha1), exc.code)
    matched = next((c for c in candidates if c.cert == verified.certificate), None)
    problem = validity_problem(matched.cert, at) if matched is not None else None
    if problem is not None:
        return Verification(False, problem.message, problem.code, matched, verified.signature_method)
    try:
        # Only what the signature covers: the input tree may hold comments splitting a name or a grade.
        elmo: Elmo | None = from_element(verified.root)
    except ElmoError:
        elmo = None  # signed by the node, but not readable as ELMO: still a valid signature
    return Verification(True, None, None, matched, verified.signature_method, elmo)


def _reason(exc: SignatureError, allow_sha1: bool) -> str:
    if not allow_sha1 and "sha1" in exc.message.lower():
        return f"{exc.message}: this registry-cache does not accept SHA-1 (its operator's policy)"
    return exc.message
