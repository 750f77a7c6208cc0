"""GET /v1/jwks (the published signing keys as a JWK Set) and the EMREX 2.0 members of the EMREG entry."""

from typing import Any

from fastapi import APIRouter, Security

from ncp_contracts.signer_models import Jwks
from ncp_runtime import ProblemError, bearer_scheme
from ncp_signer.api.body import UNAVAILABLE
from ncp_signer.deps import CallerDep, SignerDep, SignerState
from ncp_signer.domain.jose import jwk
from ncp_signer.domain.keys import key_type_of
from ncp_signer.errors import signing_unavailable

router = APIRouter(prefix="/v1", tags=["signer"], dependencies=[Security(bearer_scheme)])


def published_jwks(state: SignerState) -> Jwks:
    """Every published certificate's key (the active one first): verifiers of older responses still find theirs."""
    published = sorted(state.keyring.published(), key=lambda c: not c.active)
    return Jwks(keys=[jwk(c.certificate, key_type_of(c.certificate.public_key())) for c in published])


@router.get("/jwks", responses={503: UNAVAILABLE})
async def jwks(state: SignerDep, _: CallerDep) -> Jwks:
    """The JWK Set of the published signing keys; `kid` is each key's RFC 7638 thumbprint."""
    if state.keyring.active is None and not state.keyring.certificates:
        raise signing_unavailable(state.keyring.error or "no signing key configured")
    return published_jwks(state)


def emrex2_properties(state: SignerState) -> dict[str, Any]:
    """The EMREX 2.0 members of the EMREG entry, or none when the OAuth endpoints are not configured."""
    settings = state.settings
    if not settings.emreg_authorization_url:
        return {}
    if not settings.emreg_supported_data_formats:
        raise ProblemError(404, "emreg_not_configured", "set NCP_SIGNER_EMREG_SUPPORTED_DATA_FORMATS")
    return {
        "authorization_url": settings.emreg_authorization_url, "token_url": settings.emreg_token_url,
        "resource_url": settings.emreg_resource_url,
        "supported_data_formats": settings.emreg_supported_data_formats, "jwks": published_jwks(state),
    }
