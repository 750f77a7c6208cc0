"""ELMO XML (1.0-1.7, 2.0, and the 2015 pilot namespace) to the model.

Reads by element name, not position, and tolerates what real EMPs send (whitespace around values,
a date where a dateTime belongs, unknown elements), as the XSD asks clients to. What cannot be read
raises ElmoParseError with the path of the element at fault.

One pass over the tree builds the models directly (`_trusted.build`), with the model's value checks applied by
`_trusted.Checks` (issue 13): on a 5,000-course transcript a per-element child index, intermediate dicts and a
pydantic validation of the whole document (77,000 calls of the Python text validators) were most of the parse.
Each element's children are sorted by tag in one loop and then read in a fixed order, the order this reader has
always used, so that of several faults the same one is reported first whatever the order in the document.
"""

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from lxml import etree
from pydantic import ValidationError

from ._lexical import read_date, read_datetime, read_decimal, read_pilot_date
from ._parser import DEFAULT_MAX_BYTES, parse_xml, whole_text
from ._trusted import Checks, Stored, build, builder
from .errors import ElmoParseError, WrongNamespaceError
from .model import (
    AcademicTerm,
    Attachment,
    Credit,
    Elmo,
    GradingScheme,
    Group,
    Grouping,
    Groups,
    GroupType,
    Identifier,
    Issuer,
    Learner,
    LearningOpportunityInstance,
    LearningOpportunitySpecification,
    Level,
    LocalizedText,
    LocalizedToken,
    Report,
    ResultCategory,
    ResultDistribution,
    ShortenedGrading,
)
from .namespaces import DSIG_NS, ELMO_NS, ELMO_PILOT_NS, XML_NS

T = TypeVar("T")
Element: TypeAlias = etree._Element
Children = dict[str, list[Element]]

_LANG = f"{{{XML_NS}}}lang"
_STATUSES = (None, "passed", "failed", "in-progress")
_GENDERS = (None, 0, 1, 2, 9)
# `(children.get(tag) or _MISSING)[0]`: the first child with a tag, or None, without a Python-level call.
_MISSING: list[Element | None] = [None]
_NONE: list[Element] = []  # read only: the children with a tag an element does not have
# The hot paths' models, each built by its own `build` (one per class, without build's class lookup).
_new_identifier = builder(Identifier)
_new_token = builder(LocalizedToken)
_new_credit = builder(Credit)
_new_level = builder(Level)
_new_loi = builder(LearningOpportunityInstance)
_new_los = builder(LearningOpportunitySpecification)


class _Tags:
    """The qualified names of ELMO's elements in one namespace: `tags.title` is "{ns}title"."""

    def __init__(self, ns: str) -> None:
        for name in (
            "academicTerm", "alternativeName", "attachment", "attachments", "bday", "birthName", "category",
            "citizenship", "content", "credit", "currentAddress", "date", "dateOfBirth", "description",
            "descriptionHtml", "diplomaSupplement", "end", "engagementHours", "extension", "familyName", "gender",
            "generatedDate", "givenNames", "gradingScheme", "gradingSchemeExternalId", "gradingSchemeLocalId",
            "group", "groupType", "groups", "grouping", "hasPart", "identifier", "iscedCode", "issueDate", "issuer",
            "country", "languageOfInstruction", "learner", "learningOpportunityInstance",
            "learningOpportunitySpecification", "level", "percentageEqual", "percentageHigher", "percentageLower",
            "placeOfBirth", "ref", "report", "result", "resultDistribution", "resultLabel", "resultOfRecognition",
            "scheme", "shortenedGrading", "specifies", "start", "status", "subjectArea", "title", "type", "url",
            "value",
        ):
            setattr(self, name, f"{{{ns}}}{name}")
        # The hot loops' tags, unpacked in one step.
        self.los_tags = (
            self.title, self.identifier, self.specifies, self.type, self.subjectArea, self.hasPart, self.description,
        )
        self.loi_tags = (
            self.start, self.date, self.status, self.gradingSchemeLocalId, self.resultLabel, self.credit, self.level,
            self.languageOfInstruction,
        )
        self.credit_tags = (self.scheme, self.value, self.level)
        self.level_tags = (self.type, self.value, self.description)

    if TYPE_CHECKING:
        # For mypy only: every name is set in __init__. At run time a `__getattr__` would slow every lookup.
        def __getattr__(self, name: str) -> str: ...


@cache
def _tags(ns: str) -> _Tags:
    return _Tags(ns)


def _path(el: Element) -> str:
    parts: list[str] = []
    node: Element | None = el
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))


def _canonical(el: Element) -> str:
    # Exclusive C14N drops namespace declarations the fragment does not use: stable round trips.
    text: bytes = etree.tostring(el, method="c14n", exclusive=True, with_comments=False)
    return text.decode("utf-8")


def _children(el: Element) -> Children:
    """An element's child elements by tag, in document order (for elements read once or twice per document)."""
    index: Children = {}
    for child in el[:]:
        tag = child.tag
        if isinstance(tag, str):
            index.setdefault(tag, []).append(child)
    return index


def _first(kids: Children, tag: str) -> Element | None:
    return (kids.get(tag) or _MISSING)[0]


def _need(el: Element, kids: Children, tag: str) -> Element:
    child = (kids.get(tag) or _MISSING)[0]
    if child is None:
        raise ElmoParseError(f"required element <{etree.QName(tag).localname}> is missing", path=_path(el))
    return child


def _whole(el: Element) -> str:
    # Never `el.text` alone: it stops at a comment, and comments are outside a signature's digest (issue 11 §1).
    if not len(el):  # no child node at all (comments and PIs count): `.text` is the whole text
        return el.text or ""
    value = whole_text(el)
    if value is None:
        raise ElmoParseError("an element holds elements where only text belongs", path=_path(el))
    return value


def _text(el: Element | None) -> str | None:
    if el is None:
        return None
    if not len(el):
        return (el.text or "").strip()
    return _whole(el).strip()


def _nonempty(el: Element | None) -> str | None:
    if el is None:
        return None
    if not len(el):
        return (el.text or "").strip() or None
    return _whole(el).strip() or None


def _token_of(token: Stored, el: Element | None) -> str | None:
    """`token[_nonempty(el)]` or None, in one call (the hot path reads about 35,000 of them)."""
    if el is None:
        return None
    value = (el.text or "").strip() if not len(el) else _whole(el).strip()
    return token[value] if value else None


def _not_valid(value: str, what: str, el: Element) -> ElmoParseError:
    return ElmoParseError(f"{value[:40]!r} is not a valid {what}", path=_path(el))


def _extension(ext: Element | None) -> list[str]:
    if ext is None:
        return []
    return [_canonical(c) for c in ext if isinstance(c.tag, str)]


class _Reader:
    def __init__(self, ns: str) -> None:
        self.pilot = ns == ELMO_PILOT_NS
        self.tags = _tags(ns)
        self.checks = Checks()
        # Dates and decimals repeat across courses: each distinct one is read once (the values are immutable).
        self.days: dict[str, date] = {}
        self.decimals: dict[str, Decimal] = {}

    def conv(self, el: Element | None, fn: Callable[[str], T], what: str) -> T | None:
        value = _nonempty(el)
        if value is None or el is None:
            return None
        try:
            return fn(value)
        except (ValueError, InvalidOperation):
            raise _not_valid(value, what, el) from None

    def day(self, el: Element | None) -> date | None:
        """An optional xs:date; 2015 pilot documents may give a Java `dtf` pattern or free text instead."""
        if el is None:
            return None
        value = (el.text or "").strip() if not len(el) else _whole(el).strip()  # _nonempty, inline: hot
        if not value:
            return None
        if self.pilot:
            return read_pilot_date(value, el.get("dtf"))
        day = self.days.get(value)
        if day is None:
            try:
                day = self.days[value] = read_date(value)
            except ValueError:
                raise _not_valid(value, "date", el) from None
        return day

    def decimal(self, el: Element | None) -> Decimal | None:
        if el is None:
            return None
        value = (el.text or "").strip() if not len(el) else _whole(el).strip()  # _nonempty, inline: hot
        if not value:
            return None
        number = self.decimals.get(value)
        if number is None:
            try:
                number = self.decimals[value] = read_decimal(value)
            except (ValueError, InvalidOperation):
                raise _not_valid(value, "decimal", el) from None
        return number

    # Lists of small values: identifiers, localized tokens and texts.

    # Identifier values and titles are mostly distinct: looking each up in the token cache would only fill it. A
    # stripped value that is printable and holds no double space is its own stored form (model._token's first
    # test, `.strip()` having removed the ends); any other value takes the cache and its full check.

    def identifiers(self, nodes: list[Element]) -> list[Identifier]:
        token = self.checks.token
        out = []
        for node in nodes:
            value = (node.text or "").strip() if not len(node) else _whole(node).strip()
            if value:
                out.append(_new_identifier({
                    "type": token[node.get("type") or "unknown"],
                    "value": value if value.isprintable() and "  " not in value else token[value],
                }))
        return out

    def tokens(self, nodes: list[Element]) -> list[LocalizedToken]:
        token = self.checks.token
        out = []
        for node in nodes:
            value = (node.text or "").strip() if not len(node) else _whole(node).strip()
            if value:
                lang = node.get(_LANG)
                out.append(_new_token({
                    "value": value if value.isprintable() and "  " not in value else token[value],
                    "lang": None if lang is None else token[lang],
                }))
        return out

    def texts(self, nodes: list[Element]) -> list[LocalizedText]:
        checks = self.checks
        out = []
        for node in nodes:
            value = _whole(node)
            if value.strip():
                lang = node.get(_LANG)
                out.append(build(LocalizedText, {"value": checks.text[value], "lang": checks.opt_token(lang)}))
        return out

    # The document, top down.

    def document(self, root: Element) -> Elmo:
        t = self.tags
        kids = _children(root)
        reports = kids.get(t.report, _NONE)
        if self.pilot and t.generatedDate not in kids:
            # The 2015 pilot schema has no generatedDate; the newest issueDate stands in for it.
            issued = [self.conv(_first(_children(r), t.issueDate), read_datetime, "dateTime") for r in reports]
            generated = max((d for d in issued if d), key=lambda d: d.replace(tzinfo=None), default=None)
            if generated is None:
                raise ElmoParseError("neither <generatedDate> nor <issueDate> is present", path=_path(root))
        else:
            generated = self.conv(_need(root, kids, t.generatedDate), read_datetime, "dateTime")
        if generated is None:
            raise ElmoParseError("generatedDate is empty", path=_path(root) + "/generatedDate")
        learner_el = _first(kids, t.learner)
        if learner_el is None:
            # Pilot documents nest the learner in each report.
            nested = [r.find(t.learner) for r in reports]
            learner_el = next((n for n in nested if n is not None and len(n)), None)
        if learner_el is None:
            raise ElmoParseError("required element <learner> is missing", path=_path(root))
        groups_el = _first(kids, t.groups)
        elmo = build(Elmo, {
            "generated_date": generated,
            "learner": self.learner(learner_el),
            "reports": [self.report(r) for r in reports],
            "attachments": [self.attachment(a) for a in kids.get(t.attachment, _NONE)],
            "groups": self.groups(groups_el) if groups_el is not None else None,
            "extension": _extension(_first(kids, t.extension)),
        })
        if self.checks.suspect:
            # A value a model check refuses: let pydantic validate the document and name the fault.
            return Elmo.model_validate(elmo.model_dump())
        return elmo

    def learner(self, el: Element) -> Learner:
        t, checks = self.tags, self.checks
        kids = _children(el)
        gender = self.conv(_first(kids, t.gender), int, "gender code")
        if gender not in _GENDERS:
            raise ElmoParseError(f"gender {gender} is not 0, 1, 2 or 9", path=_path(el) + "/gender")
        alt = _first(kids, t.alternativeName)
        alt_value = _whole(alt) if alt is not None else ""
        address = _first(kids, t.currentAddress)
        bday_el = _first(kids, t.bday)
        if bday_el is None:
            bday_el = _first(kids, t.dateOfBirth)
        return build(Learner, {
            "citizenship": _token_of(checks.token, _first(kids, t.citizenship)),
            "identifiers": self.identifiers(kids.get(t.identifier, _NONE)),
            "given_names": checks.token[_text(_first(kids, t.givenNames)) or ""],
            "family_name": checks.token[_text(_first(kids, t.familyName)) or ""],
            "alternative_name": (
                build(LocalizedText, {"value": checks.text[alt_value], "lang": checks.opt_token(alt.get(_LANG))})
                if alt is not None and alt_value.strip()
                else None
            ),
            "bday": self.day(bday_el),
            "place_of_birth": _token_of(checks.token, _first(kids, t.placeOfBirth)),
            "birth_name": _token_of(checks.token, _first(kids, t.birthName)),
            "current_address": _canonical(address) if address is not None else None,
            "gender": gender,
        })

    def issuer(self, el: Element) -> Issuer:
        t, checks = self.tags, self.checks
        kids = _children(el)
        return build(Issuer, {
            "country": _token_of(checks.token, _first(kids, t.country)),
            "identifiers": self.identifiers(kids.get(t.identifier, _NONE)),
            "titles": self.tokens(kids.get(t.title, _NONE)),
            "url": _token_of(checks.token, _first(kids, t.url)),
        })

    def report(self, el: Element) -> Report:
        t = self.tags
        kids = _children(el)
        issue = self.conv(_need(el, kids, t.issueDate), read_datetime, "dateTime")
        if issue is None:
            raise ElmoParseError("issueDate is empty", path=_path(el) + "/issueDate")
        schemes = []
        for gs in kids.get(t.gradingScheme, _NONE):
            local_id = gs.get("localId")
            if not local_id:
                raise ElmoParseError("gradingScheme needs a localId", path=_path(gs))
            schemes.append(build(GradingScheme, {
                "local_id": self.checks.token[local_id],
                "descriptions": self.texts(_children(gs).get(t.description, _NONE)),
            }))
        return build(Report, {
            "issuer": self.issuer(_need(el, kids, t.issuer)),
            "learning_opportunity_specifications": [
                self.los(n) for n in kids.get(t.learningOpportunitySpecification, _NONE)
            ],
            "issue_date": issue,
            "grading_schemes": schemes,
            "attachments": [self.attachment(a) for a in kids.get(t.attachment, _NONE)],
            "results_of_recognition": [_canonical(n) for n in kids.get(t.resultOfRecognition, _NONE)],
        })

    def los(self, el: Element) -> LearningOpportunitySpecification:
        # The hot path of large transcripts (with loi, credit and level): children sorted in one loop.
        t, checks = self.tags, self.checks
        t_title, t_identifier, t_specifies, t_type, t_subject, t_has_part, t_description = t.los_tags
        identifiers: list[Element] = []
        titles: list[Element] = []
        descriptions: list[Element] = []
        descriptions_html: list[Element] = []
        has_part: list[Element] = []
        credits: list[Element] = []
        type_el = subject_el = isced_el = url_el = specifies = ext = None
        for c in el[:]:
            tag = c.tag
            if tag == t_title:
                titles.append(c)
            elif tag == t_identifier:
                identifiers.append(c)
            elif tag == t_specifies:
                if specifies is None:
                    specifies = c
            elif tag == t_type:
                if type_el is None:
                    type_el = c
            elif tag == t_subject:
                if subject_el is None:
                    subject_el = c
            elif tag == t_has_part:
                has_part.append(c)
            elif tag == t_description:
                descriptions.append(c)
            elif tag == t.descriptionHtml:
                descriptions_html.append(c)
            elif tag == t.iscedCode:
                if isced_el is None:
                    isced_el = c
            elif tag == t.url:
                if url_el is None:
                    url_el = c
            elif tag == t.extension:
                if ext is None:
                    ext = c
            elif tag == t.credit:
                credits.append(c)
        if specifies is None:
            raise ElmoParseError("required element <specifies> is missing", path=_path(el))
        loi = spec_ext = None
        for c in specifies[:]:
            tag = c.tag
            if tag == t.learningOpportunityInstance:
                if loi is None:
                    loi = c
            elif tag == t.extension and spec_ext is None:
                spec_ext = c
        if loi is None:
            raise ElmoParseError("required element <learningOpportunityInstance> is missing", path=_path(specifies))
        if has_part:
            t_los = t.learningOpportunitySpecification
            parts = [self.los(child) for part in has_part for child in part[:] if child.tag == t_los]
        else:
            parts = []
        token = checks.token
        return _new_los({
            "identifiers": self.identifiers(identifiers) if identifiers else [],
            "titles": self.tokens(titles) if titles else [],
            "type": None if type_el is None else _token_of(token, type_el),
            "subject_area": None if subject_el is None else _token_of(token, subject_el),
            "isced_code": None if isced_el is None else _token_of(token, isced_el),
            "url": None if url_el is None else _token_of(token, url_el),
            "descriptions": self.texts(descriptions) if descriptions else [],
            "descriptions_html": self.texts(descriptions_html) if descriptions_html else [],
            # The 2015 pilot schema puts <credit> on the specification, not on the instance.
            "specifies": self.loi(loi, credits if self.pilot else _NONE),
            "specifies_extension": [] if spec_ext is None else _extension(spec_ext),
            "has_part": parts,
            "extension": [] if ext is None else _extension(ext),
        })

    def loi(self, el: Element, pilot_credits: list[Element]) -> LearningOpportunityInstance:
        t, checks = self.tags, self.checks
        t_start, t_date, t_status, t_local_id, t_label, t_credit, t_level, t_language = t.loi_tags
        identifiers: list[Element] = []
        credits: list[Element] = []
        levels: list[Element] = []
        start_el = date_el = status_el = local_id_el = label_el = language_el = None
        term_el = external_id_el = result_el = shortened_el = distribution_el = hours_el = refs_el = None
        grouping_el = ext = diploma_supplement = None
        for c in el[:]:
            tag = c.tag
            if tag == t_start:
                if start_el is None:
                    start_el = c
            elif tag == t_date:
                if date_el is None:
                    date_el = c
            elif tag == t_status:
                if status_el is None:
                    status_el = c
            elif tag == t_local_id:
                if local_id_el is None:
                    local_id_el = c
            elif tag == t_label:
                if label_el is None:
                    label_el = c
            elif tag == t_credit:
                credits.append(c)
            elif tag == t_level:
                levels.append(c)
            elif tag == t_language:
                if language_el is None:
                    language_el = c
            elif tag == t.identifier:
                identifiers.append(c)
            elif tag == t.academicTerm:
                if term_el is None:
                    term_el = c
            elif tag == t.gradingSchemeExternalId:
                if external_id_el is None:
                    external_id_el = c
            elif tag == t.result:
                if result_el is None:
                    result_el = c
            elif tag == t.shortenedGrading:
                if shortened_el is None:
                    shortened_el = c
            elif tag == t.resultDistribution:
                if distribution_el is None:
                    distribution_el = c
            elif tag == t.engagementHours:
                if hours_el is None:
                    hours_el = c
            elif tag == t.attachments:
                if refs_el is None:
                    refs_el = c
            elif tag == t.grouping:
                if grouping_el is None:
                    grouping_el = c
            elif tag == t.extension:
                if ext is None:
                    ext = c
            elif tag == t.diplomaSupplement and diploma_supplement is None:
                diploma_supplement = c

        status = _nonempty(status_el)
        if status not in _STATUSES:
            raise ElmoParseError(f"unknown status {status!r}", path=_path(el) + "/status")
        term = None
        if term_el is not None:
            term_kids = _children(term_el)
            start = self.day(_need(term_el, term_kids, t.start))
            end = self.day(_need(term_el, term_kids, t.end))
            if start is not None and end is not None:
                term = build(AcademicTerm, {
                    "titles": self.tokens(term_kids.get(t.title, _NONE)), "start": start, "end": end,
                })
        token = checks.token
        # Absent elements are common: `None if x is None else ...` saves a call for each.
        values = {
            "identifiers": self.identifiers(identifiers) if identifiers else [],
            "start": None if start_el is None else self.day(start_el),
            "date": None if date_el is None else self.day(date_el),
            "academic_term": term,
            "status": status,
            "grading_scheme_local_id": None if local_id_el is None else _token_of(token, local_id_el),
            "grading_scheme_external_id": None if external_id_el is None else _token_of(token, external_id_el),
            "result_label": (
                checks.opt_token(_nonempty(label_el) or _nonempty(result_el)) if self.pilot
                else None if label_el is None else _token_of(token, label_el)
            ),
            "shortened_grading": self.shortened(shortened_el) if shortened_el is not None else None,
            "result_distribution": self.distribution(distribution_el) if distribution_el is not None else None,
            "credits": list(map(self.credit, credits)) if credits else [],
            "levels": list(map(self.level, levels)) if levels else [],
            "language_of_instruction": None if language_el is None else _token_of(token, language_el),
            "engagement_hours": None if hours_el is None else self.decimal(hours_el),
            "attachment_refs": (
                [checks.text[_whole(r)] for r in _children(refs_el).get(t.ref, _NONE)] if refs_el is not None else []
            ),
            "grouping": (
                build(Grouping, {
                    "typeref": checks.opt_text(grouping_el.get("typeref")),
                    "idref": checks.opt_text(grouping_el.get("idref")),
                    "value": checks.text[_whole(grouping_el)],
                })
                if grouping_el is not None
                else None
            ),
            "extension": [] if ext is None else _extension(ext),
            "diploma_supplement": _canonical(diploma_supplement) if diploma_supplement is not None else None,
        }
        if pilot_credits and not values["credits"]:
            values["credits"] = [self.credit(c) for c in pilot_credits]
        return _new_loi(values)

    def credit(self, el: Element) -> Credit:
        t_scheme, t_value, t_level = self.tags.credit_tags
        scheme = value = level = None
        for c in el[:]:
            tag = c.tag
            if tag == t_scheme:
                if scheme is None:
                    scheme = c
            elif tag == t_value:
                if value is None:
                    value = c
            elif tag == t_level and level is None:
                level = c
        if scheme is None:
            raise ElmoParseError("required element <scheme> is missing", path=_path(el))
        checks = self.checks
        return _new_credit({
            "scheme": checks.scheme[(scheme.text or "").strip() if not len(scheme) else _whole(scheme).strip()],
            "level": None if level is None else _token_of(checks.token, level),
            "value": None if value is None else self.decimal(value),
        })

    def level(self, el: Element) -> Level:
        t_type, t_value, t_description = self.tags.level_tags
        type_el = value = description = None
        for c in el[:]:
            tag = c.tag
            if tag == t_type:
                if type_el is None:
                    type_el = c
            elif tag == t_value:
                if value is None:
                    value = c
            elif tag == t_description and description is None:
                description = c
        if type_el is None:
            raise ElmoParseError("required element <type> is missing", path=_path(el))
        checks = self.checks
        return _new_level({
            "type": checks.token[(type_el.text or "").strip() if not len(type_el) else _whole(type_el).strip()],
            "description": (
                build(LocalizedText, {
                    "value": checks.text[_whole(description)], "lang": checks.opt_token(description.get(_LANG)),
                })
                if description is not None
                else None
            ),
            "value": None if value is None else _token_of(checks.token, value),
        })

    def shortened(self, el: Element) -> ShortenedGrading:
        t = self.tags
        kids = _children(el)

        def pct(tag: str) -> Decimal:
            value = self.decimal(_need(el, kids, tag))
            if value is None:
                raise ElmoParseError(f"<{etree.QName(tag).localname}> is empty", path=_path(el))
            return value

        return build(ShortenedGrading, {
            "percentage_lower": pct(t.percentageLower),
            "percentage_equal": pct(t.percentageEqual),
            "percentage_higher": pct(t.percentageHigher),
        })

    def distribution(self, el: Element) -> ResultDistribution:
        t = self.tags
        kids = _children(el)
        categories = []
        for cat in kids.get(t.category, _NONE):
            try:
                count = int(cat.get("count", ""))
            except ValueError:
                raise ElmoParseError("category count is not a number", path=_path(cat)) from None
            if count < 0:
                self.checks.other_fault = True  # ResultCategory.count >= 0
            label = self.checks.token[cat.get("label") or ""]
            categories.append(build(ResultCategory, {"label": label, "count": count}))
        if not categories:
            self.checks.other_fault = True  # ResultDistribution needs a category
        return build(ResultDistribution, {
            "categories": categories, "descriptions": self.texts(kids.get(t.description, _NONE)),
        })

    def attachment(self, el: Element) -> Attachment:
        t = self.tags
        kids = _children(el)
        return build(Attachment, {
            "identifiers": self.identifiers(kids.get(t.identifier, _NONE)),
            "titles": self.tokens(kids.get(t.title, _NONE)),
            "type": _token_of(self.checks.token, _first(kids, t.type)),
            "descriptions": self.texts(kids.get(t.description, _NONE)),
            "contents": self.tokens(kids.get(t.content, _NONE)),
            "extension": _extension(_first(kids, t.extension)),
        })

    def groups(self, el: Element) -> Groups:
        t, checks = self.tags, self.checks
        group_types = []
        for gt in _children(el).get(t.groupType, _NONE):
            gt_kids = _children(gt)
            titles = self.tokens(gt_kids.get(t.title, _NONE))
            groups = []
            for g in gt_kids.get(t.group, _NONE):
                g_titles = self.tokens(_children(g).get(t.title, _NONE))
                checks.other_fault = checks.other_fault or not g_titles  # Group needs a title
                groups.append(build(Group, {
                    "id": checks.opt_text(g.get("id")),
                    "sorting_key": checks.opt_text(g.get("sortingKey")),
                    "titles": g_titles,
                }))
            checks.other_fault = checks.other_fault or not titles  # GroupType needs a title
            group_types.append(build(GroupType, {
                "id": checks.opt_text(gt.get("id")), "titles": titles, "groups": groups,
            }))
        return build(Groups, {"group_types": group_types})


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    # A large transcript allocates a few hundred thousand objects, none of which is garbage before the model is
    # complete; the cyclic collector kept traversing them and took half the parse time at 5,000 courses (see
    # bench/). Services parse in several threads at once, so pauses are counted: the last one out restores the
    # state the first one found (a collector someone else disabled stays disabled).
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def from_element(root: Element) -> Elmo:
    """Read an already parsed (hardened) tree into the model."""
    qname = etree.QName(root)
    if qname.namespace not in (ELMO_NS, ELMO_PILOT_NS):
        found = f"namespace {qname.namespace}" if qname.namespace else "no namespace"
        raise WrongNamespaceError(
            f"root <{qname.localname}> has {found}, expected <elmo> in {ELMO_NS}",
            path="/" + qname.localname,
        )
    if qname.localname != "elmo":
        raise ElmoParseError(f"root element is <{qname.localname}>, expected <elmo>", path="/")
    try:
        with _collector_paused():
            return _Reader(qname.namespace).document(root)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ElmoParseError(f"{first['msg']} ({where})", path="/elmo") from None


def from_xml(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Elmo:
    """Parse untrusted ELMO XML into the model.

    Raises:
        XmlSecurityError: DOCTYPE, entities or oversize input.
        XmlSyntaxError: not well-formed.
        ElmoParseError: not a readable ELMO document (WrongNamespaceError for other vocabularies).
    """
    return from_element(parse_xml(data, max_bytes=max_bytes))


def is_signed(root: Element) -> bool:
    return root.find(f"{{{DSIG_NS}}}Signature") is not None
