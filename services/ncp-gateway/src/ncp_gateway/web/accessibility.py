"""`GET /accessibility`: the accessibility statement (EU Web Accessibility Directive 2016/2102, model statement of
Implementing Decision 2018/1523), in the student's language; who to contact is configured."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ncp_gateway.deps import GatewayDep

router = APIRouter()


@router.get("/accessibility", name="accessibility_statement")
async def accessibility_statement(request: Request, gw: GatewayDep) -> Response:
    settings = gw.settings
    return gw.page(request, "accessibility.html", {
        "organisation": settings.accessibility_organisation,
        "contact_email": settings.accessibility_contact_email,
        "contact_url": settings.accessibility_contact_url,
        "enforcement_url": settings.accessibility_enforcement_url,
        "prepared": settings.accessibility_statement_date, "reviewed": settings.accessibility_review_date,
        "site": settings.public_url or str(request.base_url).rstrip("/"),
    })
