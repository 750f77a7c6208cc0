"""ELMO for EMREX: the model, XML reader and writer, XSD validation, wire codec, selection, XMLDSig."""

from . import dsig, transport
from ._parser import DEFAULT_MAX_BYTES, parse_xml
from .dsig import VerifiedSignature, load_certificates, verify, verify_element
from .errors import (
    ElmoError,
    ElmoParseError,
    ElmoSchemaError,
    ElmoSerializeError,
    SignatureError,
    SignatureMissingError,
    SignatureProfileError,
    TransportError,
    WrongNamespaceError,
    XmlSecurityError,
    XmlSizeError,
    XmlSyntaxError,
)
from .model import (
    AcademicTerm,
    Attachment,
    Credit,
    Elmo,
    Group,
    Groups,
    GroupType,
    Grouping,
    Identifier,
    Issuer,
    LearningOpportunityInstance,
    LearningOpportunitySpecification,
    Learner,
    Level,
    LocalizedText,
    LocalizedToken,
    Report,
    ResultCategory,
    ResultDistribution,
    ShortenedGrading,
)
from .namespaces import DSIG_NS, ELMO_NS
from .reader import from_element, from_xml, is_signed
from .schema import SCHEMA_VERSIONS, bundled_schema, load_schema, schema_issues, validate
from .selection import all_keys, select
from .writer import format_decimal, to_element, to_xml

__all__ = [
    "DEFAULT_MAX_BYTES", "DSIG_NS", "ELMO_NS", "SCHEMA_VERSIONS",
    "AcademicTerm", "Attachment", "Credit", "Elmo", "ElmoError", "ElmoParseError",
    "ElmoSchemaError", "ElmoSerializeError", "Group", "GroupType", "Grouping", "Groups",
    "Identifier", "Issuer", "LearningOpportunityInstance", "LearningOpportunitySpecification",
    "Learner", "Level", "LocalizedText", "LocalizedToken", "Report", "ResultCategory",
    "ResultDistribution", "ShortenedGrading", "SignatureError", "SignatureMissingError",
    "SignatureProfileError", "TransportError", "VerifiedSignature", "WrongNamespaceError",
    "XmlSecurityError", "XmlSizeError", "XmlSyntaxError",
    "all_keys", "bundled_schema", "dsig", "format_decimal", "from_element", "from_xml",
    "is_signed", "load_certificates", "load_schema", "parse_xml", "schema_issues", "select",
    "to_element", "to_xml", "transport", "validate", "verify", "verify_element",
]
