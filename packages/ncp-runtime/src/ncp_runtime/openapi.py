"""Makes a service's OpenAPI document say what the service does.

FastAPI documents a 422 `HTTPValidationError` that our handlers never send (they send a 400 problem), and knows
nothing of the problem+json media type, our bearer scheme, or the statuses every route shares. The document is
generated once and then corrected here, so each route declares only what is its own (`responses=problems(...)`).
"""

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.security import HTTPBearer

from .problems import PROBLEM_JSON, Problem

BEARER_SCHEME_NAME = "bearerAuth"
# auto_error=False: the scheme only documents; ncp_runtime.auth answers missing or wrong tokens.
bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name=BEARER_SCHEME_NAME,
    description="The calling service's token (one per caller, from a secret file).",
)
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def problem(description: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One problem+json response for `responses=`; `headers` maps a response header to its description."""
    response: dict[str, Any] = {"description": description, "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}}
    if headers:
        response["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                               for name, text in headers.items()}
    return response


def problems(spec: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """`responses=problems({404: "no such node", 409: "a refresh is running"})`."""
    return {status: problem(description) for status, description in spec.items()}


_SHARED = {
    400: "the request is malformed: bad JSON, a wrong type, text that cannot be encoded, a URL that is not UTF-8 "
         "(or not valid HTTP at all: then the server answers in text/plain)",
    401: "no bearer token, or an unknown one",
    403: "the caller may not use this operation",
    500: "an unexpected error; `error_id` names the log line",
}


def _correct(doc: dict[str, Any]) -> None:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _HTTP_METHODS:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            generated = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if generated.get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
            shared = [400, 500]  # 400: any URL can be refused (ncp_runtime.url_text), any body be malformed
            if operation.get("security"):
                shared += [401, 403]
            for status in shared:
                responses.setdefault(str(status), problem(_SHARED[status]))
            for code, response in responses.items():
                if code[0] in "45" and not response.get("content"):  # declared without a body: ours is a problem
                    response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
            # A request that is not valid HTTP (a malformed Content-Length, say) never reaches the app: the
            # server itself refuses it with a plain-text 400.
            responses["400"]["content"].setdefault("text/plain", {"schema": {"type": "string"}})
            if "401" in responses:
                responses["401"].setdefault("headers", {})["WWW-Authenticate"] = {
                    "description": "the Bearer challenge", "schema": {"type": "string"}}


def install_openapi(app: FastAPI) -> None:
    """Serve a corrected OpenAPI document at the app's `openapi_url`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description,
                              routes=app.routes, servers=app.servers)
            _correct(doc)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
