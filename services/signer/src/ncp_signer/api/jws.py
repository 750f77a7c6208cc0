"""EMREX 2.0 on the signer: POST /v1/jws, a detached JWS over the body bytes (X-Signature of /results)."""

import asyncio
import logging

from fastapi import APIRouter, Request, Security

from ncp_contracts.signer_models import DetachedSignature
from ncp_runtime import bearer_scheme, problems
from ncp_signer.api.body import UNAVAILABLE
from ncp_signer.deps import CallerDep, SignerDep
from ncp_signer.domain.jose import DetachedJws, sign_detached
from ncp_signer.errors import signing_unavailable

router = APIRouter(prefix="/v1", tags=["signer"], dependencies=[Security(bearer_scheme)])
log = logging.getLogger("ncp_signer.jws")


@router.post(
    "/jws",
    # Any bytes: the JWS covers exactly what was sent, whatever its media type (documented as octet-stream).
    # An empty body is signed too (a JWS may have an empty payload), so the body is optional.
    openapi_extra={"requestBody": {"required": False, "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
    responses={**problems({413: "the body is over the signer's size limit"}), 503: UNAVAILABLE},
)
async def jws(request: Request, state: SignerDep, caller: CallerDep) -> DetachedSignature:
    """Sign the exact body bytes (any media type) with the active key; answer a compact JWS with the
    payload detached (RFC 7515 Appendix F), its `alg` and the `kid` it names in GET /v1/jwks."""
    body = await request.body()
    key = state.keyring.active
    problem = state.keyring.active_problem()
    if key is None or problem is not None:
        raise signing_unavailable(problem or "no active signing key")

    def work() -> DetachedJws:
        return sign_detached(body, key.key_type, key.certificate, key.sign)

    try:
        signed = await asyncio.get_running_loop().run_in_executor(state.executor, work)
    except Exception as exc:  # a token gone away, a driver error: not the caller's fault
        log.error("JWS signing failed", extra={"caller": caller, "key_id": key.key_id,
                                               "error": type(exc).__name__})
        raise signing_unavailable("the signing key could not sign") from None
    log.info("jws signed", extra={"caller": caller, "key_id": key.key_id, "kid": signed.kid,
                                  "input_size": len(body)})
    return DetachedSignature(signature=signed.compact, alg=signed.alg, kid=signed.kid)
