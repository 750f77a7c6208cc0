"""The EMC's request to this EMP: sessionId and returnUrl checked, optional extras parsed.

emrex.md Part A: sessionId up to 128 printable ASCII characters, echoed byte for byte; returnUrl an
absolute https URL (http only for loopback hosts when allowed), at most 2,048 characters, no
credentials, a host that is a DNS name or an IP literal, optionally limited to an allowlist of receiver
origins. Unknown parameters are ignored.
"""

import ipaddress
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import idna

MAX_SESSION_ID = 128
MAX_RETURN_URL = 2048
MAX_HEI_ID = 255
# Whole-string validations use fullmatch: `$` would also match before a trailing newline.
_PRINTABLE = re.compile(r"[\x20-\x7e]+")
# No whitespace, controls, quotes, angle brackets or backslashes in a URL we will put in a form action.
_URL_CHARS = re.compile(r"[!#$%&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]+")


class EntryError(Exception):
    """The request cannot start a transfer; `code` is stable, the message is for the error page."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class EntryPolicy:
    allow_http_loopback: bool = False
    allowed_origins: Collection[str] = ()


@dataclass(frozen=True)
class EntryRequest:
    session_id: str
    return_url: str
    receiver_origin: str
    receiver_host: str
    allow_to_pick_courses: bool = True
    allow_not_passed_courses: bool = False
    hei_id: str | None = None


def _single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise EntryError(f"{_snake(name)}_repeated", f"{name} was given more than once")
    return values[0] if values else None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _flag(value: str | None, default: bool) -> bool:
    # Lenient: the USOS extension documents true/false; anything else keeps the default.
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return default


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DOTTED_QUAD = re.compile(r"[0-9]+(?:\.[0-9]+){3}")
# A last label that browsers' URL parser (WHATWG "ends in a number") reads as an IPv4 address.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_PORT = re.compile(r"[0-9]{1,5}")
_DEFAULT_PORTS = {"https": 443, "http": 80}
MAX_HOST = 253


@dataclass(frozen=True)
class Origin:
    """A receiver origin built only from validated parts: a scheme, a host of one of three kinds, a port."""

    scheme: str  # lowercase
    host: str  # lowercase A-label DNS name, dotted-quad IPv4, or IPv6 (compressed, without brackets)
    port: int | None  # None when it is the scheme's default
    kind: Literal["dns", "ipv4", "ipv6"]

    def __str__(self) -> str:
        host = f"[{self.host}]" if self.kind == "ipv6" else self.host
        return f"{self.scheme}://{host}" + (f":{self.port}" if self.port is not None else "")

    @property
    def csp_source(self) -> str:
        # CSP's host-source grammar has no IP-literal form: an IPv6 receiver can only be named by its scheme.
        return f"{self.scheme}:" if self.kind == "ipv6" else str(self)


def _invalid(what: str) -> EntryError:
    return EntryError("return_url_invalid", f"returnUrl is not a valid URL ({what})")


def check_host(raw: str) -> tuple[str, Literal["dns", "ipv4", "ipv6"]]:
    """A DNS name (letter-digit-hyphen labels, IDNA 2008 checked), an IPv4 or an IPv6 literal; else EntryError."""
    if raw.startswith("[") and raw.endswith("]"):
        try:  # IPvFuture ("v1.x") is refused here
            address = ipaddress.IPv6Address(raw[1:-1])
        except ValueError:
            raise _invalid("IPv6 address") from None
        if address.scope_id is not None:  # a zone ("%25eth0") means nothing outside this machine
            raise _invalid("IPv6 address")
        return address.compressed, "ipv6"
    host = raw.lower()
    if _DOTTED_QUAD.fullmatch(host):
        try:  # refuses octets above 255 and leading zeros (read as octal by some parsers)
            return str(ipaddress.IPv4Address(host)), "ipv4"
        except ValueError:
            raise _invalid("IPv4 address") from None
    labels = host.split(".")
    if not host or len(host) > MAX_HOST or not all(_LABEL.fullmatch(label) for label in labels):
        # Also refuses a trailing dot: "emc.example.fi." is another origin to a browser and to the allowlist.
        raise _invalid("host name")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        raise _invalid("host name")
    try:
        if idna.encode(idna.decode(host)).decode("ascii") != host:
            raise _invalid("host name")
    except (idna.IDNAError, UnicodeError):
        raise _invalid("internationalized host name") from None
    return host, "dns"


def parse_origin(url: str) -> Origin:
    """The origin of an absolute URL whose authority is only host[:port]; EntryError otherwise."""
    if not _URL_CHARS.fullmatch(url):
        raise EntryError("return_url_invalid", "returnUrl contains characters not allowed in a URL")
    scheme_match = _SCHEME.match(url)
    if scheme_match is None and url.startswith("//"):
        raise EntryError("return_url_not_https", "returnUrl must use https")  # scheme-relative
    rest = url[scheme_match.end():] if scheme_match else ""
    if scheme_match is None or not rest.startswith("//"):
        raise EntryError("return_url_not_absolute", "returnUrl must be an absolute URL")
    scheme = scheme_match.group(1).lower()
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    if "@" in authority:
        raise EntryError("return_url_credentials", "returnUrl must not contain credentials")
    if not authority:
        raise EntryError("return_url_not_absolute", "returnUrl must be an absolute URL")
    if authority.startswith("["):
        close = authority.find("]")
        host_part, port_part = (authority[:close + 1], authority[close + 1:]) if close > 0 else (authority, "")
    else:
        host_part, colon, port = authority.partition(":")
        port_part = colon + port
    port_number: int | None = None
    if port_part:
        digits = port_part[1:]
        if not port_part.startswith(":") or not _PORT.fullmatch(digits) or not 0 < int(digits) <= 65535:
            raise _invalid("port")
        port_number = int(digits)
    host, kind = check_host(host_part)
    if port_number == _DEFAULT_PORTS.get(scheme):
        port_number = None
    return Origin(scheme=scheme, host=host, port=port_number, kind=kind)


def origin_of(url: str) -> str:
    """scheme://host[:port], lowercase, default ports dropped (the allowlist and audit key)."""
    return str(parse_origin(url))


def normalize_origin(origin: str) -> str:
    return origin_of(origin.strip().rstrip("/"))


def csp_source_of(origin: str) -> str:
    """The CSP source expression for a stored origin, re-validated; `'none'` if it is not one."""
    try:
        parsed = parse_origin(origin)
    except EntryError:
        return "'none'"
    return parsed.csp_source


def check_return_url(url: str | None, policy: EntryPolicy) -> Origin:
    """The receiver origin of a usable returnUrl, or EntryError."""
    if url is None or url == "":
        raise EntryError("return_url_missing", "returnUrl is missing")
    if len(url) > MAX_RETURN_URL:
        raise EntryError("return_url_too_long", f"returnUrl is longer than {MAX_RETURN_URL} characters")
    origin = parse_origin(url)
    if origin.scheme == "http":
        if not (policy.allow_http_loopback and is_loopback(origin.host)):
            raise EntryError("return_url_not_https", "returnUrl must use https")
    elif origin.scheme != "https":
        raise EntryError("return_url_not_https", "returnUrl must use https")
    allowed = {normalize_origin(o) for o in policy.allowed_origins}
    if allowed and str(origin) not in allowed:
        raise EntryError("return_url_not_allowed", "returnUrl is not a registered receiver of this service")
    return origin


def parse_entry(params: Mapping[str, Sequence[str]], policy: EntryPolicy) -> EntryRequest:
    """Validate an entry request (query or form parameters, case-sensitive names)."""
    return_url = _single(params, "returnUrl")
    origin = check_return_url(return_url, policy)
    assert return_url is not None
    session_id = _single(params, "sessionId")
    if session_id is None or session_id == "":
        raise EntryError("session_id_missing", "sessionId is missing")
    if len(session_id) > MAX_SESSION_ID:
        raise EntryError("session_id_too_long", f"sessionId is longer than {MAX_SESSION_ID} characters")
    if not _PRINTABLE.fullmatch(session_id):
        raise EntryError("session_id_invalid", "sessionId must be printable ASCII")
    hei_id = _single(params, "hei_id")
    if hei_id is not None:
        hei_id = hei_id.strip()
        if not hei_id or len(hei_id) > MAX_HEI_ID or not _PRINTABLE.fullmatch(hei_id):
            hei_id = None
    return EntryRequest(
        session_id=session_id,
        return_url=return_url,
        receiver_origin=str(origin),
        receiver_host=origin.host,
        allow_to_pick_courses=_flag(_single(params, "allowToPickCourses"), True),
        allow_not_passed_courses=_flag(_single(params, "allowNotPassedCourses"), False),
        hei_id=hei_id,
    )
