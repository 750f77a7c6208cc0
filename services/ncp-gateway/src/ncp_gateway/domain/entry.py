"""The EMC's request to this EMP: sessionId and returnUrl checked, optional extras parsed.

emrex.md Part A: sessionId up to 128 printable ASCII characters, echoed byte for byte; returnUrl an
absolute https URL (http only for loopback hosts when allowed), at most 2,048 characters, no
credentials, optionally limited to an allowlist of receiver origins. Unknown parameters are ignored.
"""

import ipaddress
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_SESSION_ID = 128
MAX_RETURN_URL = 2048
MAX_HEI_ID = 255
_PRINTABLE = re.compile(r"^[\x20-\x7e]+$")
# No whitespace, controls, quotes, angle brackets or backslashes in a URL we will put in a form action.
_URL_CHARS = re.compile(r"^[!#$%&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]+$")


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


def origin_of(url: str) -> str:
    """scheme://host[:port], lowercase, default ports dropped (the allowlist and audit key)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"https": 443, "http": 80}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def normalize_origin(origin: str) -> str:
    return origin_of(origin.strip().rstrip("/"))


def check_return_url(url: str | None, policy: EntryPolicy) -> tuple[str, str]:
    """The receiver origin and host of a usable returnUrl, or EntryError."""
    if url is None or url == "":
        raise EntryError("return_url_missing", "returnUrl is missing")
    if len(url) > MAX_RETURN_URL:
        raise EntryError("return_url_too_long", f"returnUrl is longer than {MAX_RETURN_URL} characters")
    if not _URL_CHARS.match(url):
        raise EntryError("return_url_invalid", "returnUrl contains characters not allowed in a URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise EntryError("return_url_invalid", "returnUrl is not a valid URL") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not parts.netloc or not host:
        raise EntryError("return_url_not_absolute", "returnUrl must be an absolute URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise EntryError("return_url_credentials", "returnUrl must not contain credentials")
    if port == 0:
        raise EntryError("return_url_invalid", "returnUrl has an invalid port")
    if scheme == "http":
        if not (policy.allow_http_loopback and is_loopback(host)):
            raise EntryError("return_url_not_https", "returnUrl must use https")
    elif scheme != "https":
        raise EntryError("return_url_not_https", "returnUrl must use https")
    origin = origin_of(url)
    allowed = {normalize_origin(o) for o in policy.allowed_origins}
    if allowed and origin not in allowed:
        raise EntryError("return_url_not_allowed", "returnUrl is not a registered receiver of this service")
    return origin, host


def parse_entry(params: Mapping[str, Sequence[str]], policy: EntryPolicy) -> EntryRequest:
    """Validate an entry request (query or form parameters, case-sensitive names)."""
    return_url = _single(params, "returnUrl")
    origin, host = check_return_url(return_url, policy)
    assert return_url is not None
    session_id = _single(params, "sessionId")
    if session_id is None or session_id == "":
        raise EntryError("session_id_missing", "sessionId is missing")
    if len(session_id) > MAX_SESSION_ID:
        raise EntryError("session_id_too_long", f"sessionId is longer than {MAX_SESSION_ID} characters")
    if not _PRINTABLE.match(session_id):
        raise EntryError("session_id_invalid", "sessionId must be printable ASCII")
    hei_id = _single(params, "hei_id")
    if hei_id is not None:
        hei_id = hei_id.strip()
        if not hei_id or len(hei_id) > MAX_HEI_ID or not _PRINTABLE.match(hei_id):
            hei_id = None
    return EntryRequest(
        session_id=session_id,
        return_url=return_url,
        receiver_origin=origin,
        receiver_host=host,
        allow_to_pick_courses=_flag(_single(params, "allowToPickCourses"), True),
        allow_not_passed_courses=_flag(_single(params, "allowNotPassedCourses"), False),
        hei_id=hei_id,
    )
