"""An existing SIS HTTP/JSON API, read through the declarative mapping of the tenants file."""

import json
from datetime import UTC, datetime

from emrex_elmo import Issuer
from emrex_elmo.model import GradingScheme, LocalizedText
from ncp_sis_adapter.config import RestAdapterConfig
from ncp_sis_adapter.domain.jsonpath import MISSING, resolve
from ncp_sis_adapter.domain.mapping import build_report
from ncp_sis_adapter.domain.records import IdentifierKind, SourceAnswer
from ncp_sis_adapter.domain.rest_mapping import Skip, map_learner, map_records
from ncp_sis_adapter.domain.sources import SourceBadData

from .http import get, make_auth, make_client

MAX_BYTES = 20_000_000


class RestSource:
    def __init__(self, config: RestAdapterConfig, issuer: Issuer, *, timeout: float, institution: str) -> None:
        self.config = config
        self.issuer = issuer
        self.institution = institution
        self.url = config.base_url.rstrip("/") + config.path
        self.client = make_client(timeout, make_auth(config.auth))
        self.schemes = [
            GradingScheme(local_id=s.local_id,
                          descriptions=[LocalizedText(value=v, lang=k) for k, v in s.descriptions.items()])
            for s in config.grading_schemes
        ]

    async def lookup(self, kind: IdentifierKind, value: str) -> SourceAnswer | None:
        param = self.config.lookup.get(kind)
        if param is None:
            return None  # this SIS cannot be asked by that kind of identifier
        body = await get(self.client, self.url, {param: value}, MAX_BYTES)
        if body is None:
            return None
        try:
            document = json.loads(body)
        except ValueError:
            raise SourceBadData("the SIS answered malformed JSON") from None
        if document is None:
            return None
        mapping = self.config.mapping
        try:
            learner = map_learner(document, mapping.learner)
        except Skip as skip:
            raise SourceBadData(f"learner: field {skip.issue.field!r}: {skip.issue.reason}",
                                field=skip.issue.field) from None
        items = resolve(document, mapping.records)
        if items is MISSING or items is None:
            items = []
        if not isinstance(items, list):
            raise SourceBadData(f"records at {mapping.records!r} is not a list", field="records")
        records, issues = map_records(items, mapping.record)
        report, tree_issues = build_report(self.issuer, records, self.schemes, datetime.now(UTC))
        return SourceAnswer(learner=learner, reports=[report], issues=issues + tree_issues)

    async def aclose(self) -> None:
        await self.client.aclose()
