"""POST /v1/sign-pdf: a PAdES (baseline B-B) signature over a PDF with the node's active key."""

import asyncio
import logging

from fastapi import APIRouter, Request, Response, Security

from ncp_runtime import ProblemError, bearer_scheme, problems
from ncp_signer.adapters.pdf_signer import PdfRejected, SignedPdf, sign_pdf
from ncp_signer.api.body import UNAVAILABLE
from ncp_signer.deps import CallerDep, SignerDep
from ncp_signer.errors import signing_unavailable
from ncp_signer.observability import count_signature

router = APIRouter(prefix="/v1", tags=["signer"], dependencies=[Security(bearer_scheme)])
log = logging.getLogger("ncp_signer.pdf")
PDF = "application/pdf"


@router.post(
    "/sign-pdf",
    # The body is read raw, so it is declared here.
    openapi_extra={"requestBody": {"required": True, "content": {PDF: {"schema": {"type": "string",
                                                                               "format": "binary"}}}}},
    response_class=Response,
    responses={
        200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}},
              "description": "the PDF with a PAdES B-B signature added",
              "headers": {"X-Signer-Key-Id": {"description": "the key that signed", "schema": {"type": "string"}},
                          "X-Content-SHA256": {"description": "SHA-256 of the signed PDF (hex)",
                                               "schema": {"type": "string"}}}},
        **problems({400: "not a PDF that can be signed", 413: "the document is larger than the limit",
                    415: "the body is not application/pdf"}),
        503: UNAVAILABLE,
    },
)
async def sign_pdf_document(request: Request, state: SignerDep, caller: CallerDep) -> Response:
    """Sign a PDF (the body, application/pdf) in an incremental update; answer the signed PDF."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != PDF:
        raise ProblemError(415, "unsupported_media_type", "send the document as application/pdf")
    body = await request.body()
    key = state.keyring.active
    problem = state.keyring.active_problem()
    if key is None or problem is not None:
        raise signing_unavailable(problem or "no active signing key")

    def work() -> SignedPdf:
        return sign_pdf(body, key)

    try:
        signed = await asyncio.get_running_loop().run_in_executor(state.executor, work)
    except PdfRejected as exc:
        raise ProblemError(400, "invalid_pdf", str(exc)) from None
    except Exception as exc:  # a token gone away, a driver error: not the caller's fault
        log.error("PDF signing failed", extra={"caller": caller, "key_id": key.key_id, "error": type(exc).__name__})
        raise signing_unavailable("the signing key could not sign") from None
    count_signature(request, signed.key_id, "pdf")
    log.info(
        "signed PDF",
        extra={
            "caller": caller,
            "key_id": signed.key_id,
            "sha256": signed.sha256,
            "size": len(signed.pdf),
            "input_size": len(body),
        },
    )
    return Response(
        signed.pdf, media_type=PDF, headers={"X-Signer-Key-Id": signed.key_id, "X-Content-SHA256": signed.sha256}
    )
