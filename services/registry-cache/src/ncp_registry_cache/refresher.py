"""Keeps the in-memory view in step with the sources and the database.

Each tick, the replica holding the lease fetches every source (conditionally), validates what
changed and stores it; every replica then loads the current versions from the database. A fetch
that fails or a document that is invalid only records the reason: the good copy stays in service.
"""

import logging
import os
import random
import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import anyio
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily

from ncp_runtime.metrics import CallbackCollector

from .adapters.sources import FetchFailed, NotModified, Source
from .adapters.store import SourceState, Store
from .domain.clients import CLIENTS, ClientDirectory
from .domain.emreg import Registry, RegistryInvalid, parse_document, sha256_hex
from .domain.index import RegistryIndex, merge_nodes

log = logging.getLogger("ncp_registry_cache.refresher")

# Its own generator: spreading refreshes needs no secrecy, and the module-wide one belongs to whoever
# embeds the service (a test framework replaying seeded draws notices when a background thread moves it).
_JITTER = random.Random()  # noqa: S311

Kind = Literal["emreg", "ewp"]
Outcome = Literal["accepted", "not_modified", "unchanged", "failed", "rejected", "skipped"]


@dataclass(frozen=True)
class LoadedVersion:
    version_id: int
    sha256: str
    source: str
    format: str
    fetched_at: datetime
    accepted_at: datetime
    registry: Registry


@dataclass(frozen=True)
class SourceOutcome:
    kind: str
    outcome: Outcome
    detail: str | None = None


@dataclass(frozen=True)
class Freshness:
    age_seconds: float | None
    stale: bool


@dataclass
class RegistryView:
    """What the API reads: swapped whole, never mutated in place, so readers need no lock."""

    kinds: tuple[str, ...]
    stale_after: float
    index: RegistryIndex | None = None
    loaded: dict[str, LoadedVersion] = field(default_factory=dict)
    states: dict[str, SourceState] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.index is not None

    @property
    def clients(self) -> ClientDirectory | None:
        """The EMREX 2.0 client list in service (the last good copy), if one was ever accepted."""
        loaded = self.loaded.get(CLIENTS)
        return loaded.registry.clients if loaded is not None else None

    def source_freshness(self, kind: str, now: datetime) -> Freshness:
        state = self.states.get(kind)
        if kind not in self.loaded or state is None or state.last_success_at is None:
            return Freshness(None, True)
        age = max(0.0, (now - state.last_success_at).total_seconds())
        failing = state.last_error_at is not None and state.last_error_at >= state.last_success_at
        return Freshness(age, failing or age > self.stale_after)

    def freshness(self, now: datetime) -> Freshness:
        """Of the EMP list (EMREG and EWP); the client list has its own (source_freshness("clients"))."""
        per_kind = [self.source_freshness(k, now) for k in self.kinds if k != CLIENTS]
        ages = [f.age_seconds for f in per_kind if f.age_seconds is not None]
        return Freshness(max(ages) if ages else None, any(f.stale for f in per_kind))


class Metrics:
    """The registry's series (names kept from the hand-written text they replace), in a prometheus_client
    registry: counters as things happen, the view's age, staleness and size read at each scrape."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.fetches = Counter("ncp_registry_refresh", "Refresh attempts by source kind and outcome.",
                               ["kind", "outcome"], registry=self.registry)
        self.loads = Counter("ncp_registry_loads", "Versions loaded into the in-memory index.",
                             registry=self.registry)
        self._view: Callable[[], RegistryView] | None = None
        self.registry.register(CallbackCollector(self._view_metrics))

    def watch(self, view: Callable[[], RegistryView]) -> None:
        self._view = view

    def _view_metrics(self) -> Iterator[GaugeMetricFamily]:
        if self._view is None:
            return
        view, now = self._view(), datetime.now(UTC)
        stale = GaugeMetricFamily("ncp_registry_stale", "1 when the copy of a source is stale or missing.",
                                  labels=["kind"])
        age = GaugeMetricFamily("ncp_registry_age_seconds", "Seconds since the source last confirmed the copy.",
                                labels=["kind"])
        for kind in view.kinds:
            fresh = view.source_freshness(kind, now)
            stale.add_metric([kind], int(fresh.stale))
            if fresh.age_seconds is not None:
                age.add_metric([kind], fresh.age_seconds)
        yield stale
        yield age
        yield GaugeMetricFamily("ncp_registry_emps", "Nodes in the index.",
                                value=len(view.index) if view.index is not None else 0)
        yield GaugeMetricFamily("ncp_registry_ready", "1 once a good copy is loaded.", value=int(view.ready))


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Refresher:
    def __init__(self, store: Store, sources: dict[str, Source], *, interval: float, jitter: float,
                 retry_interval: float, stale_after: float, fetch_timeout: float, owner: str | None = None,
                 metrics: Metrics | None = None,
                 parse: Callable[[bytes, str], Registry] = parse_document) -> None:
        self.store = store
        self.sources = sources
        self.interval = interval
        self.jitter = jitter
        self.retry_interval = retry_interval
        self.lease_ttl = fetch_timeout * max(1, len(sources)) + 60
        self.owner = owner or default_owner()
        self.metrics = metrics or Metrics()
        self.view = RegistryView(tuple(sources), stale_after)
        self.metrics.watch(lambda: self.view)
        self._lock = anyio.Lock()
        # Every change of the view goes through sync(), one at a time: two syncs that overlapped would each
        # start from the view they found, and the later to finish would put back what the other replaced (a
        # status request's sync, or a read-only replica's tick, dropping the client list an admin refresh
        # had just loaded). Kept apart from `_lock` so that a sync never waits for a refresh's fetches.
        self._view_lock = anyio.Lock()
        self._failures = 0
        self._parse = parse

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    async def sync(self) -> None:
        """Load whatever the database says is current; cheap when nothing changed."""
        async with self._view_lock:
            await self._sync()

    async def _sync(self) -> None:
        states = await self.store.states()
        loaded = dict(self.view.loaded)
        changed = False
        for kind in self.sources:
            state = states.get(kind)
            if state is None or state.current_version_id is None:
                continue
            old = loaded.get(kind)
            if old is not None and old.version_id == state.current_version_id:
                continue
            version = await self.store.version(state.current_version_id)
            if version is None:
                continue
            try:
                registry = await anyio.to_thread.run_sync(self._parse, version.body, kind)
            except RegistryInvalid as exc:
                # Stored by another build whose rules differ; keep what we have.
                log.warning("stored version cannot be loaded", extra={"kind": kind, "reason": str(exc)})
                continue
            loaded[kind] = LoadedVersion(version.id, version.sha256, version.source, version.format,
                                         version.fetched_at, version.accepted_at, registry)
            changed = True
        index = self.view.index
        emp_versions = [v for k, v in loaded.items() if k != CLIENTS]
        if changed and emp_versions:  # the client list alone never makes the EMP index (or readiness)
            index = await anyio.to_thread.run_sync(
                lambda: RegistryIndex(merge_nodes(v.registry.nodes for v in emp_versions))
            )
            self.metrics.loads.inc()
            log.info("registry loaded", extra={
                "emps": len(index), "versions": {k: v.sha256[:12] for k, v in loaded.items()}})
        self.view = RegistryView(self.view.kinds, self.view.stale_after, index, loaded, states)

    async def refresh(self, *, force: bool = False) -> list[SourceOutcome]:
        async with self._lock:
            now = self.now()
            if not await self.store.try_acquire_lease(self.owner, self.lease_ttl, now):
                outcomes = [SourceOutcome(k, "skipped", "another replica is refreshing") for k in self.sources]
            else:
                try:
                    states = await self.store.states()
                    outcomes = [await self._refresh_one(k, s, states.get(k), force) for k, s in self.sources.items()]
                finally:
                    await self.store.release_lease(self.owner)
            for outcome in outcomes:
                self.metrics.fetches.labels(outcome.kind, outcome.outcome).inc()
            await self.sync()
            failed = any(o.outcome in ("failed", "rejected") for o in outcomes)
            self._failures = self._failures + 1 if failed else 0
            return outcomes

    async def _refresh_one(self, kind: str, source: Source, state: SourceState | None,
                           force: bool) -> SourceOutcome:
        now = self.now()
        same_source = state is not None and state.source == source.location and state.current_version_id is not None
        if (not force and same_source and state is not None and state.last_success_at is not None
                and (state.last_error_at is None or state.last_error_at < state.last_success_at)
                and (now - state.last_success_at).total_seconds() < self.interval / 2):
            return SourceOutcome(kind, "skipped", "checked recently by another replica")
        etag = state.etag if same_source and state is not None else None
        last_modified = state.last_modified if same_source and state is not None else None
        try:
            fetched = await source.fetch(etag, last_modified)
        except FetchFailed as exc:
            return await self._failed(kind, source, "failed", str(exc), now)
        if isinstance(fetched, NotModified):
            await self.store.record_unchanged(kind, source.location, now, etag=etag, last_modified=last_modified)
            return SourceOutcome(kind, "not_modified")
        digest = sha256_hex(fetched.body)
        current = self.view.loaded.get(kind)
        if same_source and current is not None and current.sha256 == digest:
            await self.store.record_unchanged(kind, source.location, now, etag=fetched.etag,
                                              last_modified=fetched.last_modified)
            return SourceOutcome(kind, "unchanged")
        try:
            registry = await anyio.to_thread.run_sync(self._parse, fetched.body, kind)
        except RegistryInvalid as exc:
            return await self._failed(kind, source, "rejected", f"invalid document: {exc}", now)
        await self.store.accept_version(
            kind=kind, source=source.location, sha256=digest, body=fetched.body, etag=fetched.etag,
            last_modified=fetched.last_modified, format=registry.format, emps=registry.entries, now=now,
        )
        log.info("registry version accepted", extra={"kind": kind, "sha256": digest[:12], "emps": registry.entries})
        return SourceOutcome(kind, "accepted", digest)

    async def _failed(self, kind: str, source: Source, outcome: Outcome, reason: str, now: datetime) -> SourceOutcome:
        await self.store.record_failure(kind, source.location, reason, now)
        log.warning("registry refresh failed; serving the last good copy",
                    extra={"kind": kind, "outcome": outcome, "reason": reason})
        return SourceOutcome(kind, outcome, reason)

    def next_delay(self) -> float:
        base = self.interval
        if self._failures or not self.view.ready:
            base = min(self.interval, self.retry_interval * 2 ** max(0, self._failures - 1))
        return max(0.1, base * (1 + _JITTER.uniform(-self.jitter, self.jitter)))

    async def run(self, *, fetch: bool, stop: anyio.Event) -> None:
        """The background loop: refresh (or, on read-only replicas, just sync) until `stop` is set.

        Stopping is cooperative: a tick is never cancelled halfway through a database call, which
        would leave the driver closing a connection after the engine is gone.
        """
        while not stop.is_set():
            try:
                if fetch:
                    await self.refresh()
                else:
                    await self.sync()
            except Exception as exc:  # the loop must outlive a database or network hiccup
                self._failures += 1
                log.error("refresh tick failed", extra={"error": type(exc).__name__})
            with anyio.move_on_after(self.next_delay()):
                await stop.wait()
