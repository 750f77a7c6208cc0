"""The in-memory index every read is answered from; rebuilt whole on each accepted version."""

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .emreg import Node

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class NormalizedUrl:
    origin: str
    path: str  # without trailing slashes; "" for the root


def normalize_url(url: str) -> NormalizedUrl | None:
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    if parts.query:
        path += "?" + parts.query
    return NormalizedUrl(f"{scheme}://{netloc}", path)


def merge_nodes(groups: Iterable[Iterable[Node]]) -> list[Node]:
    """Nodes of several sources; one node per entry URL, certificates and institutions united."""
    merged: dict[str, Node] = {}
    for group in groups:
        for node in group:
            key = node.url
            old = merged.get(key)
            if old is None:
                merged[key] = node
                continue
            known = {c.sha256 for c in old.certificates}
            merged[key] = Node(
                url=old.url, acronym=old.acronym, country_code=old.country_code or node.country_code,
                institutions=old.institutions + tuple(i for i in node.institutions if i not in old.institutions),
                certificates=old.certificates + tuple(c for c in node.certificates if c.sha256 not in known),
                emrex2=old.emrex2 or node.emrex2,
            )
    return list(merged.values())


class RegistryIndex:
    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes: tuple[Node, ...] = tuple(nodes)
        self._by_url: dict[str, Node] = {}
        self._by_raw_url: dict[str, Node] = {}
        self._by_origin: dict[str, list[tuple[str, Node]]] = {}
        self._by_acronym: dict[str, list[Node]] = {}
        self._by_country: dict[str, list[Node]] = {}
        for node in self.nodes:
            self._by_raw_url.setdefault(node.url, node)
            norm = normalize_url(node.url)
            if norm is not None:
                self._by_url.setdefault(norm.origin + norm.path, node)
                self._by_origin.setdefault(norm.origin, []).append((norm.path, node))
            self._by_acronym.setdefault(node.acronym.casefold(), []).append(node)
            self._by_country.setdefault(node.country_code.upper(), []).append(node)
        # Longest path first, so the most specific entry of an origin wins.
        for entries in self._by_origin.values():
            entries.sort(key=lambda e: len(e[0]), reverse=True)

    def __len__(self) -> int:
        return len(self.nodes)

    def lookup(self, url: str) -> Node | None:
        """The node with this entry URL; else the node on the same origin whose path prefixes it."""
        # Callers mostly pass the URL exactly as registered: skip parsing for them.
        found = self._by_raw_url.get(url)
        if found is not None:
            return found
        norm = normalize_url(url)
        if norm is None:
            return None
        exact = self._by_url.get(norm.origin + norm.path)
        if exact is not None:
            return exact
        entries = self._by_origin.get(norm.origin)
        if not entries:
            return None
        for path, node in entries:
            if path and (norm.path == path or norm.path.startswith(path + "/")):
                return node
        return entries[-1][1]

    def by_acronym(self, acronym: str) -> list[Node]:
        return list(self._by_acronym.get(acronym.casefold(), []))

    def filter(self, *, country: str | None = None, institution: str | None = None,
               acronym: str | None = None) -> list[Node]:
        candidates: list[Node] | tuple[Node, ...] = self.nodes
        if country:
            candidates = self._by_country.get(country.strip().upper(), [])
        if acronym:
            wanted = acronym.strip().casefold()
            candidates = [n for n in candidates if n.acronym.casefold() == wanted]
        if institution:
            candidates = [n for n in candidates if _serves(n, institution.strip().casefold())]
        return list(candidates)


def _serves(node: Node, institution: str) -> bool:
    # EMREG lists display names; callers often have a SCHAC code (a domain such as "uw.edu.pl"):
    # match either a listed name or a SCHAC code that is the node host or a parent domain of it.
    if any(name.casefold() == institution for name in node.institutions):
        return True
    host = (urlsplit(node.url).hostname or "").casefold()
    return "." in institution and (host == institution or host.endswith("." + institution))
