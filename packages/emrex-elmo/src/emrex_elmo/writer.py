"""Model to ELMO XML: 1.7.0 by default (2.0.0 on request), in XSD element order.

Rules from receivers, not the XSD: the ELMO namespace is the unprefixed default, the credit scheme is
lowercase `ects`, decimals use a dot and no superfluous zeros, `bday` is a plain date.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Literal, get_args

from lxml import etree

from ._parser import parse_xml
from .errors import ElmoSerializeError
from .model import (
    LOS_TYPE_RANK,
    AcademicTerm,
    Attachment,
    AttachmentType,
    Credit,
    Elmo,
    Groups,
    Identifier,
    Issuer,
    Learner,
    LearningOpportunityInstance,
    LearningOpportunitySpecification,
    Level,
    LocalizedText,
    LocalizedToken,
    Report,
)
from .namespaces import ELMO_NS, XML_NS

OutputVersion = Literal["1.7.0", "2.0.0"]
_ATTACHMENT_TYPES = frozenset(get_args(AttachmentType))
_LANG = f"{{{XML_NS}}}lang"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def format_decimal(value: Decimal) -> str:
    """A decimal as receivers parse it: dot, no exponent, no trailing zeros (`2.5`, `120`)."""
    if not value.is_finite():
        raise ElmoSerializeError(f"decimal {value} is not finite")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_datetime(value: datetime) -> str:
    return value.isoformat()


def _text(value: str) -> str:
    # The same escaping as lxml's serializer; `in` checks first, as most values need none.
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


_ATTRIBUTE_ESCAPES = (
    ("&", "&amp;"),
    ("<", "&lt;"),
    (">", "&gt;"),
    ('"', "&quot;"),
    ("\n", "&#10;"),
    ("\r", "&#13;"),
    ("\t", "&#9;"),
)


def _attribute(value: str) -> str:
    if value.isalnum():  # languages, identifier types: letters and digits need no escape
        return value
    for char, escape in _ATTRIBUTE_ESCAPES:
        if char in value:
            value = value.replace(char, escape)
    return value


def _fragment(fragment: str) -> str:
    # Parsed by the hardened parser (so a fragment is well-formed and safe), then written on its own:
    # every namespace it uses is declared on it.
    return _element_text(parse_xml(fragment))


def _element_text(element: etree._Element) -> str:
    text: str = etree.tostring(element, encoding="unicode")
    start = "<" + (f"{element.prefix}:" if element.prefix else "") + etree.QName(element).localname
    if element.nsmap.get(None) == ELMO_NS:
        # Written inside the ELMO default namespace: its own declaration of it says nothing.
        text = text.replace(f'{start} xmlns="{ELMO_NS}"', start, 1)
    elif None not in element.nsmap:
        # Nor may an element without a default namespace fall into the ELMO one around it.
        text = text.replace(start, start + ' xmlns=""', 1)
    return text


def _under(prefix: str, error: ElmoSerializeError) -> ElmoSerializeError:
    return ElmoSerializeError(error.message, path=f"{prefix}/{error.path}" if error.path else prefix)


class _Writer:
    """Writes the document as text in one pass: building an lxml tree first costs several times more."""

    def __init__(self, version: OutputVersion) -> None:
        self.version = version
        self.out: list[str] = []
        self.opened = -1

    def open(self, name: str, attributes: str = "") -> None:
        self.out.append(f"<{name}{attributes}>")
        self.opened = len(self.out)

    def close(self, name: str) -> None:
        if self.opened == len(self.out):
            # Nothing written since this element's start tag: an empty element, as lxml writes it.
            self.out[-1] = self.out[-1][:-1] + "/>"
            self.opened = -1
        else:
            self.out.append(f"</{name}>")

    def el(self, name: str, text: str | None = None, attributes: str = "") -> None:
        if not text:
            self.out.append(f"<{name}{attributes}/>")
        else:
            self.out.append(f"<{name}{attributes}>{_text(text)}</{name}>")

    def opt(self, name: str, value: str | None) -> None:
        # An empty optional element says nothing and readers treat it as absent: leave it out.
        if value:
            self.out.append(f"<{name}>{_text(value)}</{name}>")

    def identifiers(self, items: Iterable[Identifier]) -> None:
        append = self.out.append
        for ident in items:
            append(f'<identifier type="{_attribute(ident.type)}">{_text(ident.value)}</identifier>')

    def localized(self, name: str, items: Iterable[LocalizedToken | LocalizedText]) -> None:
        append = self.out.append
        for item in items:
            attributes = f' xml:lang="{_attribute(item.lang)}"' if item.lang else ""
            if item.value:
                append(f"<{name}{attributes}>{_text(item.value)}</{name}>")
            else:
                append(f"<{name}{attributes}/>")

    def raw(self, fragments: Iterable[str]) -> None:
        for fragment in fragments:
            self.out.append(_fragment(fragment))

    def extension(self, fragments: list[str]) -> None:
        if fragments:
            self.open("extension")
            self.raw(fragments)
            self.close("extension")

    def document(self, elmo: Elmo) -> str:
        self.open("elmo", f' xmlns="{ELMO_NS}"')
        self.el("generatedDate", format_datetime(elmo.generated_date))
        self.learner(elmo.learner)
        if not elmo.reports:
            raise ElmoSerializeError("ELMO needs at least one report", path="/elmo/report")
        for i, report in enumerate(elmo.reports):
            self.report(report, f"/elmo/report[{i + 1}]")
        for i, attachment in enumerate(elmo.attachments):
            self.attachment(attachment, f"/elmo/attachment[{i + 1}]")
        if elmo.groups is not None:
            self.groups(elmo.groups)
        self.extension(elmo.extension)
        self.close("elmo")
        return "".join(self.out)

    def learner(self, learner: Learner) -> None:
        self.open("learner")
        self.opt("citizenship", learner.citizenship)
        self.identifiers(learner.identifiers)
        self.el("givenNames", learner.given_names)
        self.el("familyName", learner.family_name)
        if self.version == "2.0.0":
            alt = learner.alternative_name or LocalizedText(
                value=f"{learner.given_names} {learner.family_name}".strip()
            )
            self.localized("alternativeName", [alt])
            if learner.bday is not None:
                self.el("dateOfBirth", learner.bday.isoformat())
        elif learner.bday is not None:
            self.el("bday", learner.bday.isoformat())
        self.opt("placeOfBirth", learner.place_of_birth)
        self.opt("birthName", learner.birth_name)
        if learner.current_address is not None:
            # The model holds the whole <currentAddress> element; its children are EWP address fields.
            self.open("currentAddress")
            for child in parse_xml(learner.current_address):
                self.out.append(_element_text(child))
            self.close("currentAddress")
        if learner.gender is not None:
            self.el("gender", str(learner.gender))
        self.close("learner")

    def issuer(self, issuer: Issuer, path: str) -> None:
        self.open("issuer")
        self.opt("country", issuer.country)
        if not issuer.identifiers:
            raise ElmoSerializeError("issuer needs an identifier", path=f"{path}/identifier")
        self.identifiers(issuer.identifiers)
        if not issuer.titles:
            raise ElmoSerializeError("issuer needs a title", path=f"{path}/title")
        self.localized("title", issuer.titles)
        if not issuer.url:
            raise ElmoSerializeError("issuer needs a url", path=f"{path}/url")
        self.el("url", issuer.url)
        self.close("issuer")

    def report(self, report: Report, path: str) -> None:
        self.open("report")
        self.issuer(report.issuer, f"{path}/issuer")
        for i, los in enumerate(report.learning_opportunity_specifications):
            try:
                self.los(los, None)
            except ElmoSerializeError as exc:
                raise _under(f"{path}/learningOpportunitySpecification[{i + 1}]", exc) from None
        if self.version == "2.0.0":
            self.raw(report.results_of_recognition)
        self.el("issueDate", format_datetime(report.issue_date))
        for scheme in report.grading_schemes:
            self.open("gradingScheme", f' localId="{_attribute(scheme.local_id)}"')
            self.localized("description", scheme.descriptions)
            self.close("gradingScheme")
        for i, attachment in enumerate(report.attachments):
            self.attachment(attachment, f"{path}/attachment[{i + 1}]")
        self.close("report")

    def los(self, los: LearningOpportunitySpecification, parent_type: str | None) -> None:
        # Error paths are relative to this LOS; callers prefix their part (paths cost nothing unless raised).
        append = self.out.append
        append("<learningOpportunitySpecification>")
        if self.version == "2.0.0" and not los.identifiers:
            raise ElmoSerializeError("ELMO 2.0 needs a LOS identifier", path="identifier")
        self.identifiers(los.identifiers)
        if not los.titles:
            raise ElmoSerializeError("a learning opportunity needs a title", path="title")
        self.localized("title", los.titles)
        if los.type is not None:
            if los.type not in LOS_TYPE_RANK:
                raise ElmoSerializeError(f"unknown type {los.type!r}", path="type")
            if parent_type is not None and LOS_TYPE_RANK[los.type] < LOS_TYPE_RANK[parent_type]:
                # ELMO XSD: a child must not have a higher type than its parent.
                raise ElmoSerializeError(f"{los.type!r} cannot be part of {parent_type!r}", path="type")
            append(f"<type>{los.type}</type>")
        # `self.opt` inlined on the hot path: most of these are absent.
        if los.subject_area:
            append(f"<subjectArea>{_text(los.subject_area)}</subjectArea>")
        if los.isced_code:
            append(f"<iscedCode>{_text(los.isced_code)}</iscedCode>")
        if los.url:
            append(f"<url>{_text(los.url)}</url>")
        if los.descriptions:
            self.localized("description", los.descriptions)
        if los.descriptions_html:
            self.localized("descriptionHtml", los.descriptions_html)
        append("<specifies>")
        try:
            self.loi(los.specifies)
        except ElmoSerializeError as exc:
            raise _under("specifies/learningOpportunityInstance", exc) from None
        if los.specifies_extension:
            self.extension(los.specifies_extension)
        append("</specifies>")
        for i, child in enumerate(los.has_part):
            append("<hasPart>")
            try:
                self.los(child, los.type or parent_type)
            except ElmoSerializeError as exc:
                raise _under(f"hasPart[{i + 1}]/learningOpportunitySpecification", exc) from None
            append("</hasPart>")
        if los.extension:
            self.extension(los.extension)
        append("</learningOpportunitySpecification>")

    def loi(self, loi: LearningOpportunityInstance) -> None:
        self.open("learningOpportunityInstance")
        append = self.out.append
        if loi.identifiers:
            self.identifiers(loi.identifiers)
        # Dates and the status are ISO or enumerated text: nothing to escape.
        if loi.start is not None:
            append(f"<start>{loi.start.isoformat()}</start>")
        if loi.date is not None:
            append(f"<date>{loi.date.isoformat()}</date>")
        if loi.academic_term is not None:
            self.academic_term(loi.academic_term)
        if loi.status:
            append(f"<status>{loi.status}</status>")
        if loi.grading_scheme_local_id:
            append(f"<gradingSchemeLocalId>{_text(loi.grading_scheme_local_id)}</gradingSchemeLocalId>")
        if self.version == "2.0.0":
            self.opt("gradingSchemeExternalId", loi.grading_scheme_external_id)
        if loi.result_label:
            append(f"<resultLabel>{_text(loi.result_label)}</resultLabel>")
        if loi.shortened_grading is not None:
            self.open("shortenedGrading")
            self.el("percentageLower", format_decimal(loi.shortened_grading.percentage_lower))
            self.el("percentageEqual", format_decimal(loi.shortened_grading.percentage_equal))
            self.el("percentageHigher", format_decimal(loi.shortened_grading.percentage_higher))
            self.close("shortenedGrading")
        if loi.result_distribution is not None:
            self.open("resultDistribution")
            for category in loi.result_distribution.categories:
                self.el("category", None, f' label="{_attribute(category.label)}" count="{category.count}"')
            self.localized("description", loi.result_distribution.descriptions)
            self.close("resultDistribution")
        for i, credit in enumerate(loi.credits):
            self.credit(credit, i)
        for level in loi.levels:
            self.level(level)
        if loi.language_of_instruction:
            append(f"<languageOfInstruction>{_text(loi.language_of_instruction)}</languageOfInstruction>")
        if loi.engagement_hours is not None:
            self.el("engagementHours", format_decimal(loi.engagement_hours))
        if loi.attachment_refs:
            self.open("attachments")
            for ref in loi.attachment_refs:
                self.el("ref", ref)
            self.close("attachments")
        if loi.grouping is not None:
            attributes = ""
            if loi.grouping.typeref is not None:
                attributes += f' typeref="{_attribute(loi.grouping.typeref)}"'
            if loi.grouping.idref is not None:
                attributes += f' idref="{_attribute(loi.grouping.idref)}"'
            self.el("grouping", loi.grouping.value, attributes)
        if loi.extension:
            self.extension(loi.extension)
        if loi.diploma_supplement is not None:
            self.raw([loi.diploma_supplement])
        self.close("learningOpportunityInstance")

    def academic_term(self, term: AcademicTerm) -> None:
        self.open("academicTerm")
        self.localized("title", term.titles)
        self.el("start", term.start.isoformat())
        self.el("end", term.end.isoformat())
        self.close("academicTerm")

    def credit(self, credit: Credit, index: int) -> None:
        level = ""
        if credit.level is not None and self.version == "1.7.0":
            if credit.level not in ("Bachelor", "Master", "PhD"):
                raise ElmoSerializeError(
                    f"credit level {credit.level!r} is not Bachelor, Master or PhD",
                    path=f"credit[{index + 1}]/level",
                )
            level = f"<level>{credit.level}</level>"
        value = "" if credit.value is None else f"<value>{format_decimal(credit.value)}</value>"
        self.out.append(f"<credit><scheme>{_text(credit.scheme)}</scheme>{level}{value}</credit>")

    def level(self, level: Level) -> None:
        if level.description is None:
            value = f"<value>{_text(level.value)}</value>" if level.value else ""
            self.out.append(f"<level><type>{_text(level.type)}</type>{value}</level>")
            return
        self.open("level")
        self.el("type", level.type)
        self.localized("description", [level.description])
        self.opt("value", level.value)
        self.close("level")

    def attachment(self, attachment: Attachment, path: str) -> None:
        self.open("attachment")
        self.identifiers(attachment.identifiers)
        self.localized("title", attachment.titles)
        if attachment.type is not None:
            if attachment.type not in _ATTACHMENT_TYPES:
                raise ElmoSerializeError(f"unknown attachment type {attachment.type!r}", path=f"{path}/type")
            self.el("type", attachment.type)
        self.localized("description", attachment.descriptions)
        self.localized("content", attachment.contents)
        self.extension(attachment.extension)
        self.close("attachment")

    def groups(self, groups: Groups) -> None:
        self.open("groups")
        for group_type in groups.group_types:
            attributes = f' id="{_attribute(group_type.id)}"' if group_type.id is not None else ""
            self.open("groupType", attributes)
            self.localized("title", group_type.titles)
            for group in group_type.groups:
                attributes = f' id="{_attribute(group.id)}"' if group.id is not None else ""
                if group.sorting_key is not None:
                    attributes += f' sortingKey="{_attribute(group.sorting_key)}"'
                self.open("group", attributes)
                self.localized("title", group.titles)
                self.close("group")
            self.close("groupType")
        self.close("groups")


def _encoded(document: str) -> bytes:
    # The model's validators keep characters that XML cannot hold out of every field (at construction and
    # at assignment), so the text needs no second scan here.
    try:
        return document.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ElmoSerializeError(f"text is not valid Unicode: {exc.reason}") from None


def to_element(elmo: Elmo, *, version: OutputVersion = "1.7.0") -> etree._Element:
    """Build the lxml tree of a document (used by signers that need the tree, not bytes)."""
    return parse_xml(to_xml(elmo, version=version), max_bytes=2**31)


def to_xml(elmo: Elmo, *, version: OutputVersion = "1.7.0") -> bytes:
    """Serialize a model as an ELMO document: UTF-8 bytes with an XML declaration.

    Raises:
        ElmoSerializeError: the model lacks data the schema requires; the path names it.
    """
    # The customary declaration that every sample uses (lxml would write single quotes).
    return _DECLARATION + _encoded(_Writer(version).document(elmo))
