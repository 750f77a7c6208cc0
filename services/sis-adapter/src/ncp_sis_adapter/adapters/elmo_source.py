"""An upstream that answers a ready ELMO document (as national registers do), parsed with emrex_elmo."""

from emrex_elmo import ElmoError, Issuer, from_xml
from ncp_sis_adapter.config import ElmoAdapterConfig
from ncp_sis_adapter.domain.records import IdentifierKind, SourceAnswer
from ncp_sis_adapter.domain.sources import SourceBadData

from .http import get, make_auth, make_client


class ElmoSource:
    def __init__(self, config: ElmoAdapterConfig, issuer: Issuer, *, timeout: float) -> None:
        self.config = config
        self.issuer = issuer
        self.client = make_client(timeout, make_auth(config.auth))

    async def lookup(self, kind: IdentifierKind, value: str) -> SourceAnswer | None:
        param = self.config.lookup.get(kind)
        if param is None:
            return None
        body = await get(self.client, self.config.url, {param: value}, self.config.max_bytes)
        if body is None or not body.strip():
            return None
        try:
            elmo = from_xml(body)  # the hardened parser: no entities, no network, size limits
        except ElmoError as exc:
            raise SourceBadData(f"the upstream ELMO could not be read ({exc.code})") from None
        reports = elmo.reports
        if self.config.override_issuer:
            reports = [r.model_copy(update={"issuer": self.issuer}) for r in reports]
        return SourceAnswer(learner=elmo.learner, reports=list(reports))

    async def aclose(self) -> None:
        await self.client.aclose()
