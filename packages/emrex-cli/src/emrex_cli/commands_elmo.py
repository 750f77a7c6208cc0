"""`emrex validate|decode|encode|verify|show`: working with ELMO documents and wire values.

Every command that reads a document accepts the XML itself or its `elmo` wire value (base64 of gzip), from a
file or from standard input (`-`). Bad input becomes a CliError (one line on stderr, exit code 1).
"""

import argparse
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from cryptography import x509

import emrex_elmo
from emrex_elmo import Elmo, LearningOpportunitySpecification, transport
from emrex_elmo.errors import ElmoError, ElmoSchemaError, SignatureError
from emrex_elmo.vocabulary import walk

from .errors import CliError

_XML_START = (b"<", b"\xef\xbb\xbf<", b"\xff\xfe", b"\xfe\xff")


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    validate = sub.add_parser(
        "validate", help="check a document against the ELMO XSD",
        description="Validate an ELMO document (XML or wire value) against the bundled ELMO XSD. "
        "Exit 0 if valid, 1 with one finding per line on stderr if not.",
    )
    validate.add_argument("file", metavar="FILE", help="XML or wire value; - for standard input")
    validate.add_argument("--schema", choices=emrex_elmo.SCHEMA_VERSIONS, default="1.7.0",
                          help="ELMO schema version (default: %(default)s)")
    validate.set_defaults(handler=_validate)

    decode = sub.add_parser("decode", help="wire value (base64 of gzip) to XML on standard output",
                            description="Decode an `elmo` form value: base64 of gzip of the XML bytes.")
    decode.add_argument("file", metavar="FILE", help="file holding the wire value; - for standard input")
    decode.set_defaults(handler=_decode)

    encode = sub.add_parser("encode", help="XML to wire value (base64 of gzip) on standard output",
                            description="Encode XML bytes as an `elmo` form value; the bytes are not changed.")
    encode.add_argument("file", metavar="FILE", help="XML file; - for standard input")
    encode.set_defaults(handler=_encode)

    verify = sub.add_parser(
        "verify", help="verify the XML signature against a certificate",
        description="Verify the enveloped XMLDSig signature of an ELMO document (XML or wire value) against the "
        "given certificate(s) only; KeyInfo is ignored. Exit 0 only if the signature holds.",
    )
    verify.add_argument("file", metavar="FILE", help="XML or wire value; - for standard input")
    verify.add_argument("--cert", metavar="CERT.pem", action="append", required=True, type=Path,
                        help="trusted certificate (PEM, bundle or DER); may be repeated")
    verify.add_argument("--allow-sha1", action="store_true",
                        help="accept RSA-SHA1/SHA-1 signatures, as older EMPs still make them")
    verify.set_defaults(handler=_verify)

    show = sub.add_parser("show", help="readable summary of a transcript",
                          description="Print the learner, each issuer and a tree of results with credits, "
                          "grades and status, and ECTS totals per report. With --cert the signature is verified "
                          "first and only the signed content is shown; without it nothing is verified.")
    show.add_argument("file", metavar="FILE", help="XML or wire value; - for standard input")
    show.add_argument("--cert", metavar="CERT.pem", action="append", type=Path,
                      help="verify against this trusted certificate first (may be repeated)")
    show.add_argument("--allow-sha1", action="store_true",
                      help="with --cert: accept RSA-SHA1/SHA-1 signatures, as older EMPs still make them")
    show.set_defaults(handler=_show)


def _fail(message: str) -> CliError:
    return CliError(message)


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {name}: {exc.strerror or exc}") from None


def _label(name: str) -> str:
    return "<stdin>" if name == "-" else name


def _document_bytes(name: str) -> bytes:
    """The XML bytes of FILE, which may hold the XML or its wire value."""
    data = _read(name)
    stripped = data.lstrip(b" \t\r\n")
    if not stripped:
        raise _fail(f"{_label(name)}: file is empty")
    if stripped.startswith(_XML_START):
        return data
    try:
        return transport.decode(data)
    except ElmoError as exc:
        raise _fail(f"{_label(name)}: neither XML nor a wire value ({exc})") from None


def _readable(issue: str) -> str:
    # libxml2 names elements as {namespace}name; the ELMO namespace is implied.
    return issue.replace(f"{{{emrex_elmo.ELMO_NS}}}", "")


def _validate(args: argparse.Namespace) -> int:
    label = _label(args.file)
    xml = _document_bytes(args.file)
    try:
        emrex_elmo.validate(emrex_elmo.parse_xml(xml), args.schema)
    except ElmoSchemaError as exc:
        for issue in exc.issues:
            print(f"{label}: {_readable(issue)}", file=sys.stderr)
        print(f"emrex: {label}: not valid against ELMO {args.schema} ({len(exc.issues)} issues)", file=sys.stderr)
        return 1
    except ElmoError as exc:
        raise _fail(f"{label}: {exc}") from None
    print(f"{label}: valid ELMO {args.schema}")
    return 0


def _decode(args: argparse.Namespace) -> int:
    try:
        xml = transport.decode(_read(args.file))
    except ElmoError as exc:
        raise _fail(f"{_label(args.file)}: {exc}") from None
    sys.stdout.flush()
    sys.stdout.buffer.write(xml)
    sys.stdout.buffer.flush()
    return 0


def _encode(args: argparse.Namespace) -> int:
    xml = _read(args.file)
    try:
        # Checked, never changed: the signature covers these exact bytes.
        emrex_elmo.parse_xml(xml)
    except ElmoError as exc:
        raise _fail(f"{_label(args.file)}: {exc}") from None
    print(transport.encode(xml))
    return 0


def _certificates(paths: list[Path]) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    for path in paths:
        try:
            certs.extend(emrex_elmo.load_certificates(path.read_bytes()))
        except OSError as exc:
            raise _fail(f"cannot read {path}: {exc.strerror or exc}") from None
        except ValueError:
            raise _fail(f"{path}: not a PEM or DER certificate") from None
    return certs


def _verified(args: argparse.Namespace) -> emrex_elmo.VerifiedSignature:
    label = _label(args.file)
    certs = _certificates(args.cert)
    xml = _document_bytes(args.file)
    try:
        return emrex_elmo.verify(xml, certs, allow_sha1=args.allow_sha1)
    except SignatureError as exc:
        hint = " (add --allow-sha1 to accept it)" if "sha1" in str(exc) and not args.allow_sha1 else ""
        raise _fail(f"{label}: signature does not hold: {exc}{hint}") from None
    except ElmoError as exc:
        raise _fail(f"{label}: {exc}") from None


def _signature_line(result: emrex_elmo.VerifiedSignature) -> str:
    method = result.signature_method.rsplit("#", 1)[-1]
    signer = result.certificate.subject.rfc4514_string() if result.certificate else "a trusted public key"
    return f"signature OK ({method}, digest {result.digest_method.rsplit('#', 1)[-1]}; signed by {signer})"


def _verify(args: argparse.Namespace) -> int:
    print(f"{_label(args.file)}: {_signature_line(_verified(args))}")
    return 0


def _ects(los: LearningOpportunitySpecification) -> Decimal | None:
    return los.specifies.credit("ects")


def _counted_ects(items: list[LearningOpportunitySpecification]) -> Decimal:
    """Passed ECTS without double counting: a passed node with ECTS counts and covers its descendants."""
    total = Decimal(0)
    for los in items:
        value = _ects(los)
        # A zero (pilot-era degrees carry "0") covers nothing: count what lies below instead.
        if value and los.specifies.passed:
            total += value
        else:
            total += _counted_ects(los.has_part)
    return total


def _title(titles: list[emrex_elmo.LocalizedToken]) -> str:
    if not titles:
        return "(untitled)"
    english = next((t for t in titles if (t.lang or "").lower().startswith("en")), None)
    first = titles[0]
    if english is not None and english is not first:
        return f"{first.value} / {english.value}"
    return first.value


def _los_lines(items: list[LearningOpportunitySpecification], prefix: str) -> Iterator[str]:
    for i, los in enumerate(items):
        last = i == len(items) - 1
        loi = los.specifies
        facts = []
        if los.type:
            facts.append(los.type)
        for credit in loi.credits:
            if credit.value is not None:
                scheme = "ECTS" if credit.scheme == "ects" else credit.scheme
                facts.append(f"{emrex_elmo.format_decimal(credit.value)} {scheme}")
        if loi.result_label:
            facts.append(f"grade {loi.result_label}")
        facts.append(loi.status or "passed (implied)")
        when = loi.date or (loi.academic_term.end if loi.academic_term else None)
        if when:
            facts.append(when.isoformat())
        yield f"{prefix}{'└─ ' if last else '├─ '}{_title(los.titles)}  [{', '.join(facts)}]"
        yield from _los_lines(los.has_part, prefix + ("   " if last else "│  "))


def _summary(elmo: Elmo, signature: str) -> Iterator[str]:
    learner = elmo.learner
    name = " ".join(part for part in (learner.given_names, learner.family_name) if part) or "(no name)"
    born = f", born {learner.bday.isoformat()}" if learner.bday else ""
    citizen = f", citizen of {learner.citizenship}" if learner.citizenship else ""
    yield f"Learner:   {name}{born}{citizen}"
    for ident in learner.identifiers:
        yield f"           {ident.type}: {ident.value}"
    yield f"Generated: {elmo.generated_date.isoformat()}"
    yield f"Signature: {signature}"
    total_all = Decimal(0)
    for n, report in enumerate(elmo.reports, start=1):
        issuer = report.issuer
        ids = ", ".join(f"{i.type} {i.value}" for i in issuer.identifiers)
        country = f", {issuer.country}" if issuer.country else ""
        yield ""
        yield f"Report {n}: {_title(issuer.titles)}{country} ({ids or 'no identifier'})"
        yield f"  issued {report.issue_date.isoformat()}"
        if issuer.url:
            yield f"  {issuer.url}"
        items = report.learning_opportunity_specifications
        yield from _los_lines(items, "  ")
        total = _counted_ects(items)
        total_all += total
        count = sum(1 for _ in walk(items))
        yield f"  Total: {emrex_elmo.format_decimal(total)} ECTS passed, {count} learning opportunities"
    attachments = elmo.attachments + [a for r in elmo.reports for a in r.attachments]
    if attachments:
        yield ""
    for attachment in attachments:
        title = f" {_title(attachment.titles)!r}" if attachment.titles else ""
        yield f"Attachment: {attachment.type or 'untyped'}{title}{_contents(attachment)}"
    if len(elmo.reports) > 1:
        yield ""
        yield f"All reports: {emrex_elmo.format_decimal(total_all)} ECTS passed"


def _contents(attachment: emrex_elmo.Attachment) -> str:
    parts = []
    for content in attachment.contents:
        head, _, data = content.value.partition(",")
        if head.startswith("data:") and head.endswith(";base64"):
            parts.append(f"{head[5:-7] or 'data'}, about {len(data) * 3 // 4 // 1024 + 1} KiB")
        else:
            parts.append(f"{len(content.value)} characters")
    return f" ({'; '.join(parts)})" if parts else ""


def _show(args: argparse.Namespace) -> int:
    try:
        if args.cert:
            # Only what the signature covers is read: comments, a ds:Object, anything unsigned never shows.
            result = _verified(args)
            elmo = emrex_elmo.from_element(result.root)
            signature = _signature_line(result) + "; shown: the signed content only"
        else:
            if args.allow_sha1:
                raise _fail("--allow-sha1 needs --cert")
            root = emrex_elmo.parse_xml(_document_bytes(args.file))
            elmo = emrex_elmo.from_element(root)
            signed = emrex_elmo.is_signed(root)
            signature = "present, NOT verified (add --cert to verify it)" if signed else "none"
    except ElmoError as exc:
        raise _fail(f"{_label(args.file)}: {exc}") from None
    for line in _summary(elmo, signature):
        print(line)
    return 0
