"""EMREX 2.0 authorization server rules without I/O (emrex2.md; RFC 6749, 7636, 7523, 9207): the authorization
request, the client assertion, PKCE, scopes, and which data formats and versions /results serves.

Checks are done with joserfc (JWT) and authlib (PKCE); this module only decides what each outcome means.
"""

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("RS256", "ES256")  # emrex2.md step 4; never none, never HMAC
MAX_ASSERTION_LIFETIME = 300
ASSERTION_LEEWAY = 30  # clock skew between the client and us, in seconds
SCOPES = ("elmo", "userinfo", "pdf", "openid")
DEFAULT_SCOPE = "elmo"
# RFC 7636 §4.1/§4.2: verifier 43-128 unreserved characters; an S256 challenge is 43 base64url characters.
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
MAX_STATE = 1024
MAX_CLIENT_ID = 255

DataFormat = Literal["elmo", "userinfo", "pdf", "pdf_metadata"]
# Which scope covers which data_format (openid, the iGov variant, covers the learner only).
FORMAT_SCOPES: dict[str, frozenset[str]] = {
    "elmo": frozenset({"elmo"}), "userinfo": frozenset({"userinfo", "openid", "elmo"}),
    "pdf": frozenset({"pdf"}), "pdf_metadata": frozenset({"pdf"}),
}
_ELMO_1 = re.compile(r"1(?:\.[0-7](?:\.[0-9]+)?)?")  # ELMO 1.0 ... 1.7: served as 1.7.0, their superset
_ELMO_2 = re.compile(r"2(?:\.0(?:\.0)?)?")


class OAuthError(Exception):
    """An RFC 6749 / 6750 error: `error` is the registered code, `description` a fixed text of ours."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class ClientRequestError(Exception):
    """The authorization request names no usable client or redirect URI: an error page, never a redirect."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class Client:
    client_id: str
    redirect_uris: Sequence[str]
    name: str | None = None
    jwks: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    state: str
    code_challenge: str
    scope: str


def single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    """RFC 6749 §3.1: a parameter sent more than once is an error; empty counts as absent."""
    values = params.get(name) or []
    if len(values) > 1:
        raise OAuthError("invalid_request", f"{name} is repeated")
    return values[0] if values and values[0] != "" else None


def client_and_redirect(params: Mapping[str, Sequence[str]]) -> tuple[str, str]:
    """The two parameters that decide whether we may redirect at all (RFC 6749 §4.1.2.1)."""
    try:
        client_id = single(params, "client_id")
        redirect_uri = single(params, "redirect_uri")
    except OAuthError as exc:
        raise ClientRequestError("parameter_repeated", exc.description) from None
    if client_id is None:
        raise ClientRequestError("client_id_missing", "client_id is missing")
    if not valid_client_id(client_id):
        raise ClientRequestError("client_unknown", "this client is not registered")
    if redirect_uri is None:
        raise ClientRequestError("redirect_uri_missing", "redirect_uri is missing")
    return client_id, redirect_uri


def valid_client_id(client_id: str) -> bool:
    """A client_id we would even look up: printable ASCII of sane length (RFC 6749 §2.2 leaves it open)."""
    return 0 < len(client_id) <= MAX_CLIENT_ID and _PRINTABLE.fullmatch(client_id) is not None


def check_redirect_uri(client: Client | None, redirect_uri: str) -> Client:
    if client is None:
        raise ClientRequestError("client_unknown", "this client is not registered")
    # emrex2.md step 1: exact string equality with a registered URI, nothing looser.
    if not any(hmac.compare_digest(redirect_uri.encode(), r.encode()) for r in client.redirect_uris):
        raise ClientRequestError("redirect_uri_mismatch", "redirect_uri is not registered for this client")
    return client


def parse_scope(raw: str | None) -> str:
    if raw is None:
        return DEFAULT_SCOPE
    requested = raw.split()
    if not requested or any(s not in SCOPES for s in requested):
        raise OAuthError("invalid_scope", "the scope holds a value this node does not know")
    return " ".join(s for s in SCOPES if s in requested)  # canonical order, no repeats


def parse_authorization(params: Mapping[str, Sequence[str]], client: Client, redirect_uri: str
                        ) -> AuthorizationRequest:
    """The rest of the request, once client and redirect_uri hold; OAuthError is redirected with `state`."""
    response_type = single(params, "response_type")
    if response_type != "code":
        raise OAuthError("unsupported_response_type", "only response_type=code is supported")
    state = single(params, "state")
    if state is None:
        raise OAuthError("invalid_request", "state is missing")
    if len(state) > MAX_STATE or not _PRINTABLE.fullmatch(state):
        raise OAuthError("invalid_request", "state is too long or not printable ASCII")
    challenge = single(params, "code_challenge")
    method = single(params, "code_challenge_method")
    if challenge is None:
        raise OAuthError("invalid_request", "PKCE is required: code_challenge is missing")
    # RFC 7636 §4.3 defaults a missing method to plain, which emrex2.md refuses.
    if method != "S256":
        raise OAuthError("invalid_request", "code_challenge_method must be S256")
    if not _CHALLENGE.fullmatch(challenge):
        raise OAuthError("invalid_request", "code_challenge is not an S256 challenge")
    return AuthorizationRequest(client_id=client.client_id, redirect_uri=redirect_uri, state=state,
                                code_challenge=challenge, scope=parse_scope(single(params, "scope")))


def pkce_holds(verifier: str | None, challenge: str) -> bool:
    if verifier is None or not _VERIFIER.fullmatch(verifier):
        return False
    return hmac.compare_digest(create_s256_code_challenge(verifier).encode(), challenge.encode())


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_key(value: str) -> str:
    """Codes and tokens are stored under their hash: reading the table yields nothing usable."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Assertion:
    client_id: str
    jti: str
    expires_at: int


def assertion_client_id(assertion: str) -> str:
    """The `iss` of an assertion before it is verified: only to look up whose key must verify it."""
    try:
        compact = jws.extract_compact(assertion.encode("ascii"))
        header = compact.headers()
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError):
        raise OAuthError("invalid_client", "client_assertion is not a compact JWS with JSON claims") from None
    if header.get("alg") not in ASSERTION_ALGORITHMS:
        raise OAuthError("invalid_client", "client_assertion must be signed with RS256 or ES256")
    if not isinstance(header.get("kid"), str):
        raise OAuthError("invalid_client", "client_assertion names no kid")
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or not valid_client_id(issuer):
        raise OAuthError("invalid_client", "client_assertion names no usable issuer")
    return issuer


def verify_assertion(assertion: str, client: Client, token_endpoint: str, now: int) -> Assertion:
    """RFC 7523 §3 with emrex2.md: the client's registered key, iss = sub = client_id, aud = our token endpoint,
    a jti, exp in the future and at most 300 s after iat."""
    if not client.jwks:
        raise OAuthError("invalid_client", "the client has no registered keys this node can use")
    try:
        keys = KeySet.import_key_set(dict(client.jwks))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError):
        raise OAuthError("invalid_client", "the client's registered keys do not parse") from None
    try:
        token = jwt.decode(assertion, keys, algorithms=list(ASSERTION_ALGORITHMS))
    except (JoseError, ValueError, TypeError):
        raise OAuthError("invalid_client", "client_assertion does not verify with the client's key") from None
    claims = token.claims
    registry = JWTClaimsRegistry(
        now=now, leeway=ASSERTION_LEEWAY,
        iss={"essential": True, "value": client.client_id}, sub={"essential": True, "value": client.client_id},
        aud={"essential": True, "value": token_endpoint}, exp={"essential": True}, iat={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except (JoseError, ValueError, TypeError):
        raise OAuthError("invalid_client", "client_assertion claims are not acceptable (iss, sub, aud, exp, jti)"
                         ) from None
    exp, iat, jti = claims.get("exp"), claims.get("iat"), claims.get("jti")
    if not isinstance(exp, int) or not isinstance(iat, int) or not isinstance(jti, str) or not jti:
        raise OAuthError("invalid_client", "client_assertion exp, iat and jti must be set")
    if exp - iat > MAX_ASSERTION_LIFETIME or iat > now + ASSERTION_LEEWAY:
        raise OAuthError("invalid_client", "client_assertion lives longer than 300 s or is issued in the future")
    return Assertion(client_id=client.client_id, jti=jti, expires_at=exp)


@dataclass(frozen=True)
class FormatRequest:
    data_format: DataFormat
    elmo_version: Literal["1.7.0", "2.0.0"]


def parse_format(params: Mapping[str, Sequence[str]]) -> FormatRequest:
    """`data_format` and `data_format_version` of GET /results; a version whose schema we lack is refused."""
    data_format = single(params, "data_format")
    if data_format is None:
        raise OAuthError("invalid_request", "data_format is missing")
    if data_format not in FORMAT_SCOPES:
        raise OAuthError("invalid_request", "unsupported data_format")
    version = single(params, "data_format_version")
    if version is None or _ELMO_1.fullmatch(version):
        elmo_version: Literal["1.7.0", "2.0.0"] = "1.7.0"
    elif _ELMO_2.fullmatch(version):
        elmo_version = "2.0.0"
    else:
        raise OAuthError("invalid_request", "unsupported data_format_version")
    return FormatRequest(data_format=data_format, elmo_version=elmo_version)  # type: ignore[arg-type]


def scope_covers(scope: str, data_format: str) -> bool:
    return bool(FORMAT_SCOPES[data_format] & set(scope.split()))
