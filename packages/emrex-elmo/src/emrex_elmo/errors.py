"""The error vocabulary of emrex_elmo: one base class, each subclass with a stable `code`."""


class ElmoError(Exception):
    """Base of every error this library raises; `code` is stable, the message is for people."""

    code = "elmo_error"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class XmlSecurityError(ElmoError):
    """The input tries something a safe parser refuses (DOCTYPE, entities, oversize)."""

    code = "xml_forbidden"


class XmlSizeError(XmlSecurityError):
    code = "too_large"


class XmlSyntaxError(ElmoError):
    code = "xml_malformed"


class XmlEncodingError(XmlSecurityError, XmlSyntaxError):
    """Not UTF-8 (another BOM or `encoding=`, bytes that are not UTF-8, lone surrogates): refused before parsing.

    A security refusal (libxml2 would switch decoders, and the checks on raw bytes would no longer see the markup)
    and malformed for EMREX, whose documents are UTF-8: `except` on either class catches it.
    """

    code = "xml_forbidden"


class ElmoParseError(ElmoError):
    """Well-formed XML that is not a readable ELMO document; `path` names the element at fault."""

    code = "elmo_invalid"


class WrongNamespaceError(ElmoParseError):
    code = "wrong_namespace"


class ElmoSerializeError(ElmoError):
    """The model lacks something ELMO requires, so no valid document can be written."""

    code = "elmo_incomplete"


class ElmoSchemaError(ElmoError):
    """The document does not validate against the XSD; `issues` holds every finding."""

    code = "schema_invalid"

    def __init__(self, issues: list[str], version: str) -> None:
        self.issues = issues
        self.version = version
        shown = "; ".join(issues[:3]) + (f" (+{len(issues) - 3} more)" if len(issues) > 3 else "")
        super().__init__(f"not valid against ELMO {version}: {shown}")


class TransportError(ElmoError):
    """The `elmo` form value is not base64(gzip(XML)) within limits."""

    code = "bad_wire_value"


class SignatureError(ElmoError):
    """The signature is missing, does not follow the profile, or does not verify."""

    code = "signature_invalid"


class SignatureMissingError(SignatureError):
    code = "signature_missing"


class SignatureProfileError(SignatureError):
    code = "signature_profile"
