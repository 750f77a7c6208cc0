"""The "EMREX 2.0" button: authorization request with PKCE, then on the callback the token call, /results
(X-Signature and XMLDSig checked) and the same transcript page as EMREX 1."""

import base64
import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from emrex_elmo import ElmoError, from_xml
from ncp_demo_client.deps import Emrex2NodeDep, FlowsDep, SettingsDep, TemplatesDep
from ncp_demo_client.domain.emrex2 import authorization_request
from ncp_demo_client.domain.transcript import transcript_of
from ncp_demo_client.errors import DemoClientError, SessionMismatchError
from ncp_demo_client.web.flows import FLOW_TTL_S

router = APIRouter(prefix="/emrex2")
log = logging.getLogger("ncp.demo.emrex2")
COOKIE = "ncp_demo_emrex2"
@router.post("/start")
async def start(settings: SettingsDep, _: Emrex2NodeDep, flows: FlowsDep) -> Response:
    handle, flow = flows.start()
    url = authorization_request(settings.emrex2_authorization_url, client_id=settings.emrex2_client_id,
                                redirect_uri=settings.emrex2_redirect_uri, state=flow.state, pkce=flow.pkce)
    response = RedirectResponse(url, status_code=303)
    # The callback is a top-level GET from the node: SameSite=Lax cookies come along.
    response.set_cookie(COOKIE, handle, max_age=FLOW_TTL_S, httponly=True, secure=settings.cookie_secure,
                        samesite="lax", path="/emrex2")
    return response


@router.get("/callback", response_class=HTMLResponse)
async def callback(
    request: Request, settings: SettingsDep, templates: TemplatesDep, node: Emrex2NodeDep, flows: FlowsDep,
    code: Annotated[str, Query(max_length=512)] = "", state: Annotated[str, Query(max_length=512)] = "",
    error: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    context: dict[str, object] = {
        "protocol": "EMREX 2.0", "return_code": error or "", "known_code": True, "ok": not error,
        "return_message": "", "transcript": None, "verification": None, "verify_error": None, "problem": None,
        "elmo_bytes": 0, "gateway_url": settings.gateway_url, "signature_kid": None, "no_results": False,
        "received_elmo": None, "x_signature": None,
    }
    status = 200
    try:
        flow = flows.take(request.cookies.get(COOKIE))
        if flow is None or not hmac.compare_digest(flow.state.encode(), state.encode()):
            raise SessionMismatchError("This answer does not belong to an EMREX 2.0 import started in this browser.")
        if not error:
            if not code:
                raise SessionMismatchError("The node's answer carries neither a code nor an error.")
            token = await node.token(code, redirect_uri=settings.emrex2_redirect_uri, pkce=flow.pkce)
            results = await node.results(token.access_token)
            if results.status == 204:
                context["no_results"] = True
            else:
                context["elmo_bytes"] = len(results.body)
                context["signature_kid"] = results.kid
                context["verification"] = results.xml_signature
                # What arrived, byte for byte, with its X-Signature: anyone can check both again.
                context["received_elmo"] = "data:application/xml;base64," + base64.b64encode(results.body).decode()
                context["x_signature"] = results.signature
                try:
                    context["transcript"] = transcript_of(from_xml(results.body))
                except ElmoError as exc:
                    raise DemoClientError(f"The ELMO document could not be read: {exc}") from None
        log.info("emrex2 answer received", extra={"outcome": "error" if error else "ok"})
    except DemoClientError as exc:
        status = 400
        context["problem"] = {"code": exc.code, "detail": exc.detail}
        log.info("emrex2 answer refused", extra={"code": exc.code})
    response = templates.TemplateResponse(request, "result.html", context, status_code=status)
    response.delete_cookie(COOKIE, path="/emrex2", secure=settings.cookie_secure, httponly=True, samesite="lax")
    return response
