"""ELMO XML (1.0-1.7, 2.0, and the 2015 pilot namespace) to the model.

Reads by element name, not position, and tolerates what real EMPs send (whitespace around values,
a date where a dateTime belongs, unknown elements), as the XSD asks clients to. What cannot be read
raises ElmoParseError with the path of the element at fault.
"""

import gc
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from lxml import etree
from pydantic import ValidationError

from ._parser import DEFAULT_MAX_BYTES, parse_xml, whole_text
from .errors import ElmoParseError, WrongNamespaceError
from .model import Elmo
from .namespaces import DSIG_NS, ELMO_NS, ELMO_PILOT_NS, XML_NS

T = TypeVar("T")
# The reader collects plain field dicts and validates the whole document once at the end: pydantic-core
# builds the nested models far faster than one Python-level __init__ per element (see bench/).
Fields = dict[str, object]


def _fields(**values: object) -> Fields:
    return values

_LANG = f"{{{XML_NS}}}lang"
Children = dict[str, list[etree._Element]]
# `(children.get(tag) or _MISSING)[0]`: the first child with a tag, or None, without a Python-level call.
_MISSING: list[etree._Element | None] = [None]


class _Names(dict[str, str]):
    """`names["status"]` is "{ns}status", built once per name."""

    def __init__(self, ns: str) -> None:
        super().__init__()
        self.ns = ns

    def __missing__(self, name: str) -> str:
        qname = self[name] = f"{{{self.ns}}}{name}"
        return qname
_FRACTION = re.compile(r"(\.\d{6})\d+")


def _path(el: etree._Element) -> str:
    parts: list[str] = []
    node: etree._Element | None = el
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


def _canonical(el: etree._Element) -> str:
    # Exclusive C14N drops namespace declarations the fragment does not use: stable round trips.
    text: bytes = etree.tostring(el, method="c14n", exclusive=True, with_comments=False)
    return text.decode("utf-8")


class _Reader:
    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.pilot = ns == ELMO_PILOT_NS
        self.names = _Names(ns)
        # Children of recently visited elements by tag, built in one pass: a reader asks each element for
        # up to twenty names, and ElementPath lookups dominated parse time (see bench/). Only a few are kept:
        # holding every element alive made the garbage collector the bottleneck on large documents.
        self._index: dict[etree._Element, dict[str, list[etree._Element]]] = {}

    def q(self, name: str) -> str:
        return self.names[name]

    def _children(self, el: etree._Element) -> Children:
        index = self._index.get(el)
        if index is None:
            index = {}
            for child in el:
                tag = child.tag
                if isinstance(tag, str):
                    index.setdefault(tag, []).append(child)
            if len(self._index) >= 8:
                del self._index[next(iter(self._index))]
            self._index[el] = index
        return index

    def all(self, el: etree._Element, name: str) -> list[etree._Element]:
        return list(self._children(el).get(self.names[name], ()))

    def one(self, el: etree._Element, name: str) -> etree._Element | None:
        return (self._children(el).get(self.names[name]) or _MISSING)[0]

    def need(self, el: etree._Element, name: str) -> etree._Element:
        child = self.one(el, name)
        if child is None:
            raise ElmoParseError(f"required element <{name}> is missing", path=_path(el))
        return child

    def whole(self, el: etree._Element) -> str:
        # Never `el.text`: it stops at a comment, and comments are outside a signature's digest (issue 11 §1).
        value = whole_text(el)
        if value is None:
            raise ElmoParseError("an element holds elements where only text belongs", path=_path(el))
        return value

    def text(self, el: etree._Element | None) -> str | None:
        if el is None:
            return None
        if not len(el):  # no child node at all (comments and PIs count): `.text` is the whole text
            return (el.text or "").strip()
        return self.whole(el).strip()

    def nonempty(self, el: etree._Element | None) -> str | None:
        if el is None:
            return None
        if not len(el):
            return (el.text or "").strip() or None
        return self.whole(el).strip() or None

    def conv(self, el: etree._Element | None, fn: Callable[[str], T], what: str) -> T | None:
        value = self.nonempty(el)
        if value is None or el is None:
            return None
        try:
            return fn(value)
        except (ValueError, InvalidOperation):
            raise ElmoParseError(f"{value[:40]!r} is not a valid {what}", path=_path(el)) from None

    def day(self, el: etree._Element | None) -> date | None:
        """An optional xs:date; 2015 pilot documents may give a Java `dtf` pattern or free text instead."""
        if not self.pilot:
            return self.conv(el, _date, "date")
        value = self.nonempty(el)
        if value is None or el is None:
            return None
        return _pilot_date(value, el.get("dtf"))

    def identifiers(self, el: etree._Element) -> list[Fields]:
        return self._identifiers(self._children(el))

    def _identifiers(self, kids: Children) -> list[Fields]:
        out = []
        for node in kids.get(self.names["identifier"], ()):
            value = self.text(node)
            if value:
                out.append(_fields(type=node.get("type") or "unknown", value=value))
        return out

    def tokens(self, el: etree._Element, name: str) -> list[Fields]:
        return self._tokens(self._children(el), name)

    def _tokens(self, kids: Children, name: str) -> list[Fields]:
        found = ((n, self.text(n)) for n in kids.get(self.names[name], ()))
        return [_fields(value=value, lang=n.get(_LANG)) for n, value in found if value]

    def texts(self, el: etree._Element, name: str) -> list[Fields]:
        return self._texts(self._children(el), name)

    def _texts(self, kids: Children, name: str) -> list[Fields]:
        found = ((n, self.whole(n)) for n in kids.get(self.names[name], ()))
        return [_fields(value=value, lang=n.get(_LANG)) for n, value in found if value.strip()]

    def extension(self, el: etree._Element) -> list[str]:
        return self._extension(self._children(el))

    def _extension(self, kids: Children) -> list[str]:
        ext = (kids.get(self.names["extension"]) or _MISSING)[0]
        if ext is None:
            return []
        return [_canonical(c) for c in ext if isinstance(c.tag, str)]

    def document(self, root: etree._Element) -> Elmo:
        reports = self.all(root, "report")
        if self.pilot and self.one(root, "generatedDate") is None:
            # The 2015 pilot schema has no generatedDate; the newest issueDate stands in for it.
            issued = [self.conv(self.one(r, "issueDate"), _datetime, "dateTime") for r in reports]
            generated = max((d for d in issued if d), key=lambda d: d.replace(tzinfo=None), default=None)
            if generated is None:
                raise ElmoParseError("neither <generatedDate> nor <issueDate> is present", path=_path(root))
        else:
            generated = self.conv(self.need(root, "generatedDate"), _datetime, "dateTime")
        if generated is None:
            raise ElmoParseError("generatedDate is empty", path=_path(root) + "/generatedDate")
        learner_el = self.one(root, "learner")
        if learner_el is None:
            # Pilot documents nest the learner in each report.
            nested = [r.find(self.q("learner")) for r in reports]
            learner_el = next((n for n in nested if n is not None and len(n)), None)
        if learner_el is None:
            raise ElmoParseError("required element <learner> is missing", path=_path(root))
        groups_el = self.one(root, "groups")
        return Elmo.model_validate(_fields(
            generated_date=generated,
            learner=self.learner(learner_el),
            reports=[self.report(r) for r in reports],
            attachments=[self.attachment(a) for a in self.all(root, "attachment")],
            groups=self.groups(groups_el) if groups_el is not None else None,
            extension=self.extension(root),
        ))

    def learner(self, el: etree._Element) -> Fields:
        gender = self.conv(self.one(el, "gender"), int, "gender code")
        if gender not in (None, 0, 1, 2, 9):
            raise ElmoParseError(f"gender {gender} is not 0, 1, 2 or 9", path=_path(el) + "/gender")
        alt = self.one(el, "alternativeName")
        alt_value = self.whole(alt) if alt is not None else ""
        address = self.one(el, "currentAddress")
        bday_el = self.one(el, "bday")
        if bday_el is None:
            bday_el = self.one(el, "dateOfBirth")
        return _fields(
            citizenship=self.nonempty(self.one(el, "citizenship")),
            identifiers=self.identifiers(el),
            given_names=self.text(self.one(el, "givenNames")) or "",
            family_name=self.text(self.one(el, "familyName")) or "",
            alternative_name=(
                _fields(value=alt_value, lang=alt.get(_LANG))
                if alt is not None and alt_value.strip()
                else None
            ),
            bday=self.day(bday_el),
            place_of_birth=self.nonempty(self.one(el, "placeOfBirth")),
            birth_name=self.nonempty(self.one(el, "birthName")),
            current_address=_canonical(address) if address is not None else None,
            gender=gender,
        )

    def issuer(self, el: etree._Element) -> Fields:
        return _fields(
            country=self.nonempty(self.one(el, "country")),
            identifiers=self.identifiers(el),
            titles=self.tokens(el, "title"),
            url=self.nonempty(self.one(el, "url")),
        )

    def report(self, el: etree._Element) -> Fields:
        issue = self.conv(self.need(el, "issueDate"), _datetime, "dateTime")
        if issue is None:
            raise ElmoParseError("issueDate is empty", path=_path(el) + "/issueDate")
        schemes = []
        for gs in self.all(el, "gradingScheme"):
            local_id = gs.get("localId")
            if not local_id:
                raise ElmoParseError("gradingScheme needs a localId", path=_path(gs))
            schemes.append({"local_id": local_id, "descriptions": self.texts(gs, "description")})
        return _fields(
            issuer=self.issuer(self.need(el, "issuer")),
            learning_opportunity_specifications=[
                self.los(n) for n in self.all(el, "learningOpportunitySpecification")
            ],
            issue_date=issue,
            grading_schemes=schemes,
            attachments=[self.attachment(a) for a in self.all(el, "attachment")],
            results_of_recognition=[_canonical(n) for n in self.all(el, "resultOfRecognition")],
        )

    def los(self, el: etree._Element) -> Fields:
        # The hot path of large transcripts: one child index per element, looked up inline (see bench/).
        kids, n = self._children(el), self.names
        specifies = self.need(el, "specifies")
        loi = self.need(specifies, "learningOpportunityInstance")
        parts: list[Fields] = []
        for part in kids.get(n["hasPart"], ()):
            parts.extend(self.los(child) for child in self.all(part, "learningOpportunitySpecification"))
        return _fields(
            identifiers=self._identifiers(kids),
            titles=self._tokens(kids, "title"),
            type=self.nonempty((kids.get(n["type"]) or _MISSING)[0]),
            subject_area=self.nonempty((kids.get(n["subjectArea"]) or _MISSING)[0]),
            isced_code=self.nonempty((kids.get(n["iscedCode"]) or _MISSING)[0]),
            url=self.nonempty((kids.get(n["url"]) or _MISSING)[0]),
            descriptions=self._texts(kids, "description"),
            descriptions_html=self._texts(kids, "descriptionHtml"),
            specifies=self.pilot_credits(self.loi(loi), el) if self.pilot else self.loi(loi),
            specifies_extension=self.extension(specifies),
            has_part=parts,
            extension=self._extension(kids),
        )

    def loi(self, el: etree._Element) -> Fields:
        kids, n = self._children(el), self.names

        def one(name: str) -> etree._Element | None:
            return (kids.get(n[name]) or _MISSING)[0]

        status = self.nonempty(one("status"))
        if status not in (None, "passed", "failed", "in-progress"):
            raise ElmoParseError(f"unknown status {status!r}", path=_path(el) + "/status")
        term_el = one("academicTerm")
        term: Fields | None = None
        if term_el is not None:
            start = self.day(self.need(term_el, "start"))
            end = self.day(self.need(term_el, "end"))
            if start is not None and end is not None:
                term = _fields(titles=self.tokens(term_el, "title"), start=start, end=end)
        sg_el = one("shortenedGrading")
        rd_el = one("resultDistribution")
        refs = one("attachments")
        grouping_el = one("grouping")
        ds = one("diplomaSupplement")
        return _fields(
            identifiers=self._identifiers(kids),
            start=self.day(one("start")),
            date=self.day(one("date")),
            academic_term=term,
            status=status,
            grading_scheme_local_id=self.nonempty(one("gradingSchemeLocalId")),
            grading_scheme_external_id=self.nonempty(one("gradingSchemeExternalId")),
            result_label=self.nonempty(one("resultLabel"))
            or (self.nonempty(one("result")) if self.pilot else None),
            shortened_grading=self.shortened(sg_el) if sg_el is not None else None,
            result_distribution=self.distribution(rd_el) if rd_el is not None else None,
            credits=[self.credit(c) for c in kids.get(n["credit"], ())],
            levels=[self.level(x) for x in kids.get(n["level"], ())],
            language_of_instruction=self.nonempty(one("languageOfInstruction")),
            engagement_hours=self.conv(one("engagementHours"), _decimal, "decimal"),
            attachment_refs=[
                self.whole(r) for r in (self.all(refs, "ref") if refs is not None else [])
            ],
            grouping=(
                _fields(
                    typeref=grouping_el.get("typeref"),
                    idref=grouping_el.get("idref"),
                    value=self.whole(grouping_el),
                )
                if grouping_el is not None
                else None
            ),
            extension=self._extension(kids),
            diploma_supplement=_canonical(ds) if ds is not None else None,
        )

    def pilot_credits(self, loi: Fields, los_el: etree._Element) -> Fields:
        # The 2015 pilot schema puts <credit> on the specification, not on the instance.
        if not loi["credits"]:
            loi["credits"] = [self.credit(c) for c in self.all(los_el, "credit")]
        return loi

    def shortened(self, el: etree._Element) -> Fields:
        def pct(name: str) -> Decimal:
            value = self.conv(self.need(el, name), _decimal, "decimal")
            if value is None:
                raise ElmoParseError(f"<{name}> is empty", path=_path(el))
            return value

        return _fields(
            percentage_lower=pct("percentageLower"),
            percentage_equal=pct("percentageEqual"),
            percentage_higher=pct("percentageHigher"),
        )

    def distribution(self, el: etree._Element) -> Fields:
        categories = []
        for cat in self.all(el, "category"):
            try:
                count = int(cat.get("count", ""))
            except ValueError:
                raise ElmoParseError("category count is not a number", path=_path(cat)) from None
            categories.append(_fields(label=cat.get("label") or "", count=count))
        return _fields(categories=categories, descriptions=self.texts(el, "description"))

    def credit(self, el: etree._Element) -> Fields:
        return _fields(
            scheme=self.text(self.need(el, "scheme")) or "",
            level=self.nonempty(self.one(el, "level")),
            value=self.conv(self.one(el, "value"), _decimal, "decimal"),
        )

    def level(self, el: etree._Element) -> Fields:
        desc = self.one(el, "description")
        return _fields(
            type=self.text(self.need(el, "type")) or "",
            description=(
                _fields(value=self.whole(desc), lang=desc.get(_LANG))
                if desc is not None
                else None
            ),
            value=self.nonempty(self.one(el, "value")),
        )

    def attachment(self, el: etree._Element) -> Fields:
        return _fields(
            identifiers=self.identifiers(el),
            titles=self.tokens(el, "title"),
            type=self.nonempty(self.one(el, "type")),
            descriptions=self.texts(el, "description"),
            contents=self.tokens(el, "content"),
            extension=self.extension(el),
        )

    def groups(self, el: etree._Element) -> Fields:
        return _fields(
            group_types=[
                _fields(
                    id=gt.get("id"),
                    titles=self.tokens(gt, "title"),
                    groups=[
                        _fields(id=g.get("id"), sorting_key=g.get("sortingKey"),
                              titles=self.tokens(g, "title"))
                        for g in self.all(gt, "group")
                    ],
                )
                for gt in self.all(el, "groupType")
            ]
        )


def _date(value: str) -> date:
    # xs:date may carry a time zone ("2015-12-17Z", "2015-12-17+01:00"); the day is what counts.
    return date.fromisoformat(value[:10])


def _pilot_date(value: str, dtf: str | None) -> date | None:
    # Pilot documents: ISO dates, dates in the Java pattern of their `dtf` attribute ("dd-MM-yyyy",
    # "dd.MM.yyyy", even "yyyy-mm-dd"), or free text such as "2012 Syksy", which carries no day: None.
    try:
        return _date(value)
    except ValueError:
        pass
    if dtf:
        fmt = dtf.replace("yyyy", "%Y").replace("MM", "%m").replace("mm", "%m").replace("dd", "%d")
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            return None
    return None


def _datetime(value: str) -> datetime:
    if len(value) == 10:
        # Real documents put an xs:date where an xs:dateTime belongs (Ladok 2015).
        return datetime.combine(date.fromisoformat(value), time())
    value = _FRACTION.sub(r"\1", value.replace("Z", "+00:00").replace("z", "+00:00"))
    return datetime.fromisoformat(value)


def _decimal(value: str) -> Decimal:
    result = Decimal(value.replace(",", "."))
    if not result.is_finite():
        raise ValueError(value)
    return result


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


def from_element(root: etree._Element) -> Elmo:
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


def is_signed(root: etree._Element) -> bool:
    return root.find(f"{{{DSIG_NS}}}Signature") is not None
