"""EMREG documents to nodes: the JSON list (`emps`, or the older `ncps`) and the EWP catalogue.

A document is accepted whole or not at all: one entry that fails the schema, or one certificate
that does not parse, rejects the version, so the last good copy stays in service.
"""

import base64
import binascii
import copy
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

import jsonschema
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from emrex_elmo import ElmoError, parse_xml, whole_text

from .clients import CLIENTS, ClientDirectory, ClientsInvalid, parse_clients
from .emrex2_entry import Emrex2Endpoints, parse_emrex2, with_emrex2_members

Format = Literal["emps", "ncps", "ewp", "clients"]
EWP_ENTRY = "emrex-data-access-point"


class RegistryInvalid(Exception):
    """The document cannot be accepted; the message says why, for /v1/status and the log."""


@dataclass(frozen=True)
class Certificate:
    pem: str
    cert: x509.Certificate
    sha256: str


@dataclass(frozen=True)
class Node:
    url: str
    acronym: str
    country_code: str
    institutions: tuple[str, ...]
    certificates: tuple[Certificate, ...]
    emrex2: Emrex2Endpoints | None = None


@dataclass(frozen=True)
class Country:
    country_code: str
    country_name: str
    single_fetch: bool


@dataclass(frozen=True)
class Registry:
    format: Format
    nodes: tuple[Node, ...]
    countries: tuple[Country, ...] = field(default=())
    clients: ClientDirectory | None = None

    @property
    def entries(self) -> int:
        return len(self.clients) if self.clients is not None else len(self.nodes)


@cache
def current_schema() -> dict[str, Any]:
    text = resources.files("ncp_registry_cache").joinpath("schemas/emreg.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def legacy_schema() -> dict[str, Any]:
    """The 2015 shape: `ncps` for `emps`; `singleFetch` optional and sometimes a string."""
    schema = copy.deepcopy(current_schema())
    top = schema["definitions"]["Emreg"]
    top["properties"]["ncps"] = top["properties"].pop("emps")
    top["required"] = ["countries", "ncps"]
    country = schema["definitions"]["Country"]
    country["properties"]["singleFetch"] = {"type": ["boolean", "string"], "enum": [True, False, "true", "false"]}
    country["required"] = ["countryCode", "countryName"]
    return schema


@cache
def _validator(legacy: bool) -> jsonschema.protocols.Validator:
    schema = with_emrex2_members(legacy_schema() if legacy else current_schema())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_url(url: str, where: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in {"https", "http"} or not parts.hostname:
        raise RegistryInvalid(f"{where}: url {url[:100]!r} is not an absolute http(s) URL")
    return url.strip()


def _certificates_from_pem(pem: str, where: str) -> tuple[Certificate, ...]:
    try:
        certs = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise RegistryInvalid(f"{where}: pubKey is not a PEM certificate ({_short(exc)})") from None
    return tuple(_certificate(c) for c in certs)


def _certificate(cert: x509.Certificate) -> Certificate:
    pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return Certificate(pem, cert, sha256_hex(cert.public_bytes(serialization.Encoding.DER)))


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def parse_emreg(body: bytes) -> Registry:
    """Validate an EMREG JSON document against the schema and parse every certificate in it."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise RegistryInvalid("body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RegistryInvalid(f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise RegistryInvalid("body is not a JSON object")
    legacy = "ncps" in data and "emps" not in data
    error = jsonschema.exceptions.best_match(_validator(legacy).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        raise RegistryInvalid(f"schema: {where}: {error.message[:200]}")
    key: Format = "ncps" if legacy else "emps"
    nodes: list[Node] = []
    for i, entry in enumerate(data[key]):
        where = f"{key}[{i}] ({entry['acronym'][:40]})"
        nodes.append(Node(
            url=_check_url(entry["url"], where),
            acronym=entry["acronym"],
            country_code=entry["countryCode"].upper(),
            institutions=tuple(entry["institutions"]),
            certificates=_certificates_from_pem(entry["pubKey"], where),
            emrex2=_emrex2(entry, where),
        ))
    countries = tuple(
        Country(c["countryCode"].upper(), c["countryName"], c.get("singleFetch") in (True, "true"))
        for c in data["countries"]
    )
    return Registry(key, tuple(nodes), countries)


def _emrex2(entry: dict[str, Any], where: str) -> Emrex2Endpoints | None:
    try:
        return parse_emrex2(entry, where, _check_url)
    except ValueError as exc:
        raise RegistryInvalid(str(exc)) from None


def parse_ewp_catalogue(body: bytes) -> Registry:
    """Every `<emrex-data-access-point>` of an EWP catalogue (any manifest-entry namespace)."""
    try:
        root = parse_xml(body)
    except ElmoError as exc:
        raise RegistryInvalid(f"catalogue is not usable XML: {exc.message}") from None
    nodes: list[Node] = []
    for i, entry in enumerate(el for el in root.iter() if isinstance(el.tag, str) and _local(el.tag) == EWP_ENTRY):
        children: dict[str, list[str]] = {}
        for child in entry:
            if isinstance(child.tag, str):
                # Whole text: `.text` stops at a comment (`https://a<!---->.evil/` would read `https://a`).
                children.setdefault(_local(child.tag), []).append((whole_text(child) or "").strip())
        name = (children.get("name") or [""])[0]
        where = f"{EWP_ENTRY}[{i}] ({name[:40]})"
        urls = children.get("url") or []
        if len(urls) != 1:
            raise RegistryInvalid(f"{where}: expected one <url>, found {len(urls)}")
        certs = children.get("certificate") or []
        if not certs:
            raise RegistryInvalid(f"{where}: no <certificate>")
        parsed: list[Certificate] = []
        for value in certs:
            try:
                der = base64.b64decode("".join(value.split()), validate=True)
                parsed.append(_certificate(x509.load_der_x509_certificate(der)))
            except (binascii.Error, ValueError) as exc:
                reason = f"<certificate> is not a base64 DER certificate ({_short(exc)})"
                raise RegistryInvalid(f"{where}: {reason}") from None
        nodes.append(Node(
            url=_check_url(urls[0], where),
            acronym=name or urlsplit(urls[0]).hostname or urls[0],
            country_code=(children.get("country-code") or [""])[0].upper(),
            institutions=tuple(children.get("institution") or []),
            certificates=tuple(parsed),
        ))
    if not nodes:
        raise RegistryInvalid(f"catalogue has no <{EWP_ENTRY}> entry")
    return Registry("ewp", tuple(nodes))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def parse_document(body: bytes, kind: str, *, allow_http_loopback: bool = False) -> Registry:
    """`kind` is "ewp" for an EWP catalogue, "clients" for the EMREX 2.0 client list, anything else for
    EMREG JSON; `allow_http_loopback` admits http client URLs on loopback (development)."""
    if kind == CLIENTS:
        try:
            return Registry("clients", (), clients=parse_clients(body, allow_http_loopback=allow_http_loopback))
        except ClientsInvalid as exc:
            raise RegistryInvalid(str(exc)) from None
    return parse_ewp_catalogue(body) if kind == "ewp" else parse_emreg(body)
