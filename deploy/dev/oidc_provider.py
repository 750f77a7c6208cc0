"""Development OpenID provider for `make run` and the e2e tests: PyPI `oidc-provider-mock` on loopback.

Unlike the package's own command, clients must be registered: the gateway's client id, secret and
redirect URIs are registered at start from files, so a wrong secret or redirect URI fails as it
would at a real provider. The demo learners are one-click users on the login form.

    python deploy/dev/oidc_provider.py --port 8010 --client-id-file ID --client-secret-file SECRET \
        --redirect-uri http://127.0.0.1:8000/auth/callback
"""

import argparse
import json
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import flask
import uvicorn
from oidc_provider_mock import _app as provider_internals, app as make_app
from oidc_provider_mock._storage import Client, User, storage

DEMO_USERS = [
    {"sub": "demo-learner-1", "given_name": "Aino", "family_name": "Demo", "birthdate": "2000-01-15",
     "email": "demo-learner-1@example.org"},
    {"sub": "demo-learner-empty", "given_name": "Eero", "family_name": "Empty", "birthdate": "1999-05-05",
     "email": "demo-learner-empty@example.org"},
]


def _jwt_config_with_the_loaded_key(self: object, grant: object, client: object = None) -> dict[str, object]:
    # The package hands authlib the private key as a JWK dict, which authlib turns back into a key for every
    # ID token (~30 ms of RSA key checks, most of this provider's CPU per flow); the key object signs alike.
    return {
        "key": storage.jwk,
        "alg": provider_internals._JWS_ALG,
        "exp": int(self._token_max_mage.total_seconds()),  # type: ignore[attr-defined]
        "iss": flask.request.host_url.rstrip("/"),
    }


provider_internals.OpenIDCode.get_jwt_config = _jwt_config_with_the_loaded_key  # type: ignore[method-assign,assignment]


def build(client_id: str, client_secret: str, redirect_uris: list[str], users: list[dict[str, str]],
          token_max_age: int = 600) -> flask.Flask:
    app = make_app(
        require_client_registration=True, require_nonce=True, issue_refresh_token=False,
        access_token_max_age=timedelta(seconds=token_max_age),
        user_claims=[User(sub=u["sub"], claims={k: v for k, v in u.items() if k != "sub"}) for u in users],
    )
    # The package keeps its storage per app, reachable in a request context (flask.g).
    with app.test_request_context("/"):
        app.preprocess_request()
        flask.g.oidc_provider_mock_storage.store_client(Client(
            id=client_id, secret=client_secret, redirect_uris=redirect_uris,
            allowed_scopes=Client.SCOPES_SUPPORTED, token_endpoint_auth_method="client_secret_basic",  # noqa: S106
        ))
    @app.after_request
    def keep_state_on_errors(response: flask.Response) -> flask.Response:
        # RFC 6749 4.1.2.1: an error answer carries the request's state; the package drops it on "Deny",
        # which would make a cancelled login look like a forged one to the client.
        request = flask.request
        location = response.headers.get("Location", "")
        if (request.path == "/oauth2/authorize" and response.status_code in (302, 303) and "state" in request.args
                and "error=" in location and "state=" not in location):
            separator = "&" if "?" in location else "?"
            response.headers["Location"] = location + separator + urlencode({"state": request.args["state"]})
        return response

    # The package turns on Flask debug mode and the interactive debugger; never expose that.
    app.debug = False
    app.wsgi_app = app.wsgi_app.app  # type: ignore[attr-defined]
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("NCP_OIDC_PORT", "8010")))
    client = parser.add_mutually_exclusive_group(required=True)
    client.add_argument("--client-id-file", type=Path)
    client.add_argument("--client-id")
    parser.add_argument("--client-secret-file", type=Path, required=True)
    parser.add_argument("--redirect-uri", action="append", required=True)
    parser.add_argument("--users-json", type=Path, help="a JSON list of users (objects with sub and claims)")
    parser.add_argument("--token-max-age", type=int, default=600)
    args = parser.parse_args(argv)
    users = json.loads(args.users_json.read_text()) if args.users_json else DEMO_USERS
    client_id = args.client_id or args.client_id_file.read_text().strip()
    app = build(client_id, args.client_secret_file.read_text().strip(),
                args.redirect_uri, users, args.token_max_age)
    # authlib refuses plain http unless told; this provider only ever listens on loopback.
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    uvicorn.run(app, interface="wsgi", host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
