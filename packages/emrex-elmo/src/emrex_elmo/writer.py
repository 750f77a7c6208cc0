"""Model to ELMO XML: 1.7.0 by default (2.0.0 on request), in XSD element order.

Rules from receivers, not the XSD: the ELMO namespace is the unprefixed default, the credit scheme is
lowercase `ects`, decimals use a dot and no superfluous zeros, `bday` is a plain date.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Literal

from lxml import etree

from ._parser import parse_xml
from .errors import ElmoSerializeError
from .model import (
    LOS_TYPE_RANK,
    AcademicTerm,
    Attachment,
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
_ATTACHMENT_TYPES = {
    "Diploma", "Diploma Supplement", "Transcript of Records", "EMREX transcript",
    "Micro Credential", "Letter of Nomination", "Certificate of Training", "Learning Agreement",
    "Other",
}
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


class _Writer:
    def __init__(self, version: OutputVersion) -> None:
        self.version = version

    def el(self, parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        node = etree.SubElement(parent, f"{{{ELMO_NS}}}{name}")
        if text is not None:
            node.text = text
        return node

    def opt(self, parent: etree._Element, name: str, value: str | None) -> None:
        # An empty optional element says nothing and readers treat it as absent: leave it out.
        if value:
            self.el(parent, name, value)

    def identifiers(self, parent: etree._Element, items: Iterable[Identifier]) -> None:
        for ident in items:
            self.el(parent, "identifier", ident.value).set("type", ident.type)

    def localized(
        self, parent: etree._Element, name: str, items: Iterable[LocalizedToken | LocalizedText]
    ) -> None:
        for item in items:
            node = self.el(parent, name, item.value)
            if item.lang:
                node.set(_LANG, item.lang)

    def raw(self, parent: etree._Element, fragments: Iterable[str]) -> None:
        for fragment in fragments:
            parent.append(parse_xml(fragment))

    def extension(self, parent: etree._Element, fragments: list[str]) -> None:
        if fragments:
            self.raw(self.el(parent, "extension"), fragments)

    def document(self, elmo: Elmo) -> etree._Element:
        root = etree.Element(f"{{{ELMO_NS}}}elmo", nsmap={None: ELMO_NS})
        self.el(root, "generatedDate", format_datetime(elmo.generated_date))
        self.learner(root, elmo.learner)
        if not elmo.reports:
            raise ElmoSerializeError("ELMO needs at least one report", path="/elmo/report")
        for i, report in enumerate(elmo.reports):
            self.report(root, report, f"/elmo/report[{i + 1}]")
        for i, attachment in enumerate(elmo.attachments):
            self.attachment(root, attachment, f"/elmo/attachment[{i + 1}]")
        if elmo.groups is not None:
            self.groups(root, elmo.groups)
        self.extension(root, elmo.extension)
        return root

    def learner(self, root: etree._Element, learner: Learner) -> None:
        node = self.el(root, "learner")
        self.opt(node, "citizenship", learner.citizenship)
        self.identifiers(node, learner.identifiers)
        self.el(node, "givenNames", learner.given_names)
        self.el(node, "familyName", learner.family_name)
        if self.version == "2.0.0":
            alt = learner.alternative_name or LocalizedText(
                value=f"{learner.given_names} {learner.family_name}".strip()
            )
            self.localized(node, "alternativeName", [alt])
            if learner.bday is not None:
                self.el(node, "dateOfBirth", learner.bday.isoformat())
        elif learner.bday is not None:
            self.el(node, "bday", learner.bday.isoformat())
        self.opt(node, "placeOfBirth", learner.place_of_birth)
        self.opt(node, "birthName", learner.birth_name)
        if learner.current_address is not None:
            # The model holds the whole <currentAddress> element; its children are EWP address fields.
            address = self.el(node, "currentAddress")
            for child in list(parse_xml(learner.current_address)):
                address.append(child)
        if learner.gender is not None:
            self.el(node, "gender", str(learner.gender))

    def issuer(self, parent: etree._Element, issuer: Issuer, path: str) -> None:
        node = self.el(parent, "issuer")
        self.opt(node, "country", issuer.country)
        if not issuer.identifiers:
            raise ElmoSerializeError("issuer needs an identifier", path=f"{path}/identifier")
        self.identifiers(node, issuer.identifiers)
        if not issuer.titles:
            raise ElmoSerializeError("issuer needs a title", path=f"{path}/title")
        self.localized(node, "title", issuer.titles)
        if not issuer.url:
            raise ElmoSerializeError("issuer needs a url", path=f"{path}/url")
        self.el(node, "url", issuer.url)

    def report(self, root: etree._Element, report: Report, path: str) -> None:
        node = self.el(root, "report")
        self.issuer(node, report.issuer, f"{path}/issuer")
        for i, los in enumerate(report.learning_opportunity_specifications):
            self.los(node, los, f"{path}/learningOpportunitySpecification[{i + 1}]", None)
        if self.version == "2.0.0":
            self.raw(node, report.results_of_recognition)
        self.el(node, "issueDate", format_datetime(report.issue_date))
        for scheme in report.grading_schemes:
            gs = self.el(node, "gradingScheme")
            gs.set("localId", scheme.local_id)
            self.localized(gs, "description", scheme.descriptions)
        for i, attachment in enumerate(report.attachments):
            self.attachment(node, attachment, f"{path}/attachment[{i + 1}]")

    def los(
        self,
        parent: etree._Element,
        los: LearningOpportunitySpecification,
        path: str,
        parent_type: str | None,
    ) -> None:
        node = self.el(parent, "learningOpportunitySpecification")
        if self.version == "2.0.0" and not los.identifiers:
            raise ElmoSerializeError("ELMO 2.0 needs a LOS identifier", path=f"{path}/identifier")
        self.identifiers(node, los.identifiers)
        if not los.titles:
            raise ElmoSerializeError("a learning opportunity needs a title", path=f"{path}/title")
        self.localized(node, "title", los.titles)
        if los.type is not None:
            if los.type not in LOS_TYPE_RANK:
                raise ElmoSerializeError(f"unknown type {los.type!r}", path=f"{path}/type")
            if parent_type is not None and LOS_TYPE_RANK[los.type] < LOS_TYPE_RANK[parent_type]:
                # ELMO XSD: a child must not have a higher type than its parent.
                raise ElmoSerializeError(
                    f"{los.type!r} cannot be part of {parent_type!r}", path=f"{path}/type"
                )
            self.el(node, "type", los.type)
        self.opt(node, "subjectArea", los.subject_area)
        self.opt(node, "iscedCode", los.isced_code)
        self.opt(node, "url", los.url)
        self.localized(node, "description", los.descriptions)
        self.localized(node, "descriptionHtml", los.descriptions_html)
        specifies = self.el(node, "specifies")
        self.loi(specifies, los.specifies, f"{path}/specifies/learningOpportunityInstance")
        self.extension(specifies, los.specifies_extension)
        for i, child in enumerate(los.has_part):
            part = self.el(node, "hasPart")
            self.los(
                part, child, f"{path}/hasPart[{i + 1}]/learningOpportunitySpecification",
                los.type or parent_type,
            )
        self.extension(node, los.extension)

    def loi(self, parent: etree._Element, loi: LearningOpportunityInstance, path: str) -> None:
        node = self.el(parent, "learningOpportunityInstance")
        self.identifiers(node, loi.identifiers)
        if loi.start is not None:
            self.el(node, "start", loi.start.isoformat())
        if loi.date is not None:
            self.el(node, "date", loi.date.isoformat())
        if loi.academic_term is not None:
            self.academic_term(node, loi.academic_term)
        self.opt(node, "status", loi.status)
        self.opt(node, "gradingSchemeLocalId", loi.grading_scheme_local_id)
        if self.version == "2.0.0":
            self.opt(node, "gradingSchemeExternalId", loi.grading_scheme_external_id)
        self.opt(node, "resultLabel", loi.result_label)
        if loi.shortened_grading is not None:
            sg = self.el(node, "shortenedGrading")
            self.el(sg, "percentageLower", format_decimal(loi.shortened_grading.percentage_lower))
            self.el(sg, "percentageEqual", format_decimal(loi.shortened_grading.percentage_equal))
            self.el(sg, "percentageHigher", format_decimal(loi.shortened_grading.percentage_higher))
        if loi.result_distribution is not None:
            rd = self.el(node, "resultDistribution")
            for category in loi.result_distribution.categories:
                cat = self.el(rd, "category")
                cat.set("label", category.label)
                cat.set("count", str(category.count))
            self.localized(rd, "description", loi.result_distribution.descriptions)
        for i, credit in enumerate(loi.credits):
            self.credit(node, credit, f"{path}/credit[{i + 1}]")
        for level in loi.levels:
            self.level(node, level)
        self.opt(node, "languageOfInstruction", loi.language_of_instruction)
        if loi.engagement_hours is not None:
            self.el(node, "engagementHours", format_decimal(loi.engagement_hours))
        if loi.attachment_refs:
            refs = self.el(node, "attachments")
            for ref in loi.attachment_refs:
                self.el(refs, "ref", ref)
        if loi.grouping is not None:
            grouping = self.el(node, "grouping", loi.grouping.value)
            if loi.grouping.typeref is not None:
                grouping.set("typeref", loi.grouping.typeref)
            if loi.grouping.idref is not None:
                grouping.set("idref", loi.grouping.idref)
        self.extension(node, loi.extension)
        if loi.diploma_supplement is not None:
            self.raw(node, [loi.diploma_supplement])

    def academic_term(self, parent: etree._Element, term: AcademicTerm) -> None:
        node = self.el(parent, "academicTerm")
        self.localized(node, "title", term.titles)
        self.el(node, "start", term.start.isoformat())
        self.el(node, "end", term.end.isoformat())

    def credit(self, parent: etree._Element, credit: Credit, path: str) -> None:
        node = self.el(parent, "credit")
        self.el(node, "scheme", credit.scheme)
        if credit.level is not None and self.version == "1.7.0":
            if credit.level not in ("Bachelor", "Master", "PhD"):
                raise ElmoSerializeError(
                    f"credit level {credit.level!r} is not Bachelor, Master or PhD",
                    path=f"{path}/level",
                )
            self.el(node, "level", credit.level)
        if credit.value is not None:
            self.el(node, "value", format_decimal(credit.value))

    def level(self, parent: etree._Element, level: Level) -> None:
        node = self.el(parent, "level")
        self.el(node, "type", level.type)
        if level.description is not None:
            self.localized(node, "description", [level.description])
        self.opt(node, "value", level.value)

    def attachment(self, parent: etree._Element, attachment: Attachment, path: str) -> None:
        node = self.el(parent, "attachment")
        self.identifiers(node, attachment.identifiers)
        self.localized(node, "title", attachment.titles)
        if attachment.type is not None:
            if attachment.type not in _ATTACHMENT_TYPES:
                raise ElmoSerializeError(
                    f"unknown attachment type {attachment.type!r}", path=f"{path}/type"
                )
            self.el(node, "type", attachment.type)
        self.localized(node, "description", attachment.descriptions)
        self.localized(node, "content", attachment.contents)
        self.extension(node, attachment.extension)

    def groups(self, parent: etree._Element, groups: Groups) -> None:
        node = self.el(parent, "groups")
        for group_type in groups.group_types:
            gt = self.el(node, "groupType")
            if group_type.id is not None:
                gt.set("id", group_type.id)
            self.localized(gt, "title", group_type.titles)
            for group in group_type.groups:
                g = self.el(gt, "group")
                if group.id is not None:
                    g.set("id", group.id)
                if group.sorting_key is not None:
                    g.set("sortingKey", group.sorting_key)
                self.localized(g, "title", group.titles)


def to_element(elmo: Elmo, *, version: OutputVersion = "1.7.0") -> etree._Element:
    """Build the lxml tree of a document (used by signers that need the tree, not bytes)."""
    return _Writer(version).document(elmo)


def to_xml(elmo: Elmo, *, version: OutputVersion = "1.7.0") -> bytes:
    """Serialize a model as an ELMO document: UTF-8 bytes with an XML declaration.

    Raises:
        ElmoSerializeError: the model lacks data the schema requires; the path names it.
    """
    root = to_element(elmo, version=version)
    # lxml writes the declaration with single quotes; write the customary form that every sample uses.
    body: bytes = etree.tostring(root, encoding="UTF-8")
    return _DECLARATION + body
