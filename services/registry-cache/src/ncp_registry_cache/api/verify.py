import anyio
from fastapi import APIRouter, Response

from ncp_contracts.registry_models import VerifyRequest, VerifyResult
from ncp_registry_cache.deps import SettingsDep, ViewDep
from ncp_registry_cache.domain.verification import document_bytes, verify_document
from ncp_runtime import ProblemError, problems

from .views import NOT_LOADED, freshness_headers, issuer_summaries, learner_summary, now

router = APIRouter(prefix="/v1", tags=["verify"])


@router.post("/verify", responses={
    **problems({400: "bad XML, bad wire value, neither or both given, or a malformed request",
                413: "the request or the document is larger than the limit",
                422: "the node URL is not registered"}),
    **NOT_LOADED,
})
async def verify_elmo(body: VerifyRequest, view: ViewDep, settings: SettingsDep, response: Response) -> VerifyResult:
    """Does the document carry a valid signature by the node at `node_url` (its EMREG certificates)?"""
    assert view.index is not None
    node = view.index.lookup(body.node_url)
    if node is None:
        raise ProblemError(422, "unknown_node", "node_url: no registered node has this URL or origin")
    limit = settings.max_document_bytes
    data = document_bytes(body.xml, body.elmo, max_bytes=limit)
    # Canonicalisation and RSA are CPU work: keep the event loop free for other requests.
    at = now()
    result = await anyio.to_thread.run_sync(
        lambda: verify_document(data, node, allow_sha1=settings.allow_sha1, max_bytes=limit, at=at)
    )
    freshness_headers(response, view.freshness(at))
    return VerifyResult(
        valid=result.valid, reason=result.reason, reason_code=result.reason_code, node_url=node.url,
        node_acronym=node.acronym,
        matched_certificate_sha256=result.certificate.sha256 if result.certificate else None,
        signature_method=result.signature_method,
        learner=learner_summary(result.elmo) if result.elmo else None,
        issuers=issuer_summaries(result.elmo) if result.elmo else [],
    )
