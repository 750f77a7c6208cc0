"""The ELMO data model: one class per XSD element, named after it, shared by every service.

Covers ELMO 1.0-1.7 and 2.0. Rich subtrees that no service interprets (extensions, the diploma
supplement, the EWP address, 2.0 recognition results) are kept verbatim as canonical XML fragments.
"""

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# XML 1.0 allows these characters only; anything else could never be serialized.
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_WS = re.compile(r"[\u0009\u000a\u000d\u0020]+")


# Fast paths (parsing 5,000 courses validates 77,000 strings, see bench/): text that is already in its stored
# form. First `str.isprintable()`, about ten times faster than these searches: a printable string holds no control
# character, surrogate, unassigned code point (U+FFFE, U+FFFF) or separator but the ASCII space, so only XML
# characters and, as whitespace, single spaces. Anything the searches match takes the full path below.
_TEXT_NOT_PLAIN = re.compile("[^\u0009\u000a\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# `\s` at the ends: str.strip() below trims every Unicode space (NBSP, U+2028...), not only XML's four.
_TOKEN_NOT_PLAIN = re.compile("[^\u0021-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff ]|  |^\\s|\\s$")


def _xml_text(value: str) -> str:
    if value.isprintable() or _TEXT_NOT_PLAIN.search(value) is None:
        return value  # every character allowed, no CR
    bad = _XML_INVALID.search(value)
    if bad:
        raise ValueError(f"character U+{ord(bad.group()):04X} cannot appear in XML")
    # XML parsers turn CR and CRLF into LF, so the model stores the parsed form.
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _token(value: str) -> str:
    if value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
        return value
    if _TOKEN_NOT_PLAIN.search(value) is None:
        return value  # every character allowed, single spaces only, none at either end: already collapsed
    # xs:token: the XSD collapses runs of whitespace and trims; store what a validator sees.
    return _WS.sub(" ", _xml_text(value)).strip()


Text = Annotated[str, AfterValidator(_xml_text)]
Token = Annotated[str, AfterValidator(_token)]
RawXml = Annotated[str, Field(description="one element as exclusive-C14N XML text")]

LosType = Literal["Degree Programme", "Module", "Course", "Class"]
LoiStatus = Literal["passed", "failed", "in-progress"]
CreditLevel = Literal["Bachelor", "Master", "PhD"]
AttachmentType = Literal[
    "Diploma",
    "Diploma Supplement",
    "Transcript of Records",
    "EMREX transcript",
    "Micro Credential",
    "Letter of Nomination",
    "Certificate of Training",
    "Learning Agreement",
    "Other",
]

LOS_TYPE_RANK: dict[str, int] = {"Degree Programme": 0, "Module": 1, "Course": 2, "Class": 3}


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LocalizedToken(_Node):
    """A token with an optional xml:lang (titles, attachment contents)."""

    value: Token
    lang: Token | None = None


class LocalizedText(_Node):
    """Multi-line plain text with an optional xml:lang (descriptions)."""

    value: Text
    lang: Token | None = None


class Identifier(_Node):
    type: Token
    value: Token


class Learner(_Node):
    citizenship: Token | None = None
    identifiers: list[Identifier] = []
    given_names: Token = ""
    family_name: Token = ""
    # ELMO 2.0: a name in the learner's own script; 1.x documents do not carry it.
    alternative_name: LocalizedText | None = None
    bday: dt.date | None = None
    place_of_birth: Token | None = None
    birth_name: Token | None = None
    current_address: RawXml | None = None
    gender: Literal[0, 1, 2, 9] | None = None

    def identifier(self, type_: str) -> str | None:
        return next((i.value for i in self.identifiers if i.type == type_), None)


class Issuer(_Node):
    country: Token | None = None
    identifiers: list[Identifier] = []
    titles: list[LocalizedToken] = []
    url: Token | None = None

    def identifier(self, type_: str) -> str | None:
        return next((i.value for i in self.identifiers if i.type == type_), None)


class AcademicTerm(_Node):
    titles: list[LocalizedToken]
    start: dt.date
    end: dt.date


class ShortenedGrading(_Node):
    percentage_lower: Decimal
    percentage_equal: Decimal
    percentage_higher: Decimal


class ResultCategory(_Node):
    label: Token
    count: int = Field(ge=0)


class ResultDistribution(_Node):
    categories: list[ResultCategory] = Field(min_length=1)
    descriptions: list[LocalizedText] = []


def _scheme(value: str) -> str:
    # The XSD's predefined value is lowercase; FI sends "ECTS" and clients compare either way.
    return "ects" if value.lower() == "ects" else value


class Credit(_Node):
    scheme: Annotated[Token, AfterValidator(_scheme)]
    # Deprecated in 1.x, gone in 2.0; real documents put odd values here ("-"), so any token reads.
    level: Token | None = None
    value: Decimal | None = None


class Level(_Node):
    type: Token
    description: LocalizedText | None = None
    value: Token | None = None


class Grouping(_Node):
    typeref: Text | None = None
    idref: Text | None = None
    value: Text = ""


class LearningOpportunityInstance(_Node):
    identifiers: list[Identifier] = []
    start: dt.date | None = None
    date: dt.date | None = None
    academic_term: AcademicTerm | None = None
    status: LoiStatus | None = None
    grading_scheme_local_id: Token | None = None
    grading_scheme_external_id: Token | None = None  # ELMO 2.0
    result_label: Token | None = None
    shortened_grading: ShortenedGrading | None = None
    result_distribution: ResultDistribution | None = None
    credits: list[Credit] = []
    levels: list[Level] = []
    language_of_instruction: Token | None = None
    engagement_hours: Decimal | None = None
    attachment_refs: list[Text] = []
    grouping: Grouping | None = None
    extension: list[RawXml] = []
    diploma_supplement: RawXml | None = None

    @property
    def passed(self) -> bool:
        # ELMO XSD: "If not present, then clients MUST assume that the status is passed".
        return self.status in (None, "passed")

    def credit(self, scheme: str = "ects") -> Decimal | None:
        return next(
            (c.value for c in self.credits if c.scheme.lower() == scheme.lower()), None
        )


class LearningOpportunitySpecification(_Node):
    identifiers: list[Identifier] = []
    titles: list[LocalizedToken] = []
    type: Token | None = None
    subject_area: Token | None = None
    isced_code: Token | None = None
    url: Token | None = None
    descriptions: list[LocalizedText] = []
    descriptions_html: list[LocalizedText] = []
    specifies: LearningOpportunityInstance = Field(default_factory=LearningOpportunityInstance)
    specifies_extension: list[RawXml] = []
    has_part: list["LearningOpportunitySpecification"] = []
    extension: list[RawXml] = []

    def identifier(self, type_: str) -> str | None:
        return next((i.value for i in self.identifiers if i.type == type_), None)


class GradingScheme(_Node):
    local_id: Token
    descriptions: list[LocalizedText] = []


class Attachment(_Node):
    identifiers: list[Identifier] = []
    titles: list[LocalizedToken] = []
    type: Token | None = None
    descriptions: list[LocalizedText] = []
    contents: list[LocalizedToken] = []
    extension: list[RawXml] = []


class Report(_Node):
    issuer: Issuer
    learning_opportunity_specifications: list[LearningOpportunitySpecification] = []
    issue_date: dt.datetime
    grading_schemes: list[GradingScheme] = []
    attachments: list[Attachment] = []
    # ELMO 2.0 recognition results, kept verbatim.
    results_of_recognition: list[RawXml] = []


class Group(_Node):
    id: Text | None = None
    sorting_key: Text | None = None
    titles: list[LocalizedToken] = Field(min_length=1)


class GroupType(_Node):
    id: Text | None = None
    titles: list[LocalizedToken] = Field(min_length=1)
    groups: list[Group] = []


class Groups(_Node):
    group_types: list[GroupType] = []


class Elmo(_Node):
    """A whole ELMO document (minus its signature, which is a property of the bytes)."""

    generated_date: dt.datetime
    learner: Learner
    reports: list[Report] = []
    attachments: list[Attachment] = []
    groups: Groups | None = None
    extension: list[RawXml] = []

    def iter_los(self) -> "list[tuple[str, LearningOpportunitySpecification, int]]":
        """Every LOS with its selection key and depth, in document order."""
        from .vocabulary import walk_keyed  # the one tree walk; it imports this module

        return [item for r, report in enumerate(self.reports)
                for item in walk_keyed(f"r{r}", report.learning_opportunity_specifications)]
