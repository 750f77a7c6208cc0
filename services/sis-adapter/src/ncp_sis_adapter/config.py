"""The tenants file: which institutions a tenant serves, how to reach each one's SIS, how to match learners.

Read once at start-up (TOML); any mistake stops the service with a message naming the bad key.
"""

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from emrex_elmo.model import LoiStatus as StatusName, LosType as LosTypeName
from ncp_contracts.sis_models import IdentifierKind

_LANG = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
_SLUG = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class ConfigError(Exception):
    """The tenants file is missing, unreadable or invalid; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GradingSchemeConfig(_Strict):
    local_id: str = Field(min_length=1)
    descriptions: dict[Annotated[str, Field(pattern=_LANG)], str] = Field(min_length=1)


class BearerAuthConfig(_Strict):
    kind: Literal["bearer"]
    token_file: Path


class BasicAuthConfig(_Strict):
    kind: Literal["basic"]
    username: str = Field(min_length=1)
    password_file: Path


AuthConfig = Annotated[BearerAuthConfig | BasicAuthConfig, Field(discriminator="kind")]


class SqlAdapterConfig(_Strict):
    """The built-in SQL SIS (the demo SIS): rows of one institution in the service database."""

    kind: Literal["sql"]
    institution_key: str = Field(pattern=_SLUG)


class RecordMapping(_Strict):
    """Where each field of one result record sits, relative to the record (dotted paths, `a.b[0].c`)."""

    key: str = Field(description="unique id of the record (the LOI identifier)")
    code: str
    titles: dict[Annotated[str, Field(pattern=_LANG)], str] = Field(min_length=1)
    parent_key: str | None = None
    type: str | None = None
    type_map: dict[str, LosTypeName] = {}
    default_type: LosTypeName = "Course"
    status: str | None = None
    status_map: dict[str, StatusName] = {}
    grade: str | None = None
    grade_map: dict[str, str] = {}
    grading_scheme: str | None = None
    grading_scheme_map: dict[str, str] = {}
    default_grading_scheme: str | None = None
    credits: str | None = None
    start: str | None = None
    date: str | None = None
    term_title: str | None = None
    term_start: str | None = None
    term_end: str | None = None
    level: str | None = None
    level_map: dict[str, str] = {}
    language: str | None = None
    language_map: dict[str, str] = {}
    isced: str | None = None


class LearnerMapping(_Strict):
    given_names: str
    family_name: str
    bday: str | None = None
    national_id: str | None = None
    esi: str | None = None
    citizenship: str | None = None


class ResponseMapping(_Strict):
    learner: LearnerMapping
    records: str = Field(description="path to the list of result records")
    record: RecordMapping


class RestAdapterConfig(_Strict):
    """An existing SIS HTTP/JSON API, read through a declarative field mapping."""

    kind: Literal["rest"]
    base_url: str = Field(pattern=r"^https?://")
    path: str = Field(default="/", pattern=r"^/")
    # identifier kind -> query parameter name; kinds not listed are not asked of this SIS
    lookup: dict[IdentifierKind, str] = Field(min_length=1)
    auth: AuthConfig | None = None
    mapping: ResponseMapping
    grading_schemes: list[GradingSchemeConfig] = []


class ElmoAdapterConfig(_Strict):
    """An upstream that answers a ready ELMO document (national registers often do)."""

    kind: Literal["elmo"]
    url: str = Field(pattern=r"^https?://")
    lookup: dict[IdentifierKind, str] = Field(min_length=1)
    auth: AuthConfig | None = None
    # Replace the upstream issuer with this institution's configured one (for upstreams with placeholders).
    override_issuer: bool = False
    max_bytes: int = Field(default=10_000_000, gt=0)


AdapterConfig = Annotated[
    SqlAdapterConfig | RestAdapterConfig | ElmoAdapterConfig, Field(discriminator="kind")
]


class InstitutionConfig(_Strict):
    schac: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}$")
    erasmus: str | None = Field(default=None, min_length=3)
    pic: str | None = Field(default=None, pattern=r"^[0-9]{9}$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    url: str = Field(pattern=r"^https?://")
    titles: dict[Annotated[str, Field(pattern=_LANG)], str] = Field(min_length=1)
    timeout_seconds: float | None = Field(default=None, gt=0, le=120)
    matching: list[IdentifierKind] | None = None
    adapter: AdapterConfig

    @field_validator("titles")
    @classmethod
    def _titles_not_blank(cls, value: dict[str, str]) -> dict[str, str]:
        if any(not v.strip() for v in value.values()):
            raise ValueError("titles must not be blank")
        return value


class TenantConfig(_Strict):
    title: str = ""
    # Identifier kinds in the order they are tried; the first that finds the learner wins.
    matching: list[IdentifierKind] = Field(min_length=1)
    institutions: list[InstitutionConfig] = Field(min_length=1)

    @field_validator("matching")
    @classmethod
    def _no_duplicates(cls, value: list[IdentifierKind]) -> list[IdentifierKind]:
        if len(set(value)) != len(value):
            raise ValueError("an identifier kind is listed twice")
        return value

    @model_validator(mode="after")
    def _unique_schac(self) -> "TenantConfig":
        seen: set[str] = set()
        for institution in self.institutions:
            if institution.schac in seen:
                raise ValueError(f"institution {institution.schac} is listed twice")
            seen.add(institution.schac)
        return self


class TenantsFile(_Strict):
    tenants: dict[Annotated[str, Field(pattern=_SLUG)], TenantConfig] = Field(min_length=1)


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("sql", "rest", "elmo", "bearer", "basic"):
            continue  # discriminator tags pydantic adds to the path; not keys of the file
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def parse_tenants(data: dict[str, object], source: str = "tenants") -> TenantsFile:
    try:
        return TenantsFile.model_validate(data)
    except ValidationError as exc:
        lines = [f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{source}: " + "; ".join(lines)) from None


def load_tenants(path: Path) -> TenantsFile:
    """Read and check the tenants file; relative secret paths are taken relative to the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    tenants = parse_tenants(data, str(path))
    return _resolve_paths(tenants, path.parent)


def _resolve_paths(tenants: TenantsFile, base: Path) -> TenantsFile:
    def fix(auth: BearerAuthConfig | BasicAuthConfig | None) -> BearerAuthConfig | BasicAuthConfig | None:
        if isinstance(auth, BearerAuthConfig) and not auth.token_file.is_absolute():
            return auth.model_copy(update={"token_file": base / auth.token_file})
        if isinstance(auth, BasicAuthConfig) and not auth.password_file.is_absolute():
            return auth.model_copy(update={"password_file": base / auth.password_file})
        return auth

    new_tenants: dict[str, TenantConfig] = {}
    for name, tenant in tenants.tenants.items():
        institutions = []
        for inst in tenant.institutions:
            adapter = inst.adapter
            if isinstance(adapter, RestAdapterConfig | ElmoAdapterConfig):
                adapter = adapter.model_copy(update={"auth": fix(adapter.auth)})
            institutions.append(inst.model_copy(update={"adapter": adapter}))
        new_tenants[name] = tenant.model_copy(update={"institutions": institutions})
    return TenantsFile(tenants=new_tenants)
