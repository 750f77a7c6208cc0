"""The EMREX 2.0 members an EMREG `emps` entry may carry (emrex2.md, "Registry entries"): `authorizationUrl`,
`tokenUrl`, `resourceUrl`, `supportedDataFormats` and the node's `jwks`.

The bundled EMREG schema forbids unknown members, so without these a single node that publishes its 2.0
endpoints would get the whole registry rejected. They are optional, checked here, and mirrored as they are.
"""

import copy
from dataclasses import dataclass
from typing import Any

from .clients import ClientsInvalid, check_jwks

URL_MEMBERS = ("authorizationUrl", "tokenUrl", "resourceUrl")
_URL = {"type": "string", "minLength": 1, "maxLength": 2048}
SCHEMA_PROPERTIES: dict[str, Any] = {
    **dict.fromkeys(URL_MEMBERS, _URL),
    "supportedDataFormats": {
        "type": "array", "maxItems": 50,
        "items": {
            "type": "object", "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 64},
                "versions": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 32}},
                "schemaUrl": _URL,
            },
        },
    },
    "jwks": {
        "type": "object", "required": ["keys"],
        "properties": {"keys": {"type": "array", "minItems": 1, "maxItems": 20,
                                "items": {"type": "object", "required": ["kty", "kid"],
                                          "properties": {"kty": {"enum": ["RSA", "EC"]},
                                                         "kid": {"type": "string", "minLength": 1}}}}},
    },
}


@dataclass(frozen=True, eq=False)
class Emrex2Endpoints:
    authorization_url: str
    token_url: str
    resource_url: str
    supported_data_formats: tuple[dict[str, Any], ...]
    jwks: dict[str, Any] | None


def with_emrex2_members(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of an EMREG schema whose `Emp` definition also allows the EMREX 2.0 members."""
    extended = copy.deepcopy(schema)
    extended["definitions"]["Emp"]["properties"].update(copy.deepcopy(SCHEMA_PROPERTIES))
    return extended


def parse_emrex2(entry: dict[str, Any], where: str, check_url: Any) -> Emrex2Endpoints | None:
    """The entry's EMREX 2.0 members, or None for an EMREX 1 entry; ValueError says what is wrong."""
    present = [name for name in (*URL_MEMBERS, "supportedDataFormats", "jwks") if name in entry]
    if not present:
        return None
    missing = [name for name in URL_MEMBERS if name not in entry]
    if missing:
        raise ValueError(f"{where}: EMREX 2.0 members need {', '.join(missing)} too")
    urls = [check_url(entry[name], f"{where} {name}") for name in URL_MEMBERS]
    jwks = entry.get("jwks")
    if jwks is not None:
        try:
            check_jwks(jwks, where)
        except ClientsInvalid as exc:
            raise ValueError(str(exc)) from None
    return Emrex2Endpoints(urls[0], urls[1], urls[2], tuple(entry.get("supportedDataFormats", [])), jwks)
