"""Offline XSD validation of ELMO documents against the bundled 1.7.0 and 2.0.0 schemas."""

import threading
from pathlib import Path
from typing import Literal

from lxml import etree

from ._parser import parse_xml
from .errors import ElmoSchemaError

SchemaVersion = Literal["1.7.0", "2.0.0"]
BUNDLED = Path(__file__).parent / "xsd"
SCHEMA_VERSIONS: tuple[SchemaVersion, ...] = ("1.7.0", "2.0.0")

# Absolute schemaLocations used by the ELMO XSDs and their imports, mapped to local file names.
_DEPS = {
    "xml.xsd": "xml.xsd",
    "common-types.xsd": "ewp-specs-architecture-common-types.xsd",
    "ewp-specs-types-address/stable-v1/schema.xsd": "ewp-specs-types-address-stable-v1.xsd",
}


class _LocalResolver(etree.Resolver):  # type: ignore[misc]
    def __init__(self, schema_dir: Path, deps_dir: Path) -> None:
        super().__init__()
        self.schema_dir = schema_dir
        self.deps_dir = deps_dir

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        if "/references/" in system_url:
            return self.resolve_filename(
                str(self.schema_dir / "references" / system_url.rsplit("/", 1)[1]), context
            )
        for suffix, name in _DEPS.items():
            if system_url.endswith(suffix):
                return self.resolve_filename(str(self.deps_dir / name), context)
        return None  # anything else fails to load: no_network is set


def load_schema(schema_file: Path, deps_dir: Path) -> etree.XMLSchema:
    """Compile an ELMO XSD whose imports resolve to local files only."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_LocalResolver(schema_file.parent, deps_dir))
    doc = etree.parse(str(schema_file), parser)  # noqa: TID251 (the bundled XSD files, not input)
    return etree.XMLSchema(doc)


_local = threading.local()
# libxml2's schema compiler is not safe to run in several threads at once (seen as a spurious
# XMLSchemaParseError under load); validation with a compiled schema is.
_compile_lock = threading.Lock()


def bundled_schema(version: SchemaVersion = "1.7.0") -> etree.XMLSchema:
    # Compiled once per thread: lxml validators keep per-call state.
    cache: dict[str, etree.XMLSchema] = _local.__dict__.setdefault("schemas", {})
    if version not in cache:
        if version not in SCHEMA_VERSIONS:
            raise ValueError(f"unknown ELMO schema version {version!r}")
        with _compile_lock:
            cache[version] = load_schema(BUNDLED / f"v{version}" / "schema.xsd", BUNDLED / "deps")
    return cache[version]


def schema_issues(
    document: bytes | etree._Element,
    version: SchemaVersion = "1.7.0",
    *,
    schema: etree.XMLSchema | None = None,
) -> list[str]:
    """Every XSD finding as `line N: message`; an empty list means valid."""
    root = parse_xml(document) if isinstance(document, bytes) else document
    validator = schema or bundled_schema(version)
    if validator.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in validator.error_log]


def validate(
    document: bytes | etree._Element,
    version: SchemaVersion = "1.7.0",
    *,
    schema: etree.XMLSchema | None = None,
) -> None:
    """Raise ElmoSchemaError unless the document is valid against the ELMO XSD."""
    issues = schema_issues(document, version, schema=schema)
    if issues:
        raise ElmoSchemaError(issues, version)
