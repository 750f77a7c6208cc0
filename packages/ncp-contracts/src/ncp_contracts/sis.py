"""Contract of the sis-adapter: a learner's results from every institution of a tenant."""

import httpx

from ._http import send
from .sis_models import InstitutionWarning, LearnerIdentity, QueryOptions, ResultsAnswer, ResultsQuery

__all__ = ["InstitutionWarning", "LearnerIdentity", "QueryOptions", "ResultsAnswer", "ResultsQuery", "SisClient"]


class SisClient:
    service = "sis-adapter"

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def query(self, query: ResultsQuery) -> ResultsAnswer:
        """Raises ServiceUnavailable when every institution failed (the gateway's NCP_ERROR)."""
        request = self.http.build_request(
            "POST", "/v1/results/query", content=query.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        return ResultsAnswer.model_validate_json((await send(self.http, self.service, request)).content)
