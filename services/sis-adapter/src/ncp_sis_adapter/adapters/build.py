"""Builds one SisSource per configured institution (the only place that knows every adapter kind)."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from ncp_sis_adapter.config import (
    ElmoAdapterConfig,
    InstitutionConfig,
    RestAdapterConfig,
    SqlAdapterConfig,
    TenantsFile,
)
from ncp_sis_adapter.domain.breaker import CircuitBreaker
from ncp_sis_adapter.domain.fanout import Institution
from ncp_sis_adapter.domain.mapping import build_issuer
from ncp_sis_adapter.domain.sources import SisSource
from ncp_sis_adapter.settings import Settings

from .elmo_source import ElmoSource
from .rest_source import RestSource
from .sql.source import SqlSource


@dataclass
class Tenants:
    by_name: dict[str, list[Institution]]

    def sources(self) -> list[SisSource]:
        unique: dict[int, SisSource] = {}
        for institutions in self.by_name.values():
            for institution in institutions:
                unique.setdefault(id(institution.source), institution.source)
        return list(unique.values())

    async def aclose(self) -> None:
        for source in self.sources():
            await source.aclose()


def build_source(config: InstitutionConfig, engine: AsyncEngine, timeout: float) -> SisSource:
    issuer = build_issuer(schac=config.schac, titles=config.titles, url=config.url, country=config.country,
                          erasmus=config.erasmus, pic=config.pic)
    adapter = config.adapter
    if isinstance(adapter, SqlAdapterConfig):
        return SqlSource(engine, adapter.institution_key, issuer)
    if isinstance(adapter, RestAdapterConfig):
        return RestSource(adapter, issuer, timeout=timeout, institution=config.schac)
    if isinstance(adapter, ElmoAdapterConfig):
        return ElmoSource(adapter, issuer, timeout=timeout)
    raise AssertionError(f"unknown adapter {adapter!r}")  # pragma: no cover


def build_tenants(config: TenantsFile, engine: AsyncEngine, settings: Settings) -> Tenants:
    """One source and one circuit breaker per upstream: an institution that several tenants list with the
    same adapter settings shares its HTTP client and its breaker (it is one system that is up or down)."""
    by_name: dict[str, list[Institution]] = {}
    shared: dict[tuple[str, str, float], tuple[SisSource, CircuitBreaker]] = {}
    for name, tenant in config.tenants.items():
        institutions = []
        for inst in tenant.institutions:
            timeout = inst.timeout_seconds or settings.institution_timeout_seconds
            key = (inst.schac, inst.adapter.model_dump_json(), timeout)
            if key not in shared:
                shared[key] = (
                    build_source(inst, engine, timeout),
                    CircuitBreaker(settings.breaker_failure_threshold, settings.breaker_reset_seconds),
                )
            source, breaker = shared[key]
            institutions.append(Institution(
                schac=inst.schac, source=source, matching=list(inst.matching or tenant.matching),
                timeout_seconds=timeout, breaker=breaker,
            ))
        by_name[name] = institutions
    return Tenants(by_name)
