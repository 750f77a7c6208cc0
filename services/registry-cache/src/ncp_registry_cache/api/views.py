"""Domain objects to contract models, and the freshness headers every read carries."""

from datetime import UTC, datetime
from typing import Any

from fastapi import Response

from emrex_elmo import Elmo
from emrex_elmo.vocabulary import pick_title, walk
from ncp_contracts.registry_models import (
    EmpEntry,
    IssuerSummary,
    LearnerSummary,
    NodeCertificate,
    NodeCertificates,
)
from ncp_registry_cache.domain.emreg import Certificate, Node
from ncp_registry_cache.refresher import Freshness, RegistryView
from ncp_runtime import problem

# Every read of the registry: no good copy loaded yet (a 404 would read as "unknown node").
NOT_LOADED: dict[int | str, dict[str, Any]] = {503: problem("no good copy of the registry has been loaded yet",
                           headers={"Retry-After": "seconds to wait before trying again"})}
FRESHNESS_HEADERS = {
    "Age": {"description": "seconds since a source last confirmed the copy", "schema": {"type": "string"}},
    "X-Registry-Stale": {"description": "`true` when the copy is older than the stale limit",
                         "schema": {"type": "string", "enum": ["true", "false"]}},
}


def now() -> datetime:
    return datetime.now(UTC)


def emp_entry(node: Node) -> EmpEntry:
    entry = EmpEntry(url=node.url, acronym=node.acronym, country_code=node.country_code,
                     institutions=list(node.institutions), certificates=[c.pem for c in node.certificates])
    if node.emrex2 is not None:
        entry = entry.model_copy(update={
            "authorization_url": node.emrex2.authorization_url, "token_url": node.emrex2.token_url,
            "resource_url": node.emrex2.resource_url,
            "supported_data_formats": list(node.emrex2.supported_data_formats), "jwks": node.emrex2.jwks,
        })
    return entry


def node_certificates(node: Node, at: datetime) -> NodeCertificates:
    return NodeCertificates(url=node.url, acronym=node.acronym,
                            certificates=[certificate_info(c, at) for c in node.certificates])


def certificate_info(cert: Certificate, at: datetime) -> NodeCertificate:
    c = cert.cert
    return NodeCertificate(
        pem=cert.pem, sha256=cert.sha256, subject=c.subject.rfc4514_string(), issuer=c.issuer.rfc4514_string(),
        not_before=c.not_valid_before_utc, not_after=c.not_valid_after_utc,
        valid_now=c.not_valid_before_utc <= at <= c.not_valid_after_utc,
    )


def version_of(view: RegistryView) -> str | None:
    shas = [v.sha256 for v in view.loaded.values()]
    return "+".join(s[:16] for s in shas) if len(shas) > 1 else (shas[0] if shas else None)


def freshness_headers(response: Response, fresh: Freshness) -> None:
    # `Age` as an HTTP cache would send it: seconds since the origin last confirmed the copy.
    if fresh.age_seconds is not None:
        response.headers["Age"] = str(int(fresh.age_seconds))
    response.headers["X-Registry-Stale"] = "true" if fresh.stale else "false"


def learner_summary(elmo: Elmo) -> LearnerSummary:
    learner = elmo.learner
    return LearnerSummary(given_names=learner.given_names, family_name=learner.family_name,
                          bday=learner.bday.isoformat() if learner.bday else None)


def issuer_summaries(elmo: Elmo) -> list[IssuerSummary]:
    out: list[IssuerSummary] = []
    for report in elmo.reports:
        issuer = report.issuer
        count = sum(1 for _ in walk(report.learning_opportunity_specifications))
        out.append(IssuerSummary(title=pick_title(issuer.titles), schac=issuer.identifier("schac"),
                                 country=issuer.country, learning_opportunities=count))
    return out


