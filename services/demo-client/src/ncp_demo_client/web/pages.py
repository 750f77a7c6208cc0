import hmac
import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from emrex_elmo import ElmoError, from_element, parse_xml, signed_content, transport
from ncp_contracts import ServiceError
from ncp_contracts.registry_models import VerifyRequest, VerifyResult
from ncp_demo_client.deps import Emrex2ConfiguredDep, RegistryDep, SettingsDep, TemplatesDep
from ncp_demo_client.domain.transcript import Transcript, transcript_of
from ncp_demo_client.errors import DemoClientError, ElmoUnreadableError, SessionMismatchError

router = APIRouter()
log = logging.getLogger("ncp.demo")

OK_CODES = {"NCP_OK", "EMP_OK"}
KNOWN_CODES = OK_CODES | {f"{p}_{c}" for p in ("NCP", "EMP") for c in ("ERROR", "NO_RESULTS", "CANCEL")}
# EMREX sessionIds are short; anything this long is not ours.
MAX_SESSION_ID = 128


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, settings: SettingsDep, templates: TemplatesDep,
                emrex2: Emrex2ConfiguredDep) -> Response:
    return templates.TemplateResponse(request, "index.html", {"gateway_url": settings.gateway_url,
                                                              "emrex2": emrex2})


@router.post("/start", response_class=HTMLResponse)
async def start(request: Request, settings: SettingsDep, templates: TemplatesDep) -> Response:
    """A new EMREX session: remember its id in a cookie and post the student on to the node."""
    session_id = str(uuid.uuid4())
    response = templates.TemplateResponse(request, "start.html", {
        "gateway_url": settings.gateway_url, "session_id": session_id, "return_url": settings.return_url,
    })
    response.set_cookie(
        settings.cookie_name, session_id, max_age=3600, httponly=True, secure=settings.cookie_secure,
        samesite=settings.effective_samesite,  # type: ignore[arg-type]
        path="/",
    )
    return response


def _check_session(cookie: str | None, posted: str) -> None:
    if not cookie:
        raise SessionMismatchError("There is no import in progress in this browser (no session cookie).")
    if len(posted) > MAX_SESSION_ID or not hmac.compare_digest(cookie.encode(), posted.encode()):
        raise SessionMismatchError("The answer names a different session than the one this browser started.")


async def _verify(registry: RegistryDep, node_url: str, elmo: str) -> tuple[VerifyResult | None, str | None]:
    try:
        return await registry.verify(VerifyRequest(node_url=node_url, elmo=elmo)), None
    except ServiceError as exc:
        log.warning("verification unavailable", extra={"code": exc.code, "status": exc.status})
        return None, f"The registry-cache could not verify the signature: {exc.detail}"


@router.post("/return", response_class=HTMLResponse)
async def receive(
    request: Request, settings: SettingsDep, templates: TemplatesDep, registry: RegistryDep,
    session_id: Annotated[str, Form(alias="sessionId")] = "",
    return_code: Annotated[str, Form(alias="returnCode")] = "",
    return_message: Annotated[str, Form(alias="returnMessage")] = "",
    elmo: Annotated[str, Form()] = "",
) -> Response:
    """The node's answer: check it belongs to us, decode it, verify it, show it."""
    context: dict[str, object] = {
        "return_code": return_code[:64], "known_code": return_code in KNOWN_CODES,
        "ok": return_code in OK_CODES, "return_message": return_message[:2000],
        "transcript": None, "verification": None, "verify_error": None, "problem": None,
        "elmo_bytes": len(elmo), "gateway_url": settings.gateway_url,
    }
    status = 200
    try:
        _check_session(request.cookies.get(settings.cookie_name), session_id)
        transcript: Transcript | None = None
        if elmo:
            try:
                xml = transport.decode(elmo)
                # What the signature covers and nothing else (the registry-cache verifies these same bytes): a
                # comment splitting a grade or a ds:Object are outside the digest and must not reach the page.
                transcript = transcript_of(from_element(signed_content(parse_xml(xml))))
            except ElmoError as exc:
                raise ElmoUnreadableError(f"The elmo value could not be read: {exc}") from None
            context["transcript"] = transcript
            context["verification"], context["verify_error"] = await _verify(
                registry, settings.verify_node_url, elmo
            )
        log.info("answer received", extra={"return_code": return_code if return_code in KNOWN_CODES else "other",
                                           "has_elmo": bool(elmo)})
    except DemoClientError as exc:
        status = 400
        context["problem"] = {"code": exc.code, "detail": exc.detail}
        log.info("answer refused", extra={"code": exc.code})
    response = templates.TemplateResponse(request, "result.html", context, status_code=status)
    if status == 200:
        # One answer per session: a replayed form post finds no cookie.
        response.delete_cookie(settings.cookie_name, path="/", secure=settings.cookie_secure,
                               httponly=True, samesite=settings.effective_samesite)  # type: ignore[arg-type]
    return response
