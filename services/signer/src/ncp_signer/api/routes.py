"""The signer's internal API: POST /v1/sign, GET /v1/certificates, GET /v1/emreg-entry."""

import asyncio
import logging
import time

from fastapi import APIRouter, Request, Response, Security

from ncp_contracts.signer_models import CertificateInfo, CertificateList, EmregEntry
from ncp_runtime import ProblemError, bearer_scheme, problems, state_of
from ncp_signer.api.body import UNAVAILABLE
from ncp_signer.api.jwks import emrex2_properties
from ncp_signer.deps import CallerDep, SignerDep, SignerState, get_caller
from ncp_signer.domain.signing import (
    DocumentRejected,
    SelfCheckFailed,
    SignedDocument,
    schema_version,
    sign_document,
)
from ncp_signer.errors import rejected, signing_unavailable
from ncp_signer.observability import count_signature

# Security(bearer_scheme) documents the bearer token that `CallerDep` checks on every route.
router = APIRouter(prefix="/v1", tags=["signer"], dependencies=[Security(bearer_scheme)])
log = logging.getLogger("ncp_signer.sign")

XML_TYPES = ("application/xml", "text/xml")
_XML_BODY = {"schema": {"type": "string", "description": "an unsigned ELMO 1.7.0 document, UTF-8"}}


@router.post(
    "/sign",
    # The body is read raw (FastAPI would parse a declared model as JSON), so it is declared here.
    openapi_extra={"requestBody": {"required": True, "content": {"application/xml": _XML_BODY,
                                                                "text/xml": _XML_BODY}}},
    response_class=Response,
    responses={
        200: {"content": {"application/xml": {"schema": {"type": "string"}}}, "description": "the signed ELMO bytes",
              "headers": {"X-Signer-Key-Id": {"description": "the key that signed", "schema": {"type": "string"}},
                          "X-Content-SHA256": {"description": "SHA-256 of the signed bytes (hex)",
                                               "schema": {"type": "string"}}}},
        **problems({400: "not well-formed XML, or not UTF-8", 409: "the document is already signed",
                    413: "the document is larger than the limit", 415: "the body is not application/xml",
                    422: "not an ELMO 1.7.0 document (namespace, schema) or not canonicalizable",
                    500: "an unexpected error, or the signature did not verify (nothing was signed)"}),
        503: UNAVAILABLE,
    },
)
async def sign(request: Request, version: str = "1.7.0") -> Response:
    """Sign an unsigned ELMO document (the body, application/xml) valid against `version`'s XSD
    (1.7.0 or 2.0.0); answer the signed bytes."""
    # The caller is checked here rather than as a dependency: FastAPI's dependency resolution is a large part of
    # this route's CPU per request. The router's Security(bearer_scheme) still documents the scheme.
    state = state_of(request, "signer", SignerState)
    caller = await get_caller(request, state)
    try:
        elmo_version = schema_version(version)
    except DocumentRejected as exc:
        raise rejected(exc) from None
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in XML_TYPES and not media_type.endswith("+xml"):
        raise ProblemError(415, "unsupported_media_type", "send the ELMO document as application/xml")
    settings = state.settings
    body = await request.body()
    key = state.keyring.active
    problem = state.keyring.active_problem()
    if key is None or problem is not None:
        raise signing_unavailable(problem or "no active signing key")
    queued = time.perf_counter()
    timing: dict[str, float] = {}

    def work() -> SignedDocument:
        timing["started"] = time.perf_counter()
        return sign_document(body, key, max_bytes=settings.max_document_bytes, version=elmo_version)

    try:
        if key.in_process and len(body) <= settings.sign_inline_max_bytes:
            signed = work()  # cheaper here than the hop to a worker thread (Settings.sign_inline_max_bytes)
        else:
            signed = await asyncio.get_running_loop().run_in_executor(state.executor, work)
    except DocumentRejected as exc:
        raise rejected(exc) from None
    except SelfCheckFailed as exc:
        log.error("signature self-check failed", extra={"caller": caller, "key_id": key.key_id,
                                                        "reason": str(exc)})
        raise ProblemError(500, "self_check_failed", "the signature did not verify; nothing was signed") from None
    except Exception as exc:  # a token gone away, a driver error: not the caller's fault
        log.error("signing failed", extra={"caller": caller, "key_id": key.key_id,
                                           "error": type(exc).__name__})
        raise signing_unavailable("the signing key could not sign") from None
    done = time.perf_counter()
    count_signature(request, signed.key_id, "elmo")
    log.info("signed", extra={
        "caller": caller, "key_id": signed.key_id, "sha256": signed.sha256,
        "size": len(signed.xml), "input_size": len(body),
        "duration_ms": round((done - timing["started"]) * 1000, 2),
        "wait_ms": round((timing["started"] - queued) * 1000, 2),
    })
    return Response(signed.xml, media_type="application/xml",
                    headers={"X-Signer-Key-Id": signed.key_id, "X-Content-SHA256": signed.sha256})


@router.get("/certificates")
async def certificates(state: SignerDep, _: CallerDep) -> CertificateList:
    """The active certificate and the retired ones still published (verify older documents with them)."""
    return CertificateList(certificates=[
        CertificateInfo(
            key_id=c.key_id, pem=c.pem, not_before=c.certificate.not_valid_before_utc,
            not_after=c.certificate.not_valid_after_utc, active=c.active, publish_until=c.publish_until,
        )
        for c in state.keyring.published()
    ])


@router.get("/emreg-entry", response_model_exclude_none=True, responses={
    **problems({404: "this node's EMREG entry is not configured"}), 503: UNAVAILABLE,
})
async def emreg_entry(state: SignerDep, _: CallerDep) -> EmregEntry:
    """The EMREG `emps` entry for this node, to hand to the registry operator."""
    settings = state.settings
    missing = [name for name, value in (
        ("NCP_SIGNER_EMREG_URL", settings.emreg_url), ("NCP_SIGNER_EMREG_ACRONYM", settings.emreg_acronym),
        ("NCP_SIGNER_EMREG_COUNTRY_CODE", settings.emreg_country_code),
    ) if not value]
    if missing:
        raise ProblemError(404, "emreg_not_configured", f"set {', '.join(missing)}")
    key = state.keyring.active
    if key is None:
        raise signing_unavailable(state.keyring.error or "no active signing key")
    pem = next(c.pem for c in state.keyring.certificates if c.active)
    return EmregEntry(
        url=settings.emreg_url or "", acronym=settings.emreg_acronym or "",
        country_code=settings.emreg_country_code or "", institutions=settings.emreg_institutions, pub_key=pem,
        **emrex2_properties(state),
    )
