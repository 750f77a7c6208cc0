"""EMREX 2.0 clients: the registered OAuth clients (EMCs), their redirect URIs and public keys.

`{"clients": [{"client_id", "redirect_uris", "jwks" | "jwks_uri", "name"}]}` (emrex2.md). Like the
EMP list, a document is accepted whole or not at all: one entry that breaks a rule rejects the
version and the last good copy stays in service. The rules beyond the JSON schema are the ones the
authorization server relies on: redirect URIs it may send a code to (absolute, https, no fragment;
http only on loopback in development), and public signing keys only (RSA of 2048 bits or more, EC
P-256), each with a `kid` unique in its set.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

CLIENTS = "clients"
"""The source kind of the client list (beside "emreg" and "ewp")."""
MIN_RSA_BITS = 2048
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class ClientsInvalid(Exception):
    """The client list cannot be accepted; the message names the entry and the rule, never a key."""


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    name: str | None
    redirect_uris: tuple[str, ...]
    jwks: dict[str, Any] | None
    jwks_uri: str | None


class ClientDirectory:
    def __init__(self, clients: list[RegisteredClient]) -> None:
        self._by_id = {c.client_id: c for c in clients}

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, client_id: str) -> RegisteredClient | None:
        return self._by_id.get(client_id)


@cache
def _validator() -> jsonschema.protocols.Validator:
    text = resources.files("ncp_registry_cache").joinpath("schemas/clients.schema.json").read_text("utf-8")
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, where: str, *, allow_http_loopback: bool, what: str) -> str:
    """An absolute https URL (http only on loopback when allowed), without fragment or credentials."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise ClientsInvalid(f"{where}: {what} {url[:100]!r} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if not host or scheme not in {"https", "http"}:
        raise ClientsInvalid(f"{where}: {what} {url[:100]!r} is not an absolute https URL")
    if scheme == "http" and not (allow_http_loopback and is_loopback(host)):
        raise ClientsInvalid(f"{where}: {what} {url[:100]!r} must use https"
                             + ("" if allow_http_loopback else " (http is allowed on loopback in development only)"))
    if parts.fragment or "#" in url:
        raise ClientsInvalid(f"{where}: {what} {url[:100]!r} must not have a fragment (RFC 6749 §3.1.2)")
    if parts.username is not None or parts.password is not None:
        raise ClientsInvalid(f"{where}: {what} {url[:100]!r} must not carry credentials")
    if url != url.strip() or any(c.isspace() for c in url):
        raise ClientsInvalid(f"{where}: {what} {url[:100]!r} contains white space")
    return url


def _rsa_bits(n: object) -> int:
    if not isinstance(n, str):
        return 0
    try:
        value = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except (binascii.Error, ValueError):
        return 0
    return int.from_bytes(value, "big").bit_length()


def check_jwks(jwks: dict[str, Any], where: str) -> None:
    """Public RSA (2048+) or EC P-256 signing keys with distinct kids; private members are refused."""
    kids: set[str] = set()
    for raw in jwks["keys"]:
        kid = str(raw["kid"])
        if kid in kids:
            raise ClientsInvalid(f"{where}: jwks has the kid {kid[:40]!r} twice")
        kids.add(kid)
        if PRIVATE_MEMBERS & set(raw):
            raise ClientsInvalid(f"{where}: jwks key {kid[:40]!r} holds private key material; publish public keys only")
        # Checked before joserfc sees the key (it only warns about short RSA keys).
        if raw["kty"] == "RSA" and _rsa_bits(raw.get("n")) < MIN_RSA_BITS:
            raise ClientsInvalid(f"{where}: jwks key {kid[:40]!r} is not an RSA key of {MIN_RSA_BITS} bits or more")
        if raw["kty"] == "EC" and raw.get("crv") != "P-256":
            raise ClientsInvalid(f"{where}: jwks key {kid[:40]!r} must be on P-256 (ES256)")
        if raw.get("use") not in (None, "sig"):
            raise ClientsInvalid(f"{where}: jwks key {kid[:40]!r} is not a signing key (use={raw['use']!r})")
    try:
        key_set = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as exc:
        raise ClientsInvalid(f"{where}: jwks does not parse ({type(exc).__name__})") from None
    if any(key.is_private or not isinstance(key, RSAKey | ECKey) for key in key_set.keys):
        raise ClientsInvalid(f"{where}: jwks must hold public RSA or EC keys only")


def parse_clients(body: bytes, *, allow_http_loopback: bool = False) -> ClientDirectory:
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ClientsInvalid("body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ClientsInvalid(f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    error = jsonschema.exceptions.best_match(_validator().iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        raise ClientsInvalid(f"schema: {where}: {error.message[:200]}")
    clients: list[RegisteredClient] = []
    seen: set[str] = set()
    for i, entry in enumerate(data["clients"]):
        client_id = entry["client_id"]
        where = f"clients[{i}] ({client_id[:40]})"
        if client_id in seen:
            raise ClientsInvalid(f"{where}: client_id is registered twice")
        seen.add(client_id)
        uris = tuple(check_url(u, where, allow_http_loopback=allow_http_loopback, what="redirect_uri")
                     for u in entry["redirect_uris"])
        jwks = entry.get("jwks")
        if jwks is not None:
            check_jwks(jwks, where)
        jwks_uri = entry.get("jwks_uri")
        if jwks_uri is not None:
            check_url(jwks_uri, where, allow_http_loopback=allow_http_loopback, what="jwks_uri")
        clients.append(RegisteredClient(client_id, entry.get("name"), uris, jwks, jwks_uri))
    return ClientDirectory(clients)
